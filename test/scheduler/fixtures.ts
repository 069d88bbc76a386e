/**
 * Object factories for the scheduler tests: nodes with labels, resources and taints; tasks of a
 * service with requests and placement; and helpers to read results.
 */
import type { NodeObject, Placement, ServiceSpec, Taint, Task, TaskState, Toleration } from '../../src/api/kinds.js';
import type { PlacementAffinity, ScheduleResult } from '../../src/scheduler/index.js';

export const T0 = Date.parse('2025-01-01T00:00:00Z');

/** Options of a test node. */
export interface NodeOpts {
  labels?: Record<string, string>;
  state?: 'ready' | 'down' | 'unknown';
  availability?: 'active' | 'pause' | 'drain';
  role?: 'worker' | 'manager';
  cpu?: string;
  memory?: string;
  pids?: number;
  taints?: Taint[];
  heartbeatMs?: number;
}

/** A stored Node. */
export function node(name: string, o: NodeOpts = {}): NodeObject {
  const alloc = { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', ...(o.pids === undefined ? {} : { pids: o.pids }) };
  return {
    kind: 'Node',
    metadata: { name, namespace: '', uid: `uid-${name}`, labels: o.labels ?? {}, revision: 1, generation: 1, creationTimestamp: new Date(T0).toISOString() },
    spec: { availability: o.availability ?? 'active', role: o.role ?? 'worker', taints: o.taints ?? [] },
    status: { state: o.state ?? 'ready', capacity: alloc, allocatable: alloc, ...(o.heartbeatMs === undefined ? {} : { heartbeat: new Date(o.heartbeatMs).toISOString() }) },
  };
}

/** Options of a test task's template. */
export interface TaskOpts {
  service?: string;
  namespace?: string;
  generation?: number;
  cpu?: string;
  memory?: string;
  pids?: number;
  publish?: number[];
  constraints?: string[];
  spread?: string[];
  tolerations?: Toleration[];
  strategy?: 'spread' | 'binpack';
  affinity?: PlacementAffinity;
  node?: string;
  state?: TaskState;
  createdMs?: number;
}

/** A ServiceSpec with the placement and requests of the options. */
export function spec(o: TaskOpts = {}): ServiceSpec {
  const placement: Placement & { affinity?: PlacementAffinity } = {
    constraints: o.constraints ?? [], spread: o.spread ?? [], tolerations: o.tolerations ?? [], ...(o.strategy === undefined ? {} : { strategy: o.strategy }),
  };
  if (o.affinity !== undefined) placement.affinity = o.affinity;
  return {
    mode: 'replicated', replicas: 1, image: 'registry.local/demo:1', env: {},
    ports: (o.publish ?? []).map((p) => ({ port: p, targetPort: p, protocol: 'tcp' as const, publish: p })),
    resources: { requests: { ...(o.cpu === undefined ? {} : { cpu: o.cpu }), ...(o.memory === undefined ? {} : { memory: o.memory }), ...(o.pids === undefined ? {} : { pids: o.pids }) }, limits: {} },
    placement, probes: {},
    update: { strategy: 'rolling', parallelism: 1, delaySeconds: 0, failureAction: 'pause', order: 'stop-first', monitorSeconds: 0, maxFailureRatio: 0, progressDeadlineSeconds: 300, scaleDownDelaySeconds: 30, steps: [] },
    restart: { condition: 'any', delaySeconds: 1, maxDelaySeconds: 60 },
    secrets: [], configs: [], volumes: [], stopGracePeriodSeconds: 10,
  };
}

/** A Task; pending and unassigned unless `node` and `state` say otherwise. */
export function task(name: string, o: TaskOpts = {}): Task {
  const state = o.state ?? (o.node === undefined ? 'pending' : 'running');
  return {
    kind: 'Task',
    metadata: { name, namespace: o.namespace ?? 'default', uid: `uid-${name}`, labels: {}, revision: 1, generation: 1, creationTimestamp: new Date(o.createdMs ?? T0).toISOString() },
    spec: { service: o.service ?? 'web', serviceGeneration: o.generation ?? 1, slot: 1, node: o.node ?? '', image: 'registry.local/demo:1', desiredState: 'running', template: spec(o) },
    status: { state, desiredState: 'running', ready: false, timestamp: new Date(T0).toISOString() },
  };
}

/** `n` pending tasks of one service named `<prefix>-1..n`. */
export function replicas(prefix: string, n: number, o: TaskOpts = {}): Task[] {
  return Array.from({ length: n }, (_, i) => task(`${prefix}-${i + 1}`, { service: prefix, ...o }));
}

/** Node name per task id (`default/<name>`). */
export function nodeOf(r: ScheduleResult): Map<string, string> {
  return new Map(r.placements.map((p) => [p.task, p.node]));
}

/** How many placements went to each node. */
export function perNode(r: ScheduleResult): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of r.placements) m.set(p.node, (m.get(p.node) ?? 0) + 1);
  return m;
}
