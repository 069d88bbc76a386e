/**
 * Is a service crash-looping? Pure, over the service's tasks (history included), for
 * `status.crashLoop` (docs/reliability.md, fault 5). A unit (slot, or node of a global service)
 * is in a crash loop when its last ended task failed quickly for the CRASH_LOOP_RESTARTS-th
 * time in a row (restart.ts counts those quick failures for its backoff), and no task of the
 * unit has run fine (BACKOFF_RESET_AFTER_MS) since. The message says which task, how it ended,
 * how many quick failures in a row and the backoff before the next restart:
 *
 *   crash loop: task web-1-x8k2p failed (exited with code 1), 5 quick failures in a row, next restart in 16s (backoff doubles up to 60s)
 *
 * The numbers change once per restart, so the status is written once per restart, not per sync.
 */
import type { RestartPolicy, Service, Task } from '../../api/kinds.js';
import { BACKOFF_RESET_AFTER_MS, restartDelayMs } from './restart.js';
import { createdAt, isForeign, isTerminal, newestFirst, restartsOf, stateSince } from './tasks.js';

/** Quick failures in a row from which a unit counts as crash-looping. */
export const CRASH_LOOP_RESTARTS = 3;

/** `status.crashLoop` of a service: absent when no unit loops. */
export interface CrashLoopStatus {
  /** Units in a crash loop. */
  units: number;
  /** About the unit with the most quick failures in a row (see the file comment). */
  message: string;
}

/** The crash loop of one unit, from its tasks newest first. */
function unitLoop(tasks: readonly Task[], policy: RestartPolicy, nowMs: number): { failures: number; message: string; clearAtMs?: number } | undefined {
  const lastFailed = tasks.find((t) => isTerminal(t) && t.status?.state === 'failed');
  if (lastFailed === undefined) return undefined;
  const ranFine = stateSince(lastFailed) - createdAt(lastFailed) >= BACKOFF_RESET_AFTER_MS;
  const failures = ranFine ? 1 : restartsOf(lastFailed) + 1;
  if (failures < CRASH_LOOP_RESTARTS) return undefined;
  // A newer task that has been running long enough ends the loop.
  const newer = tasks.filter((t) => createdAt(t) > createdAt(lastFailed) && t.status?.state === 'running');
  let clearAtMs: number | undefined;
  for (const t of newer) {
    const fineAt = stateSince(t) + BACKOFF_RESET_AFTER_MS;
    if (fineAt <= nowMs) return undefined;
    clearAtMs = clearAtMs === undefined ? fineAt : Math.min(clearAtMs, fineAt);
  }
  const how = lastFailed.status?.message ?? 'failed';
  const delay = Math.round(restartDelayMs(policy, failures) / 1000);
  const cap = Math.round(Math.max(restartDelayMs(policy, 1), policy.maxDelaySeconds * 1000) / 1000);
  const message = `crash loop: task ${lastFailed.metadata.name} failed (${how}), ${failures} quick failures in a row, next restart in ${delay}s (backoff doubles up to ${cap}s)`;
  return { failures, message, ...(clearAtMs !== undefined ? { clearAtMs } : {}) };
}

/** The service's crash loop (undefined: none) and when to look again to clear it. */
export function crashLoopOf(svc: Service, tasks: readonly Task[], nowMs: number): { status?: CrashLoopStatus; wakeAtMs?: number } {
  const byUnit = new Map<string, Task[]>();
  for (const t of tasks) {
    if (isForeign(t, svc)) continue;
    const k = t.spec.slot === 0 ? `node ${t.spec.node}` : `slot ${t.spec.slot}`;
    const list = byUnit.get(k);
    if (list === undefined) byUnit.set(k, [t]);
    else list.push(t);
  }
  let worst: { failures: number; message: string } | undefined;
  let units = 0;
  let wakeAtMs: number | undefined;
  for (const list of byUnit.values()) {
    if (!list.some((t) => t.spec.desiredState === 'running')) continue; // a unit the service no longer has
    const loop = unitLoop([...list].sort(newestFirst), svc.spec.restart, nowMs);
    if (loop === undefined) continue;
    units++;
    if (worst === undefined || loop.failures > worst.failures) worst = loop;
    if (loop.clearAtMs !== undefined) wakeAtMs = wakeAtMs === undefined ? loop.clearAtMs : Math.min(wakeAtMs, loop.clearAtMs);
  }
  return { ...(worst !== undefined ? { status: { units, message: worst.message } } : {}), ...(wakeAtMs !== undefined ? { wakeAtMs } : {}) };
}
