/**
 * The reverse-uptime decision (STYLE.md 5), pure: from one node, the tasks on it and what the
 * rest of the cluster is doing, the next step of its recycle. Clock injected as `nowMs`; the
 * loop (controller.ts) applies the writes, runs the provisioner hook and writes the Events.
 *
 *   not due (younger than its max age, not requested) ─► nothing; look again when it is due
 *   due, another node recycling, or a service on it  ─► phase waiting (message says why)
 *     with fewer ready tasks than replicas, or (no
 *     provisioner) no other node to move to
 *   due and its turn ─► provisioning (hook configured: the loop runs it once) or cordoned
 *   provisioning, hook ended (ok, failed, timed out) ─► cordoned: availability pause
 *     (no hook result after the bound: a restart lost it) ─► cordoned, Warning
 *   cordoned ─► draining: availability drain (the node controller moves the tasks,
 *                         replacement first: MOVING_ANNOTATION)
 *   draining, no live task left (or the drain deadline) ─► one transaction: Revocation
 *                         node.NAME written, Node and its Lease deleted
 */
import { MOVING_ANNOTATION, RECYCLE_REQUEST_ANNOTATION, TERMINAL_TASK_STATES, type Lease, type NodeObject, type NodeRecycle, type NodeSpec, type Revocation, type Task } from '../../api/kinds.js';
import { keyOf } from '../../api/object.js';
import { formatNodeAge, maxAgeOf } from '../../api/node-age.js';
import type { Action } from '../framework/apply.js';

/** Default bound on the provisioner hook: it is killed, and the recycle goes on, after this long. */
export const DEFAULT_PROVISIONER_TIMEOUT_MS = 5 * 60_000;
/** Default bound on the drain: the node is removed this long after its drain began, tasks or not. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10 * 60_000;
/** Time a hook killed at its bound gets to exit before the loop stops waiting for it. */
const HOOK_EXIT_GRACE_MS = 5_000;
/** How often a waiting node looks again when nothing it watches wakes it. */
export const WAIT_RECHECK_MS = 5_000;
/** Longest timer the loop arms (a clock jump or a long max age never leaves a node unchecked longer). */
const MAX_REQUEUE_MS = 3_600_000;

/** Where the provisioner hook of this node's recycle is, as this process knows it. */
export type HookState = { done: false } | { done: true; ok: boolean; message: string };

/** One Event the loop writes after the actions applied. */
export interface RecycleEvent {
  reason: 'RecycleStarted' | 'ProvisionerCalled' | 'ProvisionerFailed' | 'Cordoned' | 'Drained' | 'NodeRemoved';
  type: 'Normal' | 'Warning';
  message: string;
}

/** Everything one decision about a node looks at. */
export interface RecycleInput {
  node: NodeObject;
  /** Tasks whose spec.node is this node, history included. */
  tasks: readonly Task[];
  nowMs: number;
  /** `--max-node-age` (undefined or 0: off; the node label still applies). */
  clusterMaxAgeMs: number | undefined;
  /** A node (other than this one) whose recycle has started and not ended. */
  otherRecycling: string | undefined;
  /** Services with a task on this node whose ready tasks are fewer than their replicas (`ns/name (ready/replicas)`). */
  shortServices: readonly string[];
  /** Whether a provisioner hook is configured. */
  provisioner: boolean;
  /** Other nodes that are ready, active and not recycling (where its tasks can move). */
  otherSchedulable: number;
  /** This process's knowledge of the hook of this recycle (undefined: never started here). */
  hook: HookState | undefined;
  provisionerTimeoutMs: number;
  drainTimeoutMs: number;
  /** The Revocation `node.NAME` if one exists (a previous incarnation's): updated, not created. */
  revocation: Revocation | undefined;
  /** The node's heartbeat Lease, deleted with it. */
  lease: Lease | undefined;
}

/** The decision. */
export interface RecyclePlan {
  actions: Action[];
  events: RecycleEvent[];
  /** Run the provisioner hook once the actions are applied. */
  startHook?: boolean;
  requeueAfterMs?: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const isLive = (t: Task): boolean => !TERMINAL_TASK_STATES.has(t.status?.state ?? 'new');
const requeue = (atMs: number, nowMs: number): number => Math.min(MAX_REQUEUE_MS, Math.max(1, atMs - nowMs));

/** Name of the Revocation a recycle of `node` writes. */
export const revocationName = (node: string): string => `node.${node}`;

/** Why the node is due for recycling now, and when it will be if not yet. */
export function dueReason(node: NodeObject, nowMs: number, clusterMaxAgeMs: number | undefined): { reason?: string; dueAtMs?: number } {
  if (node.metadata.annotations?.[RECYCLE_REQUEST_ANNOTATION] !== undefined) return { reason: 'recycled: requested' };
  const maxAge = maxAgeOf(node, clusterMaxAgeMs);
  const joined = Date.parse(node.metadata.creationTimestamp);
  if (maxAge === undefined || !Number.isFinite(joined)) return {};
  const dueAtMs = joined + maxAge;
  return nowMs >= dueAtMs ? { reason: `recycled: older than ${formatNodeAge(maxAge)}` } : { dueAtMs };
}

/** True when a recycle is under way (not merely waiting for its turn). */
export function isRecycling(n: NodeObject): boolean {
  const p = n.status?.recycle?.phase;
  return p !== undefined && p !== 'waiting';
}

/** The node with a new recycle state (and availability), as an update action. */
function write(node: NodeObject, recycle: NodeRecycle | undefined, why: string, availability?: NodeSpec['availability']): Action {
  const status = node.status === undefined ? undefined : { ...node.status };
  if (status !== undefined) {
    if (recycle === undefined) delete status.recycle;
    else status.recycle = recycle;
  }
  const spec = availability === undefined ? node.spec : { ...node.spec, availability };
  return { type: 'update', object: { ...node, spec, ...(status !== undefined ? { status } : {}) }, expectedRevision: node.metadata.revision, reason: why };
}

/** Decides the next step for one node; see the file comment. */
export function computeRecycle(input: RecycleInput): RecyclePlan {
  const r = input.node.status?.recycle;
  if (r === undefined || r.phase === 'waiting') return startOrWait(input, r);
  if (r.phase === 'provisioning') return afterProvisioner(input, r);
  if (r.phase === 'cordoned') {
    const next: NodeRecycle = { ...r, phase: 'draining', since: iso(input.nowMs), message: 'moving its tasks, replacements first' };
    return { actions: [write(input.node, next, 'recycle: drain', 'drain')], events: [], requeueAfterMs: input.drainTimeoutMs };
  }
  return drainOrRemove(input, r);
}

function startOrWait(input: RecycleInput, r: NodeRecycle | undefined): RecyclePlan {
  const { node, nowMs } = input;
  const due = dueReason(node, nowMs, input.clusterMaxAgeMs);
  if (due.reason === undefined) {
    // No longer due (label changed to off, annotation removed): forget a waiting state.
    const actions = r !== undefined ? [write(node, undefined, 'recycle: no longer due')] : [];
    return { actions, events: [], ...(due.dueAtMs !== undefined ? { requeueAfterMs: requeue(due.dueAtMs, nowMs) } : {}) };
  }
  const blocked = input.otherRecycling !== undefined
    ? `waiting: node ${input.otherRecycling} is recycling (one node at a time)`
    : input.shortServices.length > 0 ? `waiting: services below their replicas: ${input.shortServices.join(', ')}`
      : !input.provisioner && input.otherSchedulable === 0 ? 'waiting: no other ready, active node for its tasks (and no provisioner to add one)' : undefined;
  if (blocked !== undefined) {
    if (r?.message === blocked && r.reason === due.reason) return { actions: [], events: [], requeueAfterMs: WAIT_RECHECK_MS };
    const waiting: NodeRecycle = { phase: 'waiting', since: r?.since ?? iso(nowMs), reason: due.reason, message: blocked };
    return { actions: [write(node, waiting, 'recycle: waiting')], events: [], requeueAfterMs: WAIT_RECHECK_MS };
  }
  const name = node.metadata.name;
  const events: RecycleEvent[] = [{ reason: 'RecycleStarted', type: 'Normal', message: `node ${name}: ${due.reason}` }];
  if (input.provisioner) {
    const next: NodeRecycle = { phase: 'provisioning', since: iso(nowMs), startedAt: iso(nowMs), reason: due.reason, message: 'asking the provisioner for a replacement' };
    return { actions: [write(node, next, 'recycle: start (provisioner)')], events, startHook: true, requeueAfterMs: input.provisionerTimeoutMs };
  }
  events.push({ reason: 'Cordoned', type: 'Normal', message: `node ${name} cordoned (no provisioner configured)` });
  const next: NodeRecycle = { phase: 'cordoned', since: iso(nowMs), startedAt: iso(nowMs), reason: due.reason, message: 'cordoned; no provisioner configured' };
  return { actions: [write(node, next, 'recycle: start (cordon)', cordoned(node))], events, requeueAfterMs: 1 };
}

/** Cordon, but a node already draining stays draining. */
const cordoned = (node: NodeObject): NodeSpec['availability'] => (node.spec.availability === 'drain' ? 'drain' : 'pause');

function afterProvisioner(input: RecycleInput, r: NodeRecycle): RecyclePlan {
  const { node, nowMs, hook } = input;
  const name = node.metadata.name;
  let event: RecycleEvent;
  if (hook?.done === true) {
    event = { reason: hook.ok ? 'ProvisionerCalled' : 'ProvisionerFailed', type: hook.ok ? 'Normal' : 'Warning', message: `node ${name}: ${hook.message}` };
  } else {
    // The hook is running here (it is killed at its bound; a little grace for its exit); or it
    // ran in a process that stopped (restart, new leader): it is not run twice. Either way the
    // recycle waits at most the hook's bound.
    const since = Date.parse(r.since);
    const deadline = (Number.isFinite(since) ? since : nowMs) + input.provisionerTimeoutMs + (hook !== undefined ? HOOK_EXIT_GRACE_MS : 0);
    if (nowMs < deadline) return { actions: [], events: [], requeueAfterMs: requeue(deadline, nowMs) };
    const why = hook !== undefined ? 'it did not end' : 'the server stopped while it ran';
    event = { reason: 'ProvisionerFailed', type: 'Warning', message: `node ${name}: no provisioner result after ${formatNodeAge(input.provisionerTimeoutMs)} (${why}): going on` };
  }
  const next: NodeRecycle = { ...r, phase: 'cordoned', since: iso(nowMs), message: event.message };
  const cordon: RecycleEvent = { reason: 'Cordoned', type: 'Normal', message: `node ${name} cordoned` };
  return { actions: [write(node, next, 'recycle: cordon', cordoned(node))], events: [event, cordon], requeueAfterMs: 1 };
}

function drainOrRemove(input: RecycleInput, r: NodeRecycle): RecyclePlan {
  const { node, nowMs } = input;
  const name = node.metadata.name;
  const live = input.tasks.filter(isLive);
  const deadline = Date.parse(r.since) + input.drainTimeoutMs;
  if (live.length > 0 && nowMs < deadline) {
    // Someone uncordoned it mid-drain: the recycle goes on (it is a security bound, not advice).
    const actions = node.spec.availability !== 'drain' ? [write(node, r, 'recycle: drain again', 'drain')] : [];
    const moving = live.filter((t) => t.metadata.annotations?.[MOVING_ANNOTATION] !== undefined).length;
    const message = `${live.length} task(s) still on it (${moving} moving, replacements first)`;
    if (r.message !== message && actions.length === 0) actions.push(write(node, { ...r, message }, 'recycle: drain progress'));
    return { actions, events: [], requeueAfterMs: requeue(deadline, nowMs) };
  }
  const drained = live.length === 0 ? `node ${name} drained` : `node ${name}: drain deadline (${formatNodeAge(input.drainTimeoutMs)}) passed with ${live.length} task(s) on it: removing it anyway`;
  const revocation = revocationOf(input, r.reason);
  const actions: Action[] = [
    input.revocation === undefined
      ? { type: 'create', object: revocation, reason: 'recycle: revoke' }
      : { type: 'update', object: revocation, expectedRevision: input.revocation.metadata.revision, reason: 'recycle: revoke' },
    { type: 'delete', key: keyOf(node), expectedRevision: node.metadata.revision, reason: 'recycle: remove node' },
  ];
  if (input.lease !== undefined) actions.push({ type: 'delete', key: keyOf(input.lease), expectedRevision: input.lease.metadata.revision, reason: 'recycle: remove lease' });
  return {
    actions,
    events: [
      { reason: 'Drained', type: live.length === 0 ? 'Normal' : 'Warning', message: drained },
      { reason: 'NodeRemoved', type: 'Normal', message: `node ${name} removed; certificates of node:${name} issued before ${iso(nowMs)} revoked (${r.reason})` },
    ],
  };
}

/** The Revocation `node.NAME`: every certificate of node:NAME issued before now. */
function revocationOf(input: RecycleInput, reason: string): Revocation {
  const name = input.node.metadata.name;
  const now = iso(input.nowMs);
  const old = input.revocation;
  return {
    kind: 'Revocation',
    metadata: old !== undefined
      ? { ...old.metadata }
      : { name: revocationName(name), namespace: '', uid: `revocation-${input.node.metadata.uid}`, labels: {}, revision: 0, generation: 1, creationTimestamp: now },
    spec: { subject: `node:${name}`, issuedBefore: now, reason },
  };
}
