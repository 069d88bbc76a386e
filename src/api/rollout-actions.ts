/**
 * What `flotilla rollout pause|resume|promote|undo|restart` does to a Service, as one pure
 * transition: the service as read -> the service to write (spec and/or status), or a typed
 * error saying why not. The API server applies it with the read revision as the expected one
 * (src/server/http/rollout.ts), so a race with the rollout controller re-reads and re-applies.
 *
 *   pause    progressing ─────────────► paused (userPaused)
 *   resume   paused ──────────────────► progressing (failures counted from now)
 *   promote  waiting-promotion ─┬─ blue-green ► complete: the name serves R, S kept until scaleDownAt
 *                               └─ canary ────► progressing, next step
 *   undo     spec <- a history template (replicas, update, restart kept); blue-green whose
 *            target still runs: switch back at once (status.revision = target, complete)
 *   restart  spec.restartedAt = now (a new revision of the same spec)
 *
 * See docs/decisions/rollouts.md ("User actions").
 */
import { BadRequestError, ConflictError, NotFoundError } from './errors.js';
import type { RolloutStatus, Service, ServiceRevision, ServiceSpec } from './kinds.js';
import { keepsPrevious, revisionOfSpec, rolloutActive } from './rollout.js';

/** The actions a user can take on a rollout, as the API's request body names them. */
export const ROLLOUT_ACTIONS = ['pause', 'resume', 'promote', 'undo', 'restart'] as const;

/** One of ROLLOUT_ACTIONS. */
export type RolloutAction = (typeof ROLLOUT_ACTIONS)[number];

/** Body of `POST /api/v1/services/NAME/rollout`. */
export interface RolloutActionRequest {
  action: RolloutAction;
  /** undo only: the revision to go back to (default: the newest one other than the spec's). */
  toRevision?: number;
}

/** The clock and the arguments of one action. */
export interface RolloutActionOptions {
  nowMs: number;
  toRevision?: number;
}

/** Message a user pause leaves in status.rollout.message. */
export const USER_PAUSE_MESSAGE = 'paused by flotilla rollout pause';

/** True when `s` names an action. */
export function isRolloutAction(s: unknown): s is RolloutAction {
  return typeof s === 'string' && (ROLLOUT_ACTIONS as readonly string[]).includes(s);
}

/**
 * The service after `action`, or throws: ConflictError (409) when the rollout is not in a
 * state the action applies to, NotFoundError (404) for an unknown undo revision,
 * BadRequestError (400) for an argument the action does not take. Never mutates `svc`.
 */
export function applyRolloutAction(svc: Service, action: RolloutAction, opts: RolloutActionOptions): Service {
  if (opts.toRevision !== undefined && action !== 'undo') throw new BadRequestError(`toRevision: only undo takes a revision, not ${action}`);
  switch (action) {
    case 'pause': return pause(svc, opts.nowMs);
    case 'resume': return resume(svc, opts.nowMs);
    case 'promote': return promote(svc, opts.nowMs);
    case 'undo': return undo(svc, opts.nowMs, opts.toRevision);
    case 'restart': return { ...svc, spec: { ...svc.spec, restartedAt: iso(opts.nowMs) } };
  }
}

function pause(svc: Service, nowMs: number): Service {
  const r = svc.status?.rollout;
  if (r?.state !== 'progressing') throw new ConflictError(`${serviceName(svc)} has no rollout in progress (${stateText(r)})`);
  return withRollout(svc, { ...r, state: 'paused', userPaused: true, since: iso(nowMs), message: USER_PAUSE_MESSAGE });
}

function resume(svc: Service, nowMs: number): Service {
  const r = svc.status?.rollout;
  if (r?.state !== 'paused') throw new ConflictError(`${serviceName(svc)} has no paused rollout (${stateText(r)})`);
  const now = iso(nowMs);
  return withRollout(svc, { ...r, state: 'progressing', userPaused: false, since: now, failuresSince: now, message: 'resumed by flotilla rollout resume' });
}

function promote(svc: Service, nowMs: number): Service {
  const r = svc.status?.rollout;
  if (r?.state !== 'waiting-promotion') throw new ConflictError(`${serviceName(svc)} is not waiting for promotion (${stateText(r)})`);
  const now = iso(nowMs);
  if (r.strategy === 'blue-green') {
    const previous = svc.status?.revision ?? r.from;
    const scaleDownAt = iso(nowMs + svc.spec.update.scaleDownDelaySeconds * 1000);
    const message = `promoted: revision ${r.revision} serves ${svc.metadata.name}; revision ${previous} kept until ${scaleDownAt} for undo`;
    const rollout: RolloutStatus = { ...r, state: 'complete', from: previous, since: now, finishedAt: now, scaleDownAt, message };
    return { ...svc, status: { ...svc.status, revision: r.revision, rollout } };
  }
  if (r.strategy === 'canary') {
    const step = (r.step ?? 0) + 1;
    return withRollout(svc, { ...r, state: 'progressing', step, since: now, message: 'promoted by flotilla rollout promote' });
  }
  throw new ConflictError(`${serviceName(svc)} has a ${r.strategy} rollout: nothing to promote`);
}

/**
 * Undo: the spec becomes the target's template, keeping what does not make a revision
 * (replicas, update, restart). A blue-green service whose target still runs (kept after a
 * promotion or an undo, or the stable side of a rollout in progress) also switches its traffic
 * back in the same write, so the name serves the target at once.
 */
function undo(svc: Service, nowMs: number, toRevision: number | undefined): Service {
  const target = undoTarget(svc, toRevision);
  const spec: ServiceSpec = { ...target.template, replicas: svc.spec.replicas, update: svc.spec.update, restart: svc.spec.restart };
  if (target.template.restartedAt === undefined) delete spec.restartedAt;
  const next: Service = { ...svc, spec };
  const r = svc.status?.rollout;
  const stillRuns = r !== undefined && r.from === target.revision && (keepsPrevious(r, nowMs) || (rolloutActive(r) && r.strategy === 'blue-green'));
  if (!stillRuns) return next;
  const now = iso(nowMs);
  const previous = svc.status?.revision ?? r.revision;
  const rollout: RolloutStatus = {
    state: 'complete',
    strategy: 'blue-green',
    revision: target.revision,
    // The side given up: the one the name served, or (undo before a promotion) the preview.
    from: previous !== target.revision ? previous : r.revision,
    scaleDownAt: iso(nowMs + svc.spec.update.scaleDownDelaySeconds * 1000),
    since: now,
    startedAt: now,
    finishedAt: now,
    failuresSince: now,
    message: `undone: switched back to revision ${target.revision}`,
  };
  return { ...next, status: { ...svc.status, revision: target.revision, rollout } };
}

/** The history entry undo goes back to; see RolloutActionRequest.toRevision. */
export function undoTarget(svc: Service, toRevision?: number): ServiceRevision {
  const history = svc.status?.history ?? [];
  const current = revisionOfSpec(svc)?.revision;
  if (toRevision !== undefined) {
    const found = history.find((h) => h.revision === toRevision);
    if (found === undefined) {
      const there = history.length > 0 ? history.map((h) => h.revision).join(', ') : 'none';
      throw new NotFoundError(`${serviceName(svc)} has no revision ${toRevision} (revisions: ${there})`);
    }
    if (found.revision === current) throw new ConflictError(`${serviceName(svc)} is at revision ${toRevision} already`);
    return found;
  }
  const newest = history.filter((h) => h.revision !== current).sort(newestFirst)[0];
  if (newest === undefined) throw new ConflictError(`${serviceName(svc)} has no earlier revision to undo to`);
  return newest;
}

/** Last rolled out first (createdAt, then the higher number): where `undo` goes by default. */
function newestFirst(a: ServiceRevision, b: ServiceRevision): number {
  const ta = Date.parse(a.createdAt);
  const tb = Date.parse(b.createdAt);
  const byTime = (Number.isNaN(tb) ? -Infinity : tb) - (Number.isNaN(ta) ? -Infinity : ta);
  return byTime !== 0 && !Number.isNaN(byTime) ? byTime : b.revision - a.revision;
}

function withRollout(svc: Service, rollout: RolloutStatus): Service {
  return { ...svc, status: { ...svc.status, rollout } };
}

/** `service web`, or `service prod/web` outside the default namespace. */
function serviceName(svc: Service): string {
  const ns = svc.metadata.namespace;
  return `service ${ns !== '' && ns !== 'default' ? `${ns}/` : ''}${svc.metadata.name}`;
}

function stateText(r: RolloutStatus | undefined): string {
  return r === undefined ? 'no rollout' : `rollout: ${r.state}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
