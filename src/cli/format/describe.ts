/**
 * The readable multi-line view of `flotilla describe`: metadata, the spec essentials of the
 * kind, its status, related tasks (for a service) and the events about the object. Pure: the
 * command fetches, this renders. Secret values never appear, only their sizes. A task shows its
 * probes' last transitions; a service its revision, rollout and revision history.
 */
import { stringify } from 'yaml';
import type { ApiObject } from '../../api/object.js';
import type { NodeSpec, NodeStatus, Probe, ProbeResult, ServiceSpec, ServiceStatus, TaskSpec, TaskStatus, VolumeSpec, VolumeStatus } from '../../api/kinds.js';
import { columnsFor, formatPorts, formatReplicas, sortForTable, volumeState } from './columns.js';
import { formatAge, formatLabels, orDash, renderTable } from './table.js';
import type { NetworkPolicy } from '../../api/kinds.js';
import type { PolicyTask } from '../../agent/netpol/select.js';
import { policySections } from './netpol.js';

/** Objects shown with the described one. */
export interface Related {
  /** For a service: its tasks. */
  tasks?: ApiObject[];
  /** Events whose spec.involved is this object. */
  events: ApiObject[];
  /** For a NetworkPolicy: every live task of the cluster (what it selects and allows now). */
  policyTasks?: PolicyTask[];
}

type Loose<T> = { [K in keyof T]?: T[K] };
type Field = [label: string, value: string];

/** Renders the whole description. */
export function describeObject(obj: ApiObject, related: Related, now: Date): string {
  const out: string[] = [];
  out.push(...fields(metadataFields(obj, now), 0));
  const body = kindSections(obj, now);
  for (const [title, lines] of body) {
    out.push(`${title}:`);
    out.push(...(lines.length > 0 ? lines : ['  <none>']));
  }
  for (const [title, lines] of related.policyTasks !== undefined ? policySections(obj as NetworkPolicy, related.policyTasks) : []) out.push(`${title}:`, ...lines);
  if (related.tasks !== undefined) {
    out.push('Tasks:');
    out.push(...indentTable(related.tasks, 'Task', now));
  }
  out.push('Events:');
  out.push(...indentTable(related.events, 'Event', now));
  return out.join('\n') + '\n';
}

function metadataFields(obj: ApiObject, now: Date): Field[] {
  const m = obj.metadata;
  const f: Field[] = [
    ['Name', m.name],
    ['Kind', obj.kind],
  ];
  if (m.namespace !== '') f.push(['Namespace', m.namespace]);
  f.push(['Labels', formatLabels(m.labels)]);
  if (m.annotations !== undefined && Object.keys(m.annotations).length > 0) f.push(['Annotations', formatLabels(m.annotations)]);
  f.push(['UID', orDash(m.uid)]);
  f.push(['Created', m.creationTimestamp ? `${m.creationTimestamp} (${formatAge(m.creationTimestamp, now)} ago)` : '-']);
  f.push(['Revision', `${m.revision} (generation ${m.generation})`]);
  return f;
}

function kindSections(obj: ApiObject, now: Date): [string, string[]][] {
  switch (obj.kind) {
    case 'Service': {
      const st = (obj.status ?? {}) as Loose<ServiceStatus>;
      const rollout = st.revision !== undefined || st.rollout !== undefined || (st.history ?? []).length > 0;
      return [
        ['Spec', fields(serviceSpec(obj.spec as Loose<ServiceSpec>), 2)],
        ['Status', fields(serviceStatus(obj), 2)],
        ...(rollout ? [['Rollout', rolloutLines(st, now)] as [string, string[]]] : []),
      ];
    }
    case 'Task': {
      const spec = obj.spec as Loose<TaskSpec>;
      const st = (obj.status ?? {}) as Loose<TaskStatus>;
      const probed = Object.values(spec.template?.probes ?? {}).some((p) => p !== undefined) || st.probes !== undefined;
      return [
        ['Spec', fields(taskSpec(spec), 2)],
        ['Status', fields(taskStatus(st), 2)],
        ...(probed ? [['Probes', probeLines(spec.template?.probes ?? {}, st.probes ?? {}, now)] as [string, string[]]] : []),
      ];
    }
    case 'Node':
      return [
        ['Spec', fields(nodeSpec(obj.spec as Loose<NodeSpec>), 2)],
        ['Status', fields(nodeStatus((obj.status ?? {}) as Loose<NodeStatus>), 2)],
      ];
    case 'Volume': {
      const st = (obj.status ?? {}) as Loose<VolumeStatus>;
      return [
        ['Spec', fields([['Driver', orDash((obj.spec as Loose<VolumeSpec>).driver)]], 2)],
        ['Status', fields([['Node', orDash(st.node)], ['State', volumeState(obj)], ['Path', orDash(st.path)], ['Bound', st.boundAt !== undefined ? formatAge(st.boundAt, now) + ' ago' : '-']], 2)],
      ];
    }
    case 'Secret':
      return [['Data', fields(secretData(obj.spec as SecretView), 2)]];
    default:
      return [
        ['Spec', yamlLines(obj.spec)],
        ...(obj.status !== undefined ? [['Status', yamlLines(obj.status)] as [string, string[]]] : []),
      ];
  }
}

function serviceSpec(s: Loose<ServiceSpec>): Field[] {
  const f: Field[] = [
    ['Mode', orDash(s.mode)],
    ...(s.mode !== 'global' ? [['Replicas', orDash(s.replicas)] as Field] : []),
    ['Image', orDash(s.image)],
  ];
  if (s.command !== undefined) f.push(['Command', s.command.join(' ')]);
  if (s.args !== undefined) f.push(['Args', s.args.join(' ')]);
  if (s.env !== undefined && Object.keys(s.env).length > 0) f.push(['Env', formatLabels(s.env)]);
  f.push(['Ports', formatPorts(s.ports)]);
  const r = s.resources;
  if (r !== undefined) f.push(['Requests', resources(r.requests)], ['Limits', resources(r.limits)]);
  const constraints = s.placement?.constraints ?? [];
  const spread = s.placement?.spread ?? [];
  if (constraints.length > 0) f.push(['Constraints', constraints.join('; ')]);
  if (spread.length > 0) f.push(['Spread', spread.join(', then ')]);
  const probes = Object.entries(s.probes ?? {}).filter(([, v]) => v !== undefined).map(([k]) => k);
  if (probes.length > 0) f.push(['Probes', probes.join(', ')]);
  const u = s.update;
  if (u !== undefined) f.push(['Update', `${u.strategy}, parallelism ${u.parallelism}, on failure ${u.failureAction}`]);
  const mounts = [...(s.secrets ?? []).map((m) => `secret:${m.source} -> ${m.target}`), ...(s.configs ?? []).map((m) => `config:${m.source} -> ${m.target}`),
    ...(s.volumes ?? []).map((m) => `${m.type}:${m.source !== '' ? m.source : m.size ?? ''} -> ${m.target}${m.readOnly ? ' (ro)' : ''}`)];
  if (mounts.length > 0) f.push(['Mounts', mounts.join(', ')]);
  return f;
}

function resources(r: { cpu?: string; memory?: string; pids?: number } | undefined): string {
  const parts = Object.entries(r ?? {}).map(([k, v]) => `${k}=${String(v)}`);
  return parts.length > 0 ? parts.join(' ') : '-';
}

function serviceStatus(o: ApiObject): Field[] {
  const st = (o.status ?? {}) as Loose<ServiceStatus>;
  const f: Field[] = [['Replicas', `${formatReplicas(o)} ready`]];
  if (st.vip !== undefined) f.push(['VIP', st.vip]);
  if (st.observedGeneration !== undefined) f.push(['Observed generation', String(st.observedGeneration)]);
  if (st.crashLoop !== undefined) f.push(['Crash loop', `${st.crashLoop.units} slot(s): ${st.crashLoop.message}`]);
  return f;
}

function taskSpec(s: Loose<TaskSpec>): Field[] {
  return [
    ['Service', orDash(s.service)],
    ['Slot', orDash(s.slot)],
    ['Node', orDash(s.node)],
    ['Image', orDash(s.image)],
    ['Desired state', orDash(s.desiredState)],
  ];
}

function taskStatus(st: Loose<TaskStatus>): Field[] {
  const f: Field[] = [
    ['State', orDash(st.state)],
    ['Ready', st.ready === true ? 'yes' : 'no'],
    ['IP', orDash(st.ip)],
    ['PID', orDash(st.pid)],
  ];
  if (st.readySince !== undefined) f.push(['Ready since', st.readySince]);
  if (st.exitCode !== undefined) f.push(['Exit code', String(st.exitCode)]);
  f.push(['Message', orDash(st.message)], ['Since', orDash(st.timestamp)]);
  return f;
}

const PROBE_ORDER = ['startup', 'readiness', 'liveness'] as const;

/** One row per probe the task has (or has a result of): what it checks, its last transition. */
function probeLines(spec: Partial<Record<string, Probe>>, results: Partial<Record<string, ProbeResult>>, now: Date): string[] {
  const rows = PROBE_ORDER.filter((k) => spec[k] !== undefined || results[k] !== undefined).map((k) => {
    const r = results[k];
    const time = r === undefined ? '-' : `${r.time} (${formatAge(r.time, now)} ago)`;
    return [k, probeCheck(spec[k]), r?.result ?? 'pending', r === undefined ? '-' : String(r.consecutive), time, r?.message ?? '-'];
  });
  return indent(renderTable(['PROBE', 'CHECK', 'RESULT', 'CONSECUTIVE', 'TIME', 'MESSAGE'], rows), 2);
}

/** `http GET :8080/ready every 2s`, `tcp :8080 every 1s`, `exec test -f /tmp/alive every 10s`. */
function probeCheck(p: Probe | undefined): string {
  if (p === undefined) return '-';
  const every = p.periodSeconds !== undefined ? ` every ${p.periodSeconds}s` : '';
  if (p.http !== undefined) return `${p.http.scheme ?? 'http'} GET :${p.http.port}${p.http.path ?? '/'}${every}`;
  if (p.tcp !== undefined) return `tcp :${p.tcp.port}${every}`;
  if (p.exec !== undefined) return `exec ${p.exec.command.join(' ')}${every}`;
  return '-';
}

/** The stable revision, the rollout (state, revision from which, weight, message) and the history. */
function rolloutLines(st: Loose<ServiceStatus>, now: Date): string[] {
  const f: Field[] = [['Revision', orDash(st.revision)]];
  const r = st.rollout;
  if (r !== undefined) {
    f.push(['State', `${r.state} (${r.strategy})`], ['Rolling out', `revision ${r.revision} from ${r.from}`]);
    if (r.weight !== undefined) f.push(['Weight', `${r.weight}%`]);
    if (r.updated !== undefined) f.push(['Updated', String(r.updated)]);
    f.push(['Message', orDash(r.message)]);
    f.push(['Started', `${r.startedAt} (${formatAge(r.startedAt, now)} ago)`]);
    if (r.finishedAt !== undefined) f.push(['Finished', r.finishedAt]);
  }
  const out = fields(f, 2);
  const history = st.history ?? [];
  if (history.length > 0) {
    out.push('  History:');
    const rows = history.map((h) => [String(h.revision), h.image, orDash(h.cause), formatAge(h.createdAt, now)]);
    out.push(...indent(renderTable(['REVISION', 'IMAGE', 'CAUSE', 'AGE'], rows), 4));
  }
  return out;
}

function indent(table: string, n: number): string[] {
  return table.trimEnd().split('\n').map((l) => `${' '.repeat(n)}${l}`);
}

function nodeSpec(s: Loose<NodeSpec>): Field[] {
  const taints = (s.taints ?? []).map((t) => `${t.key}${t.value !== undefined ? `=${t.value}` : ''}:${t.effect}`);
  return [
    ['Role', orDash(s.role)],
    ['Availability', orDash(s.availability)],
    ['Taints', taints.length > 0 ? taints.join(', ') : '<none>'],
  ];
}

function nodeStatus(st: Loose<NodeStatus>): Field[] {
  return [
    ['State', orDash(st.state)],
    ['Address', orDash(st.address)],
    ['Capacity', resources(st.capacity)],
    ['Allocatable', resources(st.allocatable)],
    ['Task subnet', orDash(st.podCIDR)],
    ['Heartbeat', orDash(st.heartbeat)],
    ['Conditions', (st.conditions ?? []).map((c) => `${c.type}=${String(c.status)}${c.reason !== undefined ? ` (${c.reason})` : ''}${c.message !== undefined ? `: ${c.message}` : ''}`).join('; ') || '<none>'],
    ['Message', orDash(st.message)],
    ['Recycle', st.recycle === undefined ? '-' : `${st.recycle.phase} since ${st.recycle.since} (${st.recycle.reason})${st.recycle.message !== undefined ? `: ${st.recycle.message}` : ''}`],
  ];
}

/** A Secret as the API answers it (key names and sizes), or with data (a file's). */
type SecretView = { keys?: Array<{ name: string; bytes: number }>; data?: Record<string, string> } | undefined;

/** Sizes only: the value of a secret is never printed. */
function secretData(s: SecretView): Field[] {
  if (s?.keys !== undefined) return s.keys.map((k) => [k.name, `${k.bytes} bytes`]);
  return Object.entries(s?.data ?? {}).map(([k, v]) => [k, `${Buffer.from(v, 'base64').length} bytes`]);
}

function fields(f: Field[], indent: number): string[] {
  const width = Math.max(0, ...f.map(([l]) => l.length)) + 2;
  const pad = ' '.repeat(indent);
  return f.map(([l, v]) => `${pad}${`${l}:`.padEnd(width)}${v}`);
}

function yamlLines(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return stringify(v, { lineWidth: 0 })
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`);
}

function indentTable(items: ApiObject[], kind: 'Task' | 'Event', now: Date): string[] {
  if (items.length === 0) return ['  <none>'];
  const cols = columnsFor(kind, { wide: false, allNamespaces: false }).filter((c) => c.header !== 'SERVICE' && c.header !== 'OBJECT');
  const rows = sortForTable(kind, items).map((o) => cols.map((c) => c.cell(o, now)));
  return renderTable(
    cols.map((c) => c.header),
    rows,
  )
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`);
}
