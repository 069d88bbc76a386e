/**
 * Object factories for the controller tests: services, nodes and tasks with every field the
 * controllers read, plus a deterministic identity source and helpers to read actions.
 */
import type { NodeObject, Service, ServiceSpec, Task, TaskState } from '../../src/api/kinds.js';
import type { Action } from '../../src/controllers/framework/apply.js';
import { newTask, type TaskIdentitySource } from '../../src/controllers/service/tasks.js';

export const T0 = Date.parse('2025-01-01T00:00:00Z');

/** A complete ServiceSpec with defaults like the API's. */
export function serviceSpec(over: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    mode: 'replicated',
    replicas: 1,
    image: 'registry.local/demo:1',
    env: {},
    ports: [],
    resources: { requests: {}, limits: {} },
    placement: { constraints: [], spread: [], tolerations: [] },
    probes: {},
    update: { strategy: 'rolling', parallelism: 1, delaySeconds: 0, failureAction: 'pause', order: 'stop-first', monitorSeconds: 0, maxFailureRatio: 0, progressDeadlineSeconds: 300, scaleDownDelaySeconds: 30, steps: [] },
    restart: { condition: 'any', delaySeconds: 1, maxDelaySeconds: 60 },
    secrets: [], configs: [], volumes: [],
    stopGracePeriodSeconds: 10,
    ...over,
  };
}

/** A stored Service. */
export function service(name: string, over: Partial<ServiceSpec> = {}, generation = 1, revision = 10): Service {
  return {
    kind: 'Service',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: {}, revision, generation, creationTimestamp: new Date(T0).toISOString() },
    spec: serviceSpec(over),
  };
}

/** A stored Node. */
export function node(name: string, opts: { labels?: Record<string, string>; state?: 'ready' | 'down'; availability?: 'active' | 'pause' | 'drain'; cpu?: string; memory?: string } = {}): NodeObject {
  return {
    kind: 'Node',
    metadata: { name, namespace: '', uid: `uid-${name}`, labels: opts.labels ?? {}, revision: 5, generation: 1, creationTimestamp: new Date(T0).toISOString() },
    spec: { availability: opts.availability ?? 'active', role: 'worker', taints: [] },
    status: {
      state: opts.state ?? 'ready',
      capacity: { cpu: opts.cpu ?? '4', memory: opts.memory ?? '8Gi' },
      allocatable: { cpu: opts.cpu ?? '4', memory: opts.memory ?? '8Gi' },
    },
  };
}

/** Names tasks `<prefix>-<slot>-t0001`, `...-t0002`, ... so tests can predict them. */
export function counterIdentity(): TaskIdentitySource {
  let n = 0;
  return { next: () => ({ suffix: `t${String(++n).padStart(4, '0')}`, uid: `task-uid-${n}` }) };
}

/** A stored task of `svc` in a given slot/node and state, created at `createdMs`. */
export function task(svc: Service, slot: number, state: TaskState, opts: { node?: string; desired?: 'running' | 'shutdown'; createdMs?: number; endedMs?: number; gen?: number; ready?: boolean; restarts?: number; name?: string; revision?: number } = {}): Task {
  const created = opts.createdMs ?? T0;
  const t = newTask({ service: svc, slot, node: opts.node ?? '', nowMs: created, identity: { next: () => ({ suffix: opts.name ?? `x${slot}${state.slice(0, 3)}`, uid: `u-${slot}-${state}` }) }, restarts: opts.restarts ?? 0 });
  const desired = opts.desired ?? 'running';
  t.metadata.revision = opts.revision ?? 20;
  t.spec.desiredState = desired;
  t.spec.serviceGeneration = opts.gen ?? svc.metadata.generation;
  t.status = { state, desiredState: desired, ready: opts.ready ?? false, timestamp: new Date(opts.endedMs ?? created).toISOString() };
  return t;
}

/** Short readable form of actions: `create slot=3 pending`, `update web-1-x desired=shutdown state=running`. */
export function summarize(actions: readonly Action[]): string[] {
  return actions.map((a) => {
    if (a.type === 'delete') return `delete ${a.key.name}`;
    if (a.object.kind === 'Service') return `status ${JSON.stringify(a.object.status)}`;
    const t = a.object as Task;
    const where = t.spec.slot > 0 ? `slot=${t.spec.slot}` : `node=${t.spec.node}`;
    if (a.type === 'create') return `create ${where} ${t.status?.state ?? '?'}`;
    return `update ${where} desired=${t.spec.desiredState} state=${t.status?.state ?? '?'}`;
  });
}

/** Task actions only (drops the service status write). */
export function taskActions(actions: readonly Action[]): string[] {
  return summarize(actions).filter((s) => !s.startsWith('status'));
}

/** Resolves after `ms`. */
export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Retries `check` (which throws until its assertions hold) every 50 ms, for at most `timeoutMs`. */
export async function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
    await delay(50);
  }
}
