/**
 * The rollout controller's decision (STYLE.md 5), pure: from a service and its tasks, the next
 * service status (and, on rollback, spec). See README.md for the state machine.
 *
 *   spec's template not in history ─► record it (new revision, or the old number again)
 *   no stable revision yet          ─► the first revision is stable at once (nothing to roll)
 *   template != what is rolled out  ─► start a rollout from the stable revision
 *   rollout active                  ─► health gate: next batch / step, waiting-promotion,
 *                                      complete, or failureAction (rollback | pause | continue)
 */
import { REVISION_HISTORY_LIMIT, type RolloutStatus, type Service, type ServiceRevision, type ServiceStatus, type Task } from '../../api/kinds.js';
import { pullWaitSummary } from '../../api/pull-wait.js';
import { canaryWeightAt, historyEntry, rolloutActive, templateHash } from '../../api/rollout.js';
import { canaryCount } from '../service/revisions.js';
import { failureSummary, revisionHealth, type RevisionHealth } from './health.js';

/** Everything one decision looks at. */
export interface RolloutInput {
  service: Service;
  /** The service's tasks, history included. */
  tasks: readonly Task[];
  nowMs: number;
}

/** The decision: the service to write (undefined: nothing changes) and when to look again. */
export interface RolloutDecision {
  next?: Service;
  reason: string;
  requeueAfterMs?: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** History with `entry` as its newest member, trimmed to the limit (keeping the revisions in use). */
function withEntry(history: readonly ServiceRevision[], entry: ServiceRevision, keep: ReadonlySet<number>): ServiceRevision[] {
  const out = [...history.filter((h) => h.revision !== entry.revision), entry];
  while (out.length > REVISION_HISTORY_LIMIT) {
    const i = out.findIndex((h) => !keep.has(h.revision) && h.revision !== entry.revision);
    if (i < 0) break;
    out.splice(i, 1);
  }
  return out;
}

function withStatus(svc: Service, status: ServiceStatus): Service {
  return { ...svc, status };
}

/** See the file comment. */
export function computeRollout(input: RolloutInput): RolloutDecision {
  const svc = input.service;
  const now = input.nowMs;
  const status = svc.status ?? {};
  const history = status.history ?? [];
  const hash = templateHash(svc.spec);
  let entry = history.find((h) => h.hash === hash);
  if (status.revision === undefined || historyEntry(svc, status.revision) === undefined) {
    const revision = entry?.revision ?? Math.max(0, ...history.map((h) => h.revision)) + 1;
    entry ??= { revision, hash, template: svc.spec, createdAt: iso(now), image: svc.spec.image, cause: 'apply' };
    return { next: withStatus(svc, { ...status, revision, history: withEntry(history, entry, new Set()) }), reason: `first revision ${revision}` };
  }
  const r = status.rollout;
  const rolledTo = rolloutActive(r) ? r.revision : status.revision;
  if (entry === undefined || entry.revision !== rolledTo) return startRollout(svc, entry, now);
  if (!rolloutActive(r)) return { reason: 'nothing to roll out' };
  return progress(svc, r, input.tasks, now);
}

/** A rollout of the spec's template (recorded as a new revision when unseen) from the stable revision. */
function startRollout(svc: Service, seen: ServiceRevision | undefined, now: number): RolloutDecision {
  const status = svc.status ?? {};
  const history = status.history ?? [];
  const stable = status.revision as number;
  const revision = seen?.revision ?? Math.max(0, ...history.map((h) => h.revision)) + 1;
  const stableTemplate = historyEntry(svc, stable)?.template;
  const onlyRestart = stableTemplate !== undefined && templateHash({ ...stableTemplate, restartedAt: svc.spec.restartedAt }) === templateHash(svc.spec);
  const entry: ServiceRevision = { revision, hash: templateHash(svc.spec), template: svc.spec, createdAt: iso(now), image: svc.spec.image, cause: seen?.cause ?? (onlyRestart ? 'restart' : 'apply') };
  const keep = new Set([stable, revision]);
  const nextHistory = withEntry(history, entry, keep);
  if (revision === stable) {
    // Back to the stable revision while another was rolling out: that rollout is abandoned.
    const old = status.rollout;
    const rollout: RolloutStatus | undefined = old === undefined ? undefined
      : { ...old, state: 'rolled-back', revision: stable, from: old.revision, finishedAt: iso(now), message: `abandoned: the spec is back at revision ${stable}` };
    return { next: withStatus(svc, { ...status, history: nextHistory, ...(rollout !== undefined ? { rollout } : {}) }), reason: `rollout to ${old?.revision ?? '?'} abandoned` };
  }
  const u = svc.spec.update;
  const rollout: RolloutStatus = {
    state: 'progressing', strategy: u.strategy, revision, from: stable,
    since: iso(now), failuresSince: iso(now), startedAt: iso(now),
    message: `rolling out revision ${revision} (from ${stable}, ${u.strategy})`,
    ...(u.strategy === 'rolling' ? { updated: 0 } : {}),
    ...(u.strategy === 'canary' ? { step: 0, weight: canaryWeightAt(u.steps, 0) } : {}),
  };
  return { next: withStatus(svc, { ...status, history: nextHistory, rollout }), reason: `rollout ${stable} -> ${revision}`, requeueAfterMs: 1 };
}

/** Units the service has: replicas, or (global) the nodes holding a desired-running task. */
function unitCount(svc: Service, tasks: readonly Task[]): number {
  if (svc.spec.mode !== 'global') return svc.spec.replicas;
  return new Set(tasks.filter((t) => t.spec.desiredState === 'running').map((t) => t.spec.node)).size;
}

/** Moves an active rollout along; see README.md. */
function progress(svc: Service, r: RolloutStatus, tasks: readonly Task[], now: number): RolloutDecision {
  const u = svc.spec.update;
  const n = unitCount(svc, tasks);
  const health = revisionHealth(svc, tasks, r.revision, u, Date.parse(r.failuresSince) || 0, now);
  const wake = (ms?: number): number | undefined => (ms === undefined ? undefined : Math.max(1, ms - now));
  if (r.state === 'paused') return { reason: 'paused', requeueAfterMs: wake(health.nextCheckMs) };
  const strategyStep = r.strategy === 'rolling' ? rollingStep(svc, r, health, n, now) : r.strategy === 'blue-green' ? blueGreenStep(svc, r, health, n, now) : canaryStep(svc, r, health, n, now);
  const step = waitingForPulls(strategyStep, r, health, now);
  const next = step.rollout;
  const changed = next !== undefined && JSON.stringify(next) !== JSON.stringify(r);
  const requeue = [wake(health.nextCheckMs), step.wakeInMs].filter((x): x is number => x !== undefined);
  const requeueAfterMs = requeue.length > 0 ? Math.min(...requeue) : undefined;
  if (step.rollback !== undefined) return rollback(svc, r, step.rollback, now);
  if (!changed && step.stable === undefined) return { reason: step.reason, requeueAfterMs };
  const status: ServiceStatus = { ...(svc.status ?? {}), ...(next !== undefined ? { rollout: next } : {}), ...(step.stable !== undefined ? { revision: step.stable } : {}) };
  return { next: withStatus(svc, status), reason: step.reason, requeueAfterMs };
}

/** What one strategy decided. */
interface StepResult {
  rollout?: RolloutStatus;
  /** The new stable revision (the rollout is complete). */
  stable?: number;
  /** Roll back with this message. */
  rollback?: string;
  wakeInMs?: number;
  reason: string;
}

/** How often, at most, a rollout waiting for image pulls moves its failuresSince on (one write per period). */
export const PULL_WAIT_REFRESH_MS = 5_000;

/**
 * While new tasks wait for their image pull to be retried (registry down), the rollout neither
 * fails nor rolls back for them: it says so ("waiting: image X cannot be pulled: registry
 * unreachable (1/2 new tasks retrying); ...") and moves failuresSince on, so the progress
 * deadline counts from the moment the pull works. A completed or rolled back step is left alone.
 */
function waitingForPulls(step: StepResult, r: RolloutStatus, health: RevisionHealth, now: number): StepResult {
  if (health.waiting.size === 0 || step.rollback !== undefined || step.stable !== undefined) return step;
  const base = step.rollout ?? r;
  if (base.state !== 'progressing') return step;
  const first = [...health.waiting.values()].sort()[0] ?? '';
  const units = health.waiting.size + health.healthy + health.failed.size;
  const progressMessage = base.message.startsWith('waiting: ') ? base.message.slice(base.message.indexOf('; ') + 2) : base.message;
  const message = `${pullWaitSummary(first)} (${health.waiting.size}/${Math.max(units, health.waiting.size)} new tasks retrying); ${progressMessage}`;
  const since = Date.parse(base.failuresSince) || 0;
  const failuresSince = now - since >= PULL_WAIT_REFRESH_MS ? iso(now) : base.failuresSince;
  return { ...step, rollout: { ...base, message, failuresSince }, wakeInMs: Math.min(step.wakeInMs ?? PULL_WAIT_REFRESH_MS, PULL_WAIT_REFRESH_MS), reason: `${step.reason}; waiting for image pulls` };
}

/** failureAction for `failed` units of `of`; undefined when within maxFailureRatio or ignored. */
function onFailures(svc: Service, r: RolloutStatus, health: RevisionHealth, of: number): StepResult | undefined {
  const u = svc.spec.update;
  if (health.failed.size === 0 || u.failureAction === 'continue') return undefined;
  if (health.failed.size / Math.max(1, of) <= u.maxFailureRatio) return undefined;
  const summary = failureSummary(health.failed, of);
  if (u.failureAction === 'rollback') return { rollback: `rolled back: ${summary}`, reason: 'failure: rollback' };
  return {
    rollout: { ...r, state: 'paused', userPaused: false, message: `paused: ${summary}; fix the spec, or run flotilla rollout resume|undo service ${svc.metadata.name}` },
    reason: 'failure: pause',
  };
}

function complete(r: RolloutStatus, now: number, message: string, extra: Partial<RolloutStatus> = {}): StepResult {
  return { rollout: { ...r, ...extra, state: 'complete', finishedAt: iso(now), since: iso(now), message }, stable: r.revision, reason: 'complete' };
}

/** Counts a "continue" rollout's failed units as done (they will not get better by waiting). */
function doneUnits(svc: Service, health: RevisionHealth): number {
  return health.healthy + (svc.spec.update.failureAction === 'continue' ? health.failed.size : 0);
}

function rollingStep(svc: Service, r: RolloutStatus, health: RevisionHealth, n: number, now: number): StepResult {
  const u = svc.spec.update;
  const batch = u.parallelism === 0 ? n : u.parallelism;
  const updated = Math.min(n, r.updated ?? 0);
  if (updated === 0 && n > 0) {
    return { rollout: { ...r, updated: Math.min(n, batch), since: iso(now), message: `0/${n} tasks updated, batch 1 of ${Math.ceil(n / Math.max(1, batch))}` }, reason: 'first batch' };
  }
  const failure = onFailures(svc, r, health, updated);
  if (failure !== undefined) return failure;
  const done = Math.min(doneUnits(svc, health), updated);
  if (done >= n) return complete(r, now, `revision ${r.revision}: ${n}/${n} tasks updated and ready`);
  const message = `${done}/${n} tasks updated and ready (${updated} started)`;
  if (done < updated) return { rollout: { ...r, message }, reason: 'batch not healthy yet' };
  if (u.delaySeconds > 0) {
    const readyAt = r.batchReadyAt === undefined ? now : Date.parse(r.batchReadyAt);
    const nextAt = readyAt + u.delaySeconds * 1000;
    if (now < nextAt) {
      return { rollout: { ...r, batchReadyAt: iso(readyAt), message: `${message}; next batch in ${u.delaySeconds}s` }, wakeInMs: nextAt - now, reason: 'delay' };
    }
  }
  const more = Math.min(n, updated + batch);
  const { batchReadyAt: _done, ...rest } = r;
  void _done;
  return { rollout: { ...rest, updated: more, since: iso(now), message: `${done}/${n} tasks updated and ready (${more} started)` }, reason: 'next batch' };
}

function blueGreenStep(svc: Service, r: RolloutStatus, health: RevisionHealth, n: number, now: number): StepResult {
  const failure = onFailures(svc, r, health, n);
  if (failure !== undefined) return failure;
  const done = Math.min(doneUnits(svc, health), n);
  if (r.state === 'waiting-promotion') return { reason: 'waiting for promotion' };
  if (done >= n) {
    return { rollout: { ...r, state: 'waiting-promotion', since: iso(now), message: `${n}/${n} new tasks ready on ${svc.metadata.name}-preview; promote with: flotilla rollout promote service ${svc.metadata.name}` }, reason: 'preview ready' };
  }
  return { rollout: { ...r, message: `${done}/${n} new tasks ready on ${svc.metadata.name}-preview` }, reason: 'preview starting' };
}

function canaryStep(svc: Service, r: RolloutStatus, health: RevisionHealth, n: number, now: number): StepResult {
  const steps = svc.spec.update.steps;
  const i = r.step ?? 0;
  const weight = canaryWeightAt(steps, i);
  const want = i >= steps.length ? n : canaryCount(n, weight);
  const failure = onFailures(svc, r, health, want);
  if (failure !== undefined) return failure;
  const done = Math.min(doneUnits(svc, health), want);
  const at = { ...r, weight };
  const advance = (why: string): StepResult => ({ rollout: { ...at, state: 'progressing', step: i + 1, weight: canaryWeightAt(steps, i + 1), since: iso(now), message: `step ${i + 2}/${steps.length + 1}: weight ${canaryWeightAt(steps, i + 1)}%` }, reason: why, wakeInMs: 1 });
  if (done < want) return { rollout: { ...at, message: `step ${i + 1}/${steps.length + 1}: weight ${weight}%, ${done}/${want} new tasks ready` }, reason: 'canary tasks starting' };
  if (i >= steps.length) return complete(at, now, `revision ${r.revision}: ${n}/${n} tasks at weight 100%`, { weight: 100 });
  const s = steps[i];
  if (s !== undefined && 'pause' in s) {
    if (s.pause.seconds === undefined) {
      if (r.state === 'waiting-promotion') return { reason: 'waiting for promotion' };
      return { rollout: { ...at, state: 'waiting-promotion', message: `paused at weight ${weight}%: promote with: flotilla rollout promote service ${svc.metadata.name}` }, reason: 'pause step' };
    }
    const until = Date.parse(r.since) + s.pause.seconds * 1000;
    if (now < until) return { rollout: { ...at, message: `paused at weight ${weight}% for ${s.pause.seconds}s` }, wakeInMs: until - now, reason: 'timed pause' };
  }
  return advance('step done');
}

/** failureAction rollback: the spec goes back to the stable revision's template, in the same write as the status. */
function rollback(svc: Service, r: RolloutStatus, message: string, now: number): RolloutDecision {
  const previous = historyEntry(svc, r.from);
  const status = svc.status ?? {};
  if (previous === undefined) {
    const rollout: RolloutStatus = { ...r, state: 'failed', finishedAt: iso(now), message: `${message.replace(/^rolled back: /, 'failed: ')}; revision ${r.from} is no longer in the history` };
    return { next: withStatus(svc, { ...status, rollout }), reason: 'rollback impossible' };
  }
  const spec = { ...previous.template, replicas: svc.spec.replicas, update: svc.spec.update, restart: svc.spec.restart };
  const rollout: RolloutStatus = { ...r, state: 'rolled-back', revision: r.from, from: r.revision, finishedAt: iso(now), since: iso(now), message };
  const history = (status.history ?? []).map((h) => (h.revision === r.from ? { ...h, cause: 'rollback', createdAt: iso(now) } : h));
  const metadata = { ...svc.metadata, generation: svc.metadata.generation + 1 };
  return { next: { ...svc, metadata, spec, status: { ...status, history, rollout } }, reason: message };
}
