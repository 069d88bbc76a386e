/**
 * The readable multi-line view of `flotilla describe`: metadata, the spec essentials of the
 * kind, its status, related tasks (for a service) and the events about the object. Pure: the
 * command fetches, this renders. Secret values never appear, only their sizes.
 */
import { stringify } from 'yaml';
import type { ApiObject } from '../../api/object.js';
import type { NodeSpec, NodeStatus, ServiceSpec, ServiceStatus, TaskSpec, TaskStatus } from '../../api/kinds.js';
import { columnsFor, formatPorts, formatReplicas, sortForTable } from './columns.js';
import { formatAge, formatLabels, orDash, renderTable } from './table.js';

/** Objects shown with the described one. */
export interface Related {
  /** For a service: its tasks. */
  tasks?: ApiObject[];
  /** Events whose spec.involved is this object. */
  events: ApiObject[];
}

type Loose<T> = { [K in keyof T]?: T[K] };
type Field = [label: string, value: string];

/** Renders the whole description. */
export function describeObject(obj: ApiObject, related: Related, now: Date): string {
  const out: string[] = [];
  out.push(...fields(metadataFields(obj, now), 0));
  const body = kindSections(obj);
  for (const [title, lines] of body) {
    out.push(`${title}:`);
    out.push(...(lines.length > 0 ? lines : ['  <none>']));
  }
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

function kindSections(obj: ApiObject): [string, string[]][] {
  switch (obj.kind) {
    case 'Service':
      return [
        ['Spec', fields(serviceSpec(obj.spec as Loose<ServiceSpec>), 2)],
        ['Status', fields(serviceStatus(obj), 2)],
      ];
    case 'Task':
      return [
        ['Spec', fields(taskSpec(obj.spec as Loose<TaskSpec>), 2)],
        ['Status', fields(taskStatus((obj.status ?? {}) as Loose<TaskStatus>), 2)],
      ];
    case 'Node':
      return [
        ['Spec', fields(nodeSpec(obj.spec as Loose<NodeSpec>), 2)],
        ['Status', fields(nodeStatus((obj.status ?? {}) as Loose<NodeStatus>), 2)],
      ];
    case 'Secret':
      return [['Data', fields(secretData(obj.spec as { data?: Record<string, string> }), 2)]];
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
  if (s.mounts !== undefined && s.mounts.length > 0) f.push(['Mounts', s.mounts.map((m) => `${m.type}:${m.source} -> ${m.target}`).join(', ')]);
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
  if (st.exitCode !== undefined) f.push(['Exit code', String(st.exitCode)]);
  f.push(['Message', orDash(st.message)], ['Since', orDash(st.timestamp)]);
  return f;
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
    ['Message', orDash(st.message)],
  ];
}

/** Sizes only: the value of a secret is never printed. */
function secretData(s: { data?: Record<string, string> } | undefined): Field[] {
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
