/**
 * The node lifecycle decision (STYLE.md 5): from one node, the tasks on it and the time its
 * heartbeat was last seen, the writes that keep tasks off nodes that cannot or must not run
 * them. Pure and synchronous; the clock comes in as `nowMs`. The loop is controller.ts.
 *
 *   heartbeat older than the grace period ─► node down; its tasks orphaned + desired shutdown
 *   node down, a heartbeat seen since ──────► node ready again (its old tasks stay orphaned)
 *   node down ──────────────────────────────► tasks still on it orphaned (late arrivals)
 *   NoExecute taint not tolerated ─────────► replicated task desired shutdown (evicted)
 *   drain, or constraints no longer match ─► replicated task annotated MOVING (the service
 *                                             controller makes its replacement), or shut down
 *                                             at once when it is not running
 *   MOVING task ───────────────────────────► shut down once its slot's replacement runs, its
 *                                             slot is gone, or the move deadline passed
 * Global tasks (slot 0) are left to the service controller, which knows the node they follow.
 */
import { MOVING_ANNOTATION, TERMINAL_TASK_STATES, type NodeObject, type Service, type Task, type TaskState } from '../../api/kinds.js';
import type { Action } from '../framework/apply.js';
import { compileNode, compileSpec, emptyUsage } from '../../scheduler/compile.js';
import { affinityRequired, constraintsMatch, formatTaint, tolerates } from '../../scheduler/filters.js';
import type { NodeInfo } from '../../scheduler/types.js';

/** Default heartbeat grace: with 2 s heartbeats, a dead node's tasks run elsewhere within 10 s. */
export const DEFAULT_NODE_GRACE_MS = 6_000;
/** Default time a moving task waits for its replacement to run before it is stopped anyway. */
export const DEFAULT_MOVE_TIMEOUT_MS = 60_000;

/** Everything one decision about a node looks at. */
export interface NodeLifecycleInput {
  node: NodeObject;
  /** Tasks whose spec.node is this node, history included. */
  tasks: readonly Task[];
  /** When the server last saw the node's heartbeat (Node status or Lease) change (ms); undefined: it never heartbeated. */
  lastHeartbeatMs: number | undefined;
  /**
   * When the server last saw a heartbeat *happen* (a change observed live, not the first sight
   * of a node after a restart); a down node with one within the grace period is ready again.
   */
  heartbeatResumedMs?: number;
  nowMs: number;
  gracePeriodMs: number;
  moveTimeoutMs: number;
  /** The service of a task (`namespace`, `name`), if it exists. */
  serviceOf(namespace: string, name: string): Service | undefined;
  /** The tasks of a service's slot, on any node. */
  slotTasks(namespace: string, service: string, slot: number): readonly Task[];
}

/** The decision: writes, and when to look again (heartbeat expiry, move deadline). */
export interface NodeLifecyclePlan {
  actions: Action[];
  requeueAfterMs?: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const isTerminal = (t: Task): boolean => TERMINAL_TASK_STATES.has(t.status?.state ?? 'new');
const movingSince = (t: Task): string | undefined => t.metadata.annotations?.[MOVING_ANNOTATION];

/** Copy of `t` desired shutdown, optionally in a new state, with a message. */
export function shutdownTask(t: Task, nowMs: number, message: string, state?: TaskState): Task {
  const status = t.status ?? { state: 'new' as TaskState, desiredState: 'running' as const, ready: false, timestamp: iso(nowMs) };
  const next = { ...status, desiredState: 'shutdown' as const, message };
  if (state !== undefined) Object.assign(next, { state, ready: false, timestamp: iso(nowMs) });
  return { ...t, spec: { ...t.spec, desiredState: 'shutdown' }, status: next };
}

function update(t: Task, object: Task, reason: string): Action {
  return { type: 'update', object, expectedRevision: t.metadata.revision, reason };
}

/** Decides the writes for one node; see the file comment. */
export function computeNodeActions(input: NodeLifecycleInput): NodeLifecyclePlan {
  const { node, nowMs } = input;
  const name = node.metadata.name;
  const state = node.status?.state ?? 'unknown';
  const live = input.tasks.filter((t) => !isTerminal(t));
  const actions: Action[] = [];
  const last = input.lastHeartbeatMs;
  const expired = state !== 'down' && last !== undefined && nowMs - last > input.gracePeriodMs;
  if (expired && node.status !== undefined) {
    const message = `no heartbeat since ${iso(last)} (grace period ${input.gracePeriodMs / 1000}s)`;
    actions.push({ type: 'update', object: { ...node, status: { ...node.status, state: 'down', message } }, expectedRevision: node.metadata.revision, reason: 'heartbeat expired' });
  }
  const resumed = input.heartbeatResumedMs;
  if (state === 'down' && !expired && node.status !== undefined && resumed !== undefined && nowMs - resumed <= input.gracePeriodMs) {
    const status = { ...node.status, state: 'ready' as const, message: `heartbeat resumed at ${iso(resumed)}` };
    return { actions: [{ type: 'update', object: { ...node, status }, expectedRevision: node.metadata.revision, reason: 'heartbeat resumed' }] };
  }
  if (expired || state === 'down') {
    for (const t of live) actions.push(update(t, shutdownTask(t, nowMs, `node ${name} is down`, 'orphaned'), 'node down'));
    return { actions };
  }
  const wake: number[] = [];
  if (last !== undefined) wake.push(last + input.gracePeriodMs + 1);
  const info = compileNode(node, emptyUsage());
  for (const t of live) {
    if (t.spec.desiredState !== 'running' || t.spec.slot === 0) continue;
    const since = movingSince(t);
    if (since !== undefined) {
      const a = finishMove(t, since, input, wake);
      if (a !== undefined) actions.push(a);
      continue;
    }
    const evict = untoleratedNoExecute(t, info);
    if (evict !== undefined) {
      actions.push(update(t, shutdownTask(t, nowMs, `evicted: node ${name} has taint ${evict}`), 'NoExecute taint'));
      continue;
    }
    const why = reasonToMove(t, info);
    if (why === undefined) continue;
    if (t.status?.state !== 'running') {
      actions.push(update(t, shutdownTask(t, nowMs, `moved off node ${name}: ${why}`), `move (${why})`));
      continue;
    }
    const annotations = { ...t.metadata.annotations, [MOVING_ANNOTATION]: iso(nowMs) };
    actions.push(update(t, { ...t, metadata: { ...t.metadata, annotations } }, `move (${why}): replacement first`));
    wake.push(nowMs + input.moveTimeoutMs);
  }
  for (const t of input.tasks) {
    // A moving task that ended while waiting: desired shutdown, so it is plain history.
    if (isTerminal(t) && t.spec.desiredState === 'running' && movingSince(t) !== undefined) {
      actions.push(update(t, { ...t, spec: { ...t.spec, desiredState: 'shutdown' }, status: t.status === undefined ? undefined : { ...t.status, desiredState: 'shutdown' } }, 'moved task ended'));
    }
  }
  const next = wake.length === 0 ? undefined : Math.min(...wake);
  return { actions, requeueAfterMs: next === undefined ? undefined : Math.max(1, next - nowMs) };
}

/** The first NoExecute taint of the node the task does not tolerate, rendered; else undefined. */
function untoleratedNoExecute(t: Task, node: NodeInfo): string | undefined {
  const tolerations = t.spec.template?.placement?.tolerations ?? [];
  for (const taint of node.taints) {
    if (taint.effect === 'NoExecute' && !tolerations.some((x) => tolerates(x, taint))) return formatTaint(taint);
  }
  return undefined;
}

/** Why a running task must leave the node (drain, constraints, required affinity), else undefined. */
function reasonToMove(t: Task, node: NodeInfo): string | undefined {
  if (node.availability === 'drain') return 'node is draining';
  let spec;
  try {
    spec = compileSpec(`${t.metadata.namespace}/${t.spec.service}`, t.spec.template);
  } catch {
    return undefined; // a task the scheduler could not have placed by its own rules: leave it
  }
  const ctx = { nowMs: 0, heartbeatTimeoutMs: undefined };
  return constraintsMatch.reject(node, spec, ctx) ?? affinityRequired.reject(node, spec, ctx);
}

/** A moving task: shut it down when its move is over, else remember its deadline. */
function finishMove(t: Task, since: string, input: NodeLifecycleInput, wake: number[]): Action | undefined {
  const name = input.node.metadata.name;
  const now = input.nowMs;
  const stop = (why: string): Action => update(t, shutdownTask(t, now, `moved off node ${name}: ${why}`), `move done (${why})`);
  if (t.status?.state !== 'running') return stop('it was not running');
  const svc = input.serviceOf(t.metadata.namespace, t.spec.service);
  if (svc === undefined || svc.spec.mode !== 'replicated' || t.spec.slot > svc.spec.replicas) return stop('its slot is no longer wanted');
  const replacement = input.slotTasks(t.metadata.namespace, t.spec.service, t.spec.slot)
    .find((r) => r !== t && r.metadata.name !== t.metadata.name && r.spec.desiredState === 'running' && movingSince(r) === undefined && r.status?.state === 'running');
  if (replacement !== undefined) return stop(`replaced by ${replacement.metadata.name} on node ${replacement.spec.node}`);
  const startedMs = Date.parse(since);
  const deadline = (Number.isFinite(startedMs) ? startedMs : now) + input.moveTimeoutMs;
  if (now >= deadline) return stop(`no replacement running after ${input.moveTimeoutMs / 1000}s`);
  wake.push(deadline);
  return undefined;
}
