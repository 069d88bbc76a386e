/**
 * The scheduler loop: the pure Scheduler (src/scheduler/) fed incrementally from the informers'
 * events, asked to place every pending task in one batched pass per sync. One queue key
 * ("pending"), so every pass sees every placement before it. See README.md for the flow.
 *
 * A pass retries when something changes that may make a task fit: a node appears, goes or
 * changes what the filters read (not heartbeats), a task ends or leaves a node, or a new task
 * waits. A task that still fits nowhere keeps `status.message` = the reason ("0/6 nodes: ...")
 * and one FailedScheduling Event whose count grows (events.ts).
 */
import { ConflictError, NotFoundError } from '../../api/errors.js';
import { TERMINAL_TASK_STATES, type NodeObject, type Task } from '../../api/kinds.js';
import { keyOf, type ApiObject } from '../../api/object.js';
import { Scheduler, taskId, type SchedulerOptions } from '../../scheduler/index.js';
import type { Store } from '../../store/store.js';
import { SpanStatusCode, type Tracer } from '../../tracing/index.js';
import { Expectations, type AppliedWrites } from '../framework/apply.js';
import type { Clock } from '../framework/clock.js';
import { Controller } from '../framework/controller.js';
import { BY_PENDING, isPendingPlacement, PENDING, type ClusterInformers } from '../informers.js';
import { SchedulingEvents } from './events.js';
import { mountsAny, writeBindings } from './volumes.js';

/** What the scheduler loop needs. */
export interface SchedulerControllerDeps {
  store: Store;
  informers: ClusterInformers;
  clock: Clock;
  log: (msg: string) => void;
  /** Knobs of the pure scheduler (strategy, score limit). */
  scheduler?: SchedulerOptions;
  /** Least time between two writes of one task's FailedScheduling Event with the same reason (default 5 s). */
  eventRefreshMs?: number;
  /** Writes in flight at once (default 64; the SQLite store commits them in groups). */
  writeConcurrency?: number;
  /** A "schedule task" span per placement (src/tracing; absent: none). */
  tracer?: Tracer;
}

/** The single queue key of this loop. */
export const SCHEDULER_KEY = 'pending';

/** What a node offers the filters; a change in anything else (the heartbeat) does not retry. */
function nodeFacts(n: NodeObject): string {
  const conditions = (n.status?.conditions ?? []).map((c) => [c.type, c.status, c.reason]); // RuntimeReady, DiskPressure
  return JSON.stringify([n.metadata.labels, n.spec, n.status?.state, n.status?.allocatable, conditions]);
}

const holdsResources = (t: Task): boolean => t.spec.node !== '' && !TERMINAL_TASK_STATES.has(t.status?.state ?? 'new');

/** The task as placed on `node`. */
function assigned(t: Task, node: string, nowMs: number): Task {
  const status = t.status ?? { state: 'pending' as const, desiredState: 'running' as const, ready: false, timestamp: '' };
  return { ...t, spec: { ...t.spec, node }, status: { ...status, state: 'assigned', timestamp: new Date(nowMs).toISOString(), message: `assigned to node ${node}` } };
}

/** Runs `fn` over the items, at most `limit` at once; `fn` must not throw. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** One write of a pass, and what to do when it fails. */
interface Write {
  run(): Promise<ApiObject | undefined>;
  failed(err: unknown): Promise<void>;
}

/**
 * Runs a pass's writes, at most `limit` at once; returns what landed and the error to re-queue
 * for (another error before a lost race), none when every write landed or its task is gone.
 */
async function performWrites(writes: readonly Write[], limit: number): Promise<{ applied: AppliedWrites; error: unknown }> {
  const applied: AppliedWrites = { written: [], deleted: [] };
  let conflict: unknown;
  let other: unknown;
  await forEachLimited(writes, limit, async (w) => {
    try {
      const o = await w.run();
      if (o !== undefined) applied.written.push(o);
    } catch (err) {
      await w.failed(err).catch(() => undefined);
      if (err instanceof NotFoundError) return; // the task is gone: nothing to retry
      if (err instanceof ConflictError) conflict ??= err;
      else other ??= err;
    }
  });
  return { applied, error: other ?? conflict };
}

/**
 * Runs a placement write inside a "schedule task" span: from the scheduling round that chose
 * the node to the write's end, with the task, its service, the node and how long it waited.
 */
async function traced<T>(tracer: Tracer | undefined, t: Task, node: string, nowMs: number, write: () => Promise<T>): Promise<T> {
  if (tracer === undefined) return write();
  const span = tracer.startSpan('schedule task', {
    startTime: nowMs,
    attributes: {
      'flotilla.task': t.metadata.name, 'flotilla.namespace': t.metadata.namespace, 'flotilla.service': t.spec.service, 'flotilla.node': node,
      'flotilla.pending_ms': Math.max(0, nowMs - Date.parse(t.metadata.creationTimestamp)),
    },
  });
  try {
    return await write();
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    throw err;
  } finally {
    span.end();
  }
}

/** Builds the scheduler loop and hooks it (and the Scheduler's indexes) to the informers. */
export function createSchedulerController(deps: SchedulerControllerDeps): Controller {
  const inf = deps.informers;
  const scheduler = new Scheduler(deps.scheduler);
  const events = new SchedulingEvents(deps.store, deps.eventRefreshMs ?? 5_000);
  const exp = new Expectations({ Task: inf.tasks, ...(inf.volumes !== undefined ? { Volume: inf.volumes } : {}) });

  const placementWrite = (t: Task, node: string, nowMs: number): Write => ({
    run: () => traced(deps.tracer, t, node, nowMs, () => deps.store.update(assigned(t, node, nowMs), t.metadata.revision)),
    failed: async (err) => {
      // Keep the hold only if the task is in fact on that node (our earlier write landed).
      const cur = err instanceof ConflictError ? ((await deps.store.get(keyOf(t)).catch(() => undefined)) as Task | undefined) : undefined;
      if (cur !== undefined && cur.spec.node === node && holdsResources(cur)) scheduler.observeTask(cur);
      else scheduler.taskEnded(taskId(t));
    },
  });
  const messageWrite = (t: Task, message: string): Write | undefined => {
    if (t.status === undefined || t.status.message === message) return undefined;
    return { run: () => deps.store.update({ ...t, status: { ...t.status, message } } as Task, t.metadata.revision), failed: async () => undefined };
  };

  const sync = async (key: string): Promise<void> => {
    await exp.wait(key, 5_000);
    if (events.hasDeletes()) await events.flushDeletes();
    const pending = inf.tasks.byIndex(BY_PENDING, PENDING);
    if (pending.length === 0) return;
    const nowMs = deps.clock.now();
    const result = scheduler.schedule(pending, { now: nowMs });
    const byId = new Map(pending.map((t) => [taskId(t), t]));
    // Volume bindings land before the placements that mount them (volumes.ts).
    const bound = await writeBindings(deps.store, {
      volume: (k) => inf.volumes?.get(`Volume/${k}`),
      node: (n) => inf.nodes.get(`Node//${n}`),
    }, result.bindings ?? [], nowMs);
    for (const v of bound.failed) scheduler.bindingFailed(v);
    const writes: Write[] = [];
    for (const p of result.placements) {
      const t = byId.get(p.task);
      if (t === undefined) continue;
      if (mountsAny(t, bound.failed)) {
        scheduler.taskEnded(p.task);
        continue;
      }
      events.placed(p.task);
      writes.push(placementWrite(t, p.node, nowMs));
    }
    for (const u of result.unplaced) {
      const t = byId.get(u.task);
      if (t === undefined) continue;
      const w = messageWrite(t, u.reason);
      if (w !== undefined) writes.push(w);
      const ev = events.failed(t, u.reason, nowMs);
      if (ev !== undefined) writes.push({ run: async () => { await ev(); return undefined; }, failed: async () => undefined });
    }
    if (result.placements.length > 0) deps.log(`scheduler: placed ${result.placements.length}, pending ${result.unplaced.length}${result.unplaced[0] !== undefined ? ` (${result.unplaced[0].task}: ${result.unplaced[0].reason})` : ''}`);
    const { applied, error } = await performWrites(writes, deps.writeConcurrency ?? 64);
    applied.written.push(...bound.written);
    exp.record(SCHEDULER_KEY, applied);
    const failure = error ?? bound.error;
    if (failure !== undefined) throw failure; // the runner re-queues the pass with backoff
  };

  const c = new Controller({ name: 'scheduler', sync, workers: 1, clock: deps.clock, log: deps.log });
  hookInformers(c, inf, scheduler, events);
  return c;
}

/**
 * Informer handlers: keep the Scheduler's indexes current event by event, and enqueue a pass
 * when it may help (a task starts waiting or frees room; a node changes what filters read).
 */
function hookInformers(c: Controller, inf: ClusterInformers, scheduler: Scheduler, events: SchedulingEvents): void {
  // Ids of the tasks waiting, kept from events: a cheap "is anyone waiting?" on every event.
  const waiting = new Set<string>();
  const track = (t: Task, present: boolean): void => {
    if (present && isPendingPlacement(t)) waiting.add(taskId(t));
    else waiting.delete(taskId(t));
  };
  const poke = (): void => {
    if (events.hasDeletes() || waiting.size > 0) c.enqueue(SCHEDULER_KEY);
  };
  c.onStop(inf.tasks.addHandler({
    onAdd: (t) => {
      scheduler.observeTask(t);
      track(t, true);
      if (isPendingPlacement(t)) c.enqueue(SCHEDULER_KEY);
    },
    onUpdate: (old, t) => {
      scheduler.observeTask(t);
      track(t, true);
      if (isPendingPlacement(t) && !isPendingPlacement(old)) c.enqueue(SCHEDULER_KEY);
      else if (holdsResources(old) && (!holdsResources(t) || old.spec.node !== t.spec.node)) poke();
    },
    onDelete: (t) => {
      track(t, false);
      scheduler.taskEnded(taskId(t));
      events.deleted(taskId(t));
      poke();
    },
  }));
  hookVolumes(c, inf, scheduler, poke);
  c.onStop(inf.nodes.addHandler({
    onAdd: (n) => {
      scheduler.upsertNode(n);
      poke();
    },
    onUpdate: (old, n) => {
      if (nodeFacts(old) === nodeFacts(n)) return;
      scheduler.upsertNode(n);
      poke();
    },
    onDelete: (n) => {
      scheduler.removeNode(n.metadata.name);
      poke();
    },
  }));
}

/** Volume events: the scheduler's bindings follow Volume.status.node; a new or rebound volume may unblock tasks. */
function hookVolumes(c: Controller, inf: ClusterInformers, scheduler: Scheduler, poke: () => void): void {
  if (inf.volumes === undefined) return;
  c.onStop(inf.volumes.addHandler({
    onAdd: (v) => {
      scheduler.upsertVolume(v);
      poke();
    },
    onUpdate: (old, v) => {
      scheduler.upsertVolume(v);
      if (old.status?.node !== v.status?.node) poke();
    },
    onDelete: (v) => {
      scheduler.removeVolume(v.metadata.namespace, v.metadata.name);
      poke();
    },
  }));
}
