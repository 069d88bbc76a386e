/**
 * Compiles API objects into the scheduler's shapes once: node facts and allocatable, a task
 * template's requests, constraints, tolerations, affinity and spread paths. Everything that can
 * fail to parse fails here, so the placement loop never throws.
 */
import { parseConstraint } from '../api/constraint.js';
import type { NodeObject, ServicePort, ServiceSpec, Task } from '../api/kinds.js';
import { diskPressureMessage, runtimeNotReadyReason } from '../api/node-conditions.js';
import { parseBytes, parseCpuMillis } from '../api/quantity.js';
import type { NodeInfo, NodeUsage, PlacementAffinity, PlacementSpec, SpreadPath, Strategy } from './types.js';

/** The id a task goes by in results and seeds: `namespace/name`. */
export function taskId(t: Task): string {
  return `${t.metadata.namespace}/${t.metadata.name}`;
}

/** The key service spread counts by: `namespace/service`. */
export function serviceKey(t: Task): string {
  return `${t.metadata.namespace}/${t.spec.service}`;
}

/** One number per (protocol, host port), so a node's ports fit in a Map<number, number>. */
export function portKey(port: number, protocol: ServicePort['protocol'] | undefined): number {
  return protocol === 'udp' ? port + 65536 : port;
}

/** Renders a port key for people: `8080`, `53/udp`. */
export function formatPortKey(k: number): string {
  return k >= 65536 ? `${k - 65536}/udp` : String(k);
}

/** A fresh, empty usage record. */
export function emptyUsage(): NodeUsage {
  return { cpuMillis: 0, memoryBytes: 0, pids: 0, ports: new Map(), tasks: 0 };
}

function capacity(parse: (q: string) => number, q: string | undefined): number {
  if (q === undefined || q === '') return Infinity;
  try {
    return parse(q);
  } catch {
    return 0; // a node that reports garbage gets nothing placed on it
  }
}

/** Compiles a Node object, attaching the usage record kept for its name. */
export function compileNode(n: NodeObject, usage: NodeUsage): NodeInfo {
  const a = n.status?.allocatable;
  const hb = n.status?.heartbeat === undefined ? NaN : Date.parse(n.status.heartbeat);
  return {
    name: n.metadata.name,
    role: n.spec?.role ?? 'worker',
    labels: n.metadata.labels ?? {},
    state: n.status?.state ?? 'unknown',
    availability: n.spec?.availability ?? 'active',
    heartbeatMs: Number.isNaN(hb) ? undefined : hb,
    taints: n.spec?.taints ?? [],
    ...(runtimeNotReadyReason(n) !== undefined ? { runtimeNotReady: runtimeNotReadyReason(n) } : {}),
    ...(diskPressureMessage(n) !== undefined ? { diskPressure: diskPressureMessage(n) } : {}),
    cpuMillis: capacity(parseCpuMillis, a?.cpu),
    memoryBytes: capacity(parseBytes, a?.memory),
    pids: a?.pids ?? Infinity,
    usage,
  };
}

/** What a placed task holds on its node. */
export interface TaskHold {
  node: string;
  service: string;
  cpuMillis: number;
  memoryBytes: number;
  pids: number;
  ports: number[];
}

function requestsOf(spec: ServiceSpec | undefined): { cpuMillis: number; memoryBytes: number; pids: number } {
  const r = spec?.resources?.requests ?? {};
  return {
    cpuMillis: r.cpu === undefined || r.cpu === '' ? 0 : parseCpuMillis(r.cpu),
    memoryBytes: r.memory === undefined || r.memory === '' ? 0 : parseBytes(r.memory),
    pids: r.pids ?? 0,
  };
}

function publishedPorts(spec: ServiceSpec | undefined): number[] {
  const out: number[] = [];
  for (const p of spec?.ports ?? []) if (p.publish !== undefined) out.push(portKey(p.publish, p.protocol));
  return out;
}

/** What a task already on a node holds there; unparseable requests count as zero. */
export function holdOf(t: Task): TaskHold {
  let req = { cpuMillis: 0, memoryBytes: 0, pids: 0 };
  try {
    req = requestsOf(t.spec.template);
  } catch {
    // validated on admission; an old task with garbage must not stop the scheduler
  }
  return { node: t.spec.node, service: serviceKey(t), ...req, ports: publishedPorts(t.spec.template) };
}

/** Parses a spread entry: `node.labels.K`, `node.role` or `node.name`. */
export function compileSpreadPath(text: string): SpreadPath {
  const t = text.trim();
  if (t === 'node.name' || t === 'node.hostname') return { text: t, valueOf: (n) => n.name };
  if (t === 'node.role') return { text: t, valueOf: (n) => n.role };
  if (t.startsWith('node.labels.') && t.length > 'node.labels.'.length) {
    const key = t.slice('node.labels.'.length);
    // A node without the label forms its own group, as in Swarm.
    return { text: t, valueOf: (n) => n.labels[key] ?? '' };
  }
  throw new Error(`invalid spread ${JSON.stringify(text)}: expected node.labels.KEY, node.role or node.name`);
}

/** The optional affinity shape, read from a placement that may carry it (see PlacementAffinity). */
function affinityOf(spec: ServiceSpec | undefined): PlacementAffinity {
  const p = spec?.placement as (ServiceSpec['placement'] & { affinity?: PlacementAffinity }) | undefined;
  return p?.affinity ?? {};
}

/**
 * Compiles a task template into its placement needs. Throws a plain Error naming what is wrong
 * (a bad quantity, constraint or spread entry); the caller turns it into an unplaced reason.
 */
export function compileSpec(service: string, spec: ServiceSpec | undefined): PlacementSpec {
  const p = spec?.placement;
  const aff = affinityOf(spec);
  const strategy: Strategy | undefined = p?.strategy;
  return {
    service,
    ...requestsOf(spec),
    ports: publishedPorts(spec),
    constraints: (p?.constraints ?? []).map(parseConstraint),
    affinityRequired: (aff.required ?? []).map(parseConstraint),
    affinityPreferred: (aff.preferred ?? []).map((t) => ({ weight: t.weight, constraint: parseConstraint(t.expression) })),
    tolerations: p?.tolerations ?? [],
    spread: (p?.spread ?? []).map(compileSpreadPath),
    strategy,
  };
}
