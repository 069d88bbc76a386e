/**
 * The restart policy of an ended task, as a pure decision: keep it (policy says no), wait
 * (backoff not over yet), or replace it now. Backoff is per slot (per node for global
 * services): `delaySeconds` doubling per consecutive quick failure, capped at
 * `maxDelaySeconds`, reset once a task ran for BACKOFF_RESET_AFTER_MS. So a crash-looping
 * service costs one task every few seconds, not a spinning machine.
 */
import type { RestartPolicy, Task } from '../../api/kinds.js';
import { createdAt, restartsOf, stateSince } from './tasks.js';

/** A task that lived at least this long before ending resets its slot's backoff. */
export const BACKOFF_RESET_AFTER_MS = 10_000;
/** Floor of the first delay, so `delaySeconds: 0` still cannot spin. */
export const MIN_RESTART_DELAY_MS = 100;

/** What to do with an ended task that is still desired running. */
export type RestartDecision =
  | { kind: 'keep'; why: string }
  | { kind: 'wait'; untilMs: number; restarts: number }
  | { kind: 'replace'; restarts: number };

/** True when the policy restarts a task that ended in `t`'s state. */
export function policyRestarts(t: Task, policy: RestartPolicy): boolean {
  if (policy.condition === 'none') return false;
  if (policy.condition === 'any') return true;
  return t.status?.state !== 'complete'; // on-failure: failed, rejected, orphaned, shutdown
}

/** Backoff before replacing the n-th consecutive quick failure (n >= 1), in ms. */
export function restartDelayMs(policy: RestartPolicy, n: number): number {
  const base = Math.max(MIN_RESTART_DELAY_MS, policy.delaySeconds * 1000);
  const cap = Math.max(base, policy.maxDelaySeconds * 1000);
  return Math.min(cap, base * 2 ** Math.min(Math.max(0, n - 1), 30));
}

/** Decides about an ended task that is still desired running; see the file comment. */
export function restartDecision(t: Task, policy: RestartPolicy, nowMs: number): RestartDecision {
  if (!policyRestarts(t, policy)) return { kind: 'keep', why: `restart condition ${policy.condition}` };
  const endedMs = stateSince(t);
  const ranFine = endedMs - createdAt(t) >= BACKOFF_RESET_AFTER_MS;
  const restarts = ranFine ? 1 : restartsOf(t) + 1;
  const untilMs = endedMs + restartDelayMs(policy, restarts);
  if (nowMs < untilMs) return { kind: 'wait', untilMs, restarts };
  return { kind: 'replace', restarts };
}
