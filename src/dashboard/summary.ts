/**
 * What the pages show, derived from the live objects: a service's ready/desired, rollouts in
 * progress, the tasks worth listing, a node's tasks and reservations. Pure: unit-tested in
 * test/dashboard/summary.test.ts.
 */
import type { NodeObject, Service, Task } from '../api/kinds.js';
import type { NodeUsage } from '../api/metrics.js';
import { parseCpuQuantity, parseMemoryQuantity } from './format.js';

/** A row of the services table. */
export interface ServiceRow {
  namespace: string;
  name: string;
  mode: string;
  image: string;
  /** Replicas asked for (replicated), or tasks meant to run (global). */
  desired: number;
  running: number;
  ready: number;
  /** A rollout's state and message while it is not complete. */
  rollout?: { state: string; message: string; revision: number };
}

/** A row of the nodes table. */
export interface NodeRow {
  name: string;
  state: string;
  availability: string;
  address: string;
  tasks: number;
  cpuPercent?: number;
  memoryPercent?: number;
  cpuCores?: number;
  cores?: number;
  memoryBytes?: number;
  memoryTotalBytes?: number;
  /** Share of allocatable reserved by the requests of its tasks. */
  cpuReservedPercent?: number;
  memoryReservedPercent?: number;
}

const IN_PROGRESS = new Set(['progressing', 'paused', 'waiting-promotion']);
const TERMINAL = new Set(['complete', 'failed', 'shutdown', 'rejected', 'orphaned']);

/** Tasks meant to run or still on their way (not the history of ended tasks). */
export function isCurrentTask(t: Task): boolean {
  const state = t.status?.state ?? 'new';
  return t.spec.desiredState === 'running' || !TERMINAL.has(state);
}

/** Running with its container up. */
export function isRunning(t: Task): boolean {
  return t.status?.state === 'running';
}

/** Current tasks, by namespace, service, slot, then name. */
export function currentTasks(tasks: readonly Task[]): Task[] {
  return tasks.filter(isCurrentTask).sort((a, b) =>
    a.metadata.namespace.localeCompare(b.metadata.namespace) || a.spec.service.localeCompare(b.spec.service)
    || a.spec.slot - b.spec.slot || a.metadata.name.localeCompare(b.metadata.name));
}

/** Tasks grouped by `namespace/service`. */
export function tasksByService(tasks: readonly Task[]): Map<string, Task[]> {
  const m = new Map<string, Task[]>();
  for (const t of tasks) {
    const k = `${t.metadata.namespace}/${t.spec.service}`;
    const list = m.get(k);
    if (list === undefined) m.set(k, [t]);
    else list.push(t);
  }
  return m;
}

/** One row per service, by namespace and name. */
export function serviceRows(services: readonly Service[], tasks: readonly Task[]): ServiceRow[] {
  const byService = tasksByService(tasks);
  return [...services].sort((a, b) => a.metadata.namespace.localeCompare(b.metadata.namespace) || a.metadata.name.localeCompare(b.metadata.name)).map((s) => {
    const mine = (byService.get(`${s.metadata.namespace}/${s.metadata.name}`) ?? []).filter((t) => t.spec.desiredState === 'running');
    const running = mine.filter(isRunning);
    const r = s.status?.rollout;
    return {
      namespace: s.metadata.namespace,
      name: s.metadata.name,
      mode: s.spec.mode,
      image: s.spec.image,
      desired: s.spec.mode === 'global' ? mine.length : s.spec.replicas,
      running: running.length,
      ready: running.filter((t) => t.status?.ready === true).length,
      ...(r !== undefined && IN_PROGRESS.has(r.state) ? { rollout: { state: r.state, message: r.message, revision: r.revision } } : {}),
    };
  });
}

/** The services with a rollout that is not over. */
export function rolloutsInProgress(rows: readonly ServiceRow[]): ServiceRow[] {
  return rows.filter((r) => r.rollout !== undefined);
}

/** One row per node, by name, with its usage when the server has figures. */
export function nodeRows(nodes: readonly NodeObject[], tasks: readonly Task[], usage: readonly NodeUsage[]): NodeRow[] {
  const byNode = new Map<string, Task[]>();
  for (const t of tasks) {
    if (t.spec.node === '' || !isCurrentTask(t)) continue;
    const list = byNode.get(t.spec.node);
    if (list === undefined) byNode.set(t.spec.node, [t]);
    else list.push(t);
  }
  const use = new Map(usage.map((u) => [u.node, u]));
  return [...nodes].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)).map((n) => {
    const mine = byNode.get(n.metadata.name) ?? [];
    const u = use.get(n.metadata.name);
    const reserved = reservations(mine);
    const cpuAlloc = parseCpuQuantity(n.status?.allocatable.cpu);
    const memAlloc = parseMemoryQuantity(n.status?.allocatable.memory);
    return {
      name: n.metadata.name,
      state: n.status?.state ?? 'unknown',
      availability: n.spec.availability,
      address: n.status?.address ?? '',
      tasks: mine.length,
      ...(u !== undefined ? { cpuPercent: u.cpuPercent, memoryPercent: u.memoryPercent, cpuCores: u.cpuCores, cores: u.cores, memoryBytes: u.memoryBytes, memoryTotalBytes: u.memoryTotalBytes } : {}),
      ...(cpuAlloc !== undefined && cpuAlloc > 0 ? { cpuReservedPercent: (100 * reserved.cpu) / cpuAlloc } : {}),
      ...(memAlloc !== undefined && memAlloc > 0 ? { memoryReservedPercent: (100 * reserved.memory) / memAlloc } : {}),
    };
  });
}

/** CPU (cores) and memory (bytes) the requests of these tasks reserve. */
export function reservations(tasks: readonly Task[]): { cpu: number; memory: number } {
  let cpu = 0;
  let memory = 0;
  for (const t of tasks) {
    const req = t.spec.template?.resources?.requests ?? {};
    cpu += parseCpuQuantity(req.cpu) ?? 0;
    memory += parseMemoryQuantity(req.memory) ?? 0;
  }
  return { cpu, memory };
}

/** How many tasks are in each state: `{running: 3, pending: 1}`. */
export function stateCounts(tasks: readonly Task[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of tasks) {
    const s = t.status?.state ?? 'new';
    out[s] = (out[s] ?? 0) + 1;
  }
  return out;
}

/** Events about a service or one of its tasks (their `involved` names them), oldest first. */
export function eventsFor<E extends { spec: { involved: string; lastTimestamp: string } }>(events: readonly E[], namespace: string, service: string, taskNames: ReadonlySet<string>): E[] {
  return events.filter((e) => {
    const [kind, ns, name] = e.spec.involved.split('/');
    if (ns !== namespace || name === undefined) return false;
    return (kind === 'Service' && name === service) || (kind === 'Task' && taskNames.has(name));
  }).sort((a, b) => a.spec.lastTimestamp.localeCompare(b.spec.lastTimestamp));
}

/** Metrics ring points as chart columns: x in seconds since the epoch, oldest first. */
export function chartColumns(points: ReadonlyArray<{ time: string; cpuCores: number; memoryBytes: number }>, pick: 'cpuCores' | 'memoryBytes'): { times: number[]; values: number[] } {
  const sorted = points.map((p) => ({ t: Date.parse(p.time) / 1000, v: p[pick] })).filter((p) => Number.isFinite(p.t) && Number.isFinite(p.v)).sort((a, b) => a.t - b.t);
  return { times: sorted.map((p) => p.t), values: sorted.map((p) => p.v) };
}
