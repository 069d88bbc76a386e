/**
 * Minimal placement, a stand-in for the real scheduler (src/scheduler/, a later issue): a pure
 * function from pending tasks, nodes and the tasks already placed to assignments. Filters in
 * order (ready, active, constraints, room), then the node with the fewest tasks of the same
 * service (spread), then the fewest tasks at all, then by name. A task no node fits gets a
 * message saying why: "no node is ready", "0/3 nodes have room: 2 insufficient memory, ...".
 */
import { formatConstraint, matchConstraint, parseConstraint, type Constraint } from '../../api/constraint.js';
import type { NodeObject, Task } from '../../api/kinds.js';
import { TERMINAL_TASK_STATES } from '../../api/kinds.js';
import { parseBytes, parseCpuMillis } from '../../api/quantity.js';

/** A decision for one pending task. */
export type PlacementResult =
  | { task: Task; node: string }
  | { task: Task; node: undefined; message: string };

interface NodeLoad {
  node: NodeObject;
  cpuMillis: number;
  memoryBytes: number;
  capCpuMillis: number;
  capMemoryBytes: number;
  tasks: number;
  byService: Map<string, number>;
}

function quantity(parse: (q: string) => number, q: string | undefined, fallback: number): number {
  if (q === undefined || q === '') return fallback;
  try {
    return parse(q);
  } catch {
    return fallback;
  }
}

function requestsOf(t: Task): { cpu: number; mem: number } {
  const r = t.spec.template?.resources?.requests ?? {};
  return { cpu: quantity(parseCpuMillis, r.cpu, 0), mem: quantity(parseBytes, r.memory, 0) };
}

const serviceKey = (t: Task): string => `${t.metadata.namespace}/${t.spec.service}`;

function loads(nodes: readonly NodeObject[], placed: readonly Task[]): Map<string, NodeLoad> {
  const out = new Map<string, NodeLoad>();
  for (const node of nodes) {
    const a = node.status?.allocatable;
    out.set(node.metadata.name, {
      node,
      cpuMillis: 0,
      memoryBytes: 0,
      capCpuMillis: quantity(parseCpuMillis, a?.cpu, Infinity),
      capMemoryBytes: quantity(parseBytes, a?.memory, Infinity),
      tasks: 0,
      byService: new Map(),
    });
  }
  for (const t of placed) {
    const l = out.get(t.spec.node);
    if (l === undefined || t.spec.desiredState !== 'running' || TERMINAL_TASK_STATES.has(t.status?.state ?? 'new')) continue;
    addTask(l, t);
  }
  return out;
}

function addTask(l: NodeLoad, t: Task): void {
  const r = requestsOf(t);
  l.cpuMillis += r.cpu;
  l.memoryBytes += r.mem;
  l.tasks++;
  l.byService.set(serviceKey(t), (l.byService.get(serviceKey(t)) ?? 0) + 1);
}

/** Why a node cannot take the task, or undefined when it can. */
function rejection(l: NodeLoad, t: Task, constraints: Constraint[]): string | undefined {
  const n = l.node;
  if (n.status?.state !== 'ready') return 'not ready';
  if (n.spec.availability !== 'active') return `${n.spec.availability === 'drain' ? 'draining' : 'paused'}`;
  const facts = { name: n.metadata.name, role: n.spec.role, labels: n.metadata.labels ?? {} };
  for (const c of constraints) if (!matchConstraint(c, facts)) return `did not match ${formatConstraint(c)}`;
  const r = requestsOf(t);
  if (l.cpuMillis + r.cpu > l.capCpuMillis) return 'insufficient cpu';
  if (l.memoryBytes + r.mem > l.capMemoryBytes) return 'insufficient memory';
  return undefined;
}

function explain(total: number, reasons: Map<string, number>): string {
  if (total === 0 || reasons.get('not ready') === total) return 'no node is ready';
  const parts = [...reasons].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([why, n]) => `${n} ${why}`);
  return `0/${total} nodes have room: ${parts.join(', ')}`;
}

/** Places one task against the current loads; updates them when it succeeds. */
function placeOne(t: Task, all: Map<string, NodeLoad>): PlacementResult {
  let constraints: Constraint[];
  try {
    constraints = (t.spec.template?.placement?.constraints ?? []).map(parseConstraint);
  } catch (e) {
    return { task: t, node: undefined, message: e instanceof Error ? e.message : String(e) };
  }
  const reasons = new Map<string, number>();
  let best: NodeLoad | undefined;
  for (const l of all.values()) {
    const why = rejection(l, t, constraints);
    if (why !== undefined) {
      reasons.set(why, (reasons.get(why) ?? 0) + 1);
      continue;
    }
    if (best === undefined || better(l, best, serviceKey(t))) best = l;
  }
  if (best === undefined) return { task: t, node: undefined, message: explain(all.size, reasons) };
  addTask(best, t);
  return { task: t, node: best.node.metadata.name };
}

function better(a: NodeLoad, b: NodeLoad, svc: string): boolean {
  const sa = a.byService.get(svc) ?? 0;
  const sb = b.byService.get(svc) ?? 0;
  if (sa !== sb) return sa < sb;
  if (a.tasks !== b.tasks) return a.tasks < b.tasks;
  return a.node.metadata.name < b.node.metadata.name;
}

/**
 * Places pending tasks (oldest first) on nodes, given every task already on a node.
 * Pure: the same input always gives the same answer.
 */
export function placeTasks(pending: readonly Task[], nodes: readonly NodeObject[], placed: readonly Task[]): PlacementResult[] {
  const all = loads(nodes, placed);
  const order = [...pending].sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp) || a.metadata.name.localeCompare(b.metadata.name));
  return order.map((t) => placeOne(t, all));
}
