/**
 * How the tasks of one revision are doing, for the rollout's health gate: which units have a
 * task that is running and ready for `monitorSeconds` (healthy), and which units had a task
 * fail since the rollout's `failuresSince` (ended, failing its readiness probe, or not ready
 * within `progressDeadlineSeconds`), with a reason a person reads. Pure.
 *
 * A task waiting for its image pull to be retried (registry down: src/api/pull-wait.ts) is
 * neither healthy nor failed: it is `waiting`, and its progress deadline does not run (the
 * rollout moves failuresSince on while anyone waits, so the deadline starts again after the pull).
 */
import type { Service, Task, UpdatePolicy } from '../../api/kinds.js';
import { isPullWaiting } from '../../api/pull-wait.js';
import { taskRevision } from '../../api/rollout.js';
import { createdAt, isForeign, isTerminal, stateSince } from '../service/tasks.js';

/** The health of one revision's tasks. */
export interface RevisionHealth {
  /** Units whose task is running and ready for monitorSeconds. */
  healthy: number;
  /** Units whose task is running and ready now. */
  ready: number;
  /** Failed units (slot, or node for global services) and why. */
  failed: Map<string, string>;
  /** Units whose task waits for an image pull to be retried, with the task's message. */
  waiting: Map<string, string>;
  /** Earliest time at which a task's monitor period or deadline ends (a reason to look again). */
  nextCheckMs?: number;
}

const unitOf = (t: Task): string => (t.spec.slot === 0 ? `node ${t.spec.node}` : `slot ${t.spec.slot}`);

/** Why an ended task counts as failed, or undefined when it does not count (shut down, orphaned, complete). */
function endedReason(t: Task): string | undefined {
  const s = t.status;
  if (s === undefined) return undefined;
  const msg = s.message ?? '';
  if (s.state === 'rejected') return 'were rejected';
  if (s.state !== 'failed') return undefined;
  if (msg.startsWith('liveness probe failed')) return 'failed the liveness probe';
  if (msg.startsWith('startup probe failed')) return 'failed the startup probe';
  if (msg.startsWith('OOM')) return 'were OOM-killed';
  return 'exited with an error';
}

/** When the task became ready (ms), or undefined when it is not ready. */
function readySinceMs(t: Task): number | undefined {
  if (t.status?.state !== 'running' || t.status.ready !== true) return undefined;
  const at = Date.parse(t.status.readySince ?? t.status.timestamp);
  return Number.isFinite(at) ? at : 0;
}

/** See the file comment. */
export function revisionHealth(svc: Service, tasks: readonly Task[], revision: number, update: UpdatePolicy, failuresSinceMs: number, nowMs: number): RevisionHealth {
  const out: RevisionHealth = { healthy: 0, ready: 0, failed: new Map(), waiting: new Map() };
  const healthyUnits = new Set<string>();
  const readyUnits = new Set<string>();
  const later = (at: number): void => {
    if (at > nowMs) out.nextCheckMs = out.nextCheckMs === undefined ? at : Math.min(out.nextCheckMs, at);
  };
  for (const t of tasks) {
    if (isForeign(t, svc) || taskRevision(t, svc) !== revision) continue;
    const unit = unitOf(t);
    if (isTerminal(t)) {
      const why = endedReason(t);
      if (why !== undefined && stateSince(t) >= failuresSinceMs) out.failed.set(unit, why);
      continue;
    }
    if (t.spec.desiredState !== 'running') continue;
    const since = readySinceMs(t);
    if (since !== undefined) {
      readyUnits.add(unit);
      const healthyAt = since + update.monitorSeconds * 1000;
      if (healthyAt <= nowMs) healthyUnits.add(unit);
      else later(healthyAt);
      continue;
    }
    if (isPullWaiting(t)) {
      out.waiting.set(unit, t.status?.message ?? '');
      continue;
    }
    const probe = t.status?.probes?.readiness;
    if (t.status?.state === 'running' && probe?.result === 'failure' && Date.parse(probe.time) >= failuresSinceMs) {
      out.failed.set(unit, 'failed the readiness probe');
      continue;
    }
    const deadline = Math.max(createdAt(t), failuresSinceMs) + update.progressDeadlineSeconds * 1000;
    if (deadline <= nowMs) out.failed.set(unit, `did not become ready within ${update.progressDeadlineSeconds}s`);
    else later(deadline);
  }
  for (const u of healthyUnits) {
    out.failed.delete(u);
    out.waiting.delete(u);
  }
  out.healthy = healthyUnits.size;
  out.ready = readyUnits.size;
  return out;
}

/** "2/3 new tasks failed the readiness probe": the most common reason, over `of` units. */
export function failureSummary(failed: Map<string, string>, of: number): string {
  const counts = new Map<string, number>();
  for (const why of failed.values()) counts.set(why, (counts.get(why) ?? 0) + 1);
  const [why] = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0] ?? ['failed'];
  return `${failed.size}/${Math.max(of, failed.size)} new tasks ${why}`;
}
