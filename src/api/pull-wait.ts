/**
 * A task whose image cannot be pulled for a transient reason (registry unreachable, 5xx, 429)
 * stays `preparing` and retries with backoff; its status message says so in one shape that the
 * agent writes and the rollout controller reads (docs/reliability.md, fault 4):
 *
 *   waiting: image 127.0.0.1:5000/web:2 cannot be pulled: registry unreachable (attempt 3, next try in 4s): GET ...: connect ECONNREFUSED
 *
 * Such a task is not the new revision's fault: a rollout waits for it instead of counting it
 * against its progress deadline or rolling back.
 */
import type { Task } from './kinds.js';

/** Prefix of a task's status message while its image pull is retried. */
export const PULL_WAIT_PREFIX = 'waiting: image ';

/** Backoff of pull retries: first delay and cap (ms). */
export interface PullBackoff {
  baseMs: number;
  maxMs: number;
}

/** 1 s doubling to 20 s: a registry back within seconds is used within seconds, a long outage costs one try per 20 s. */
export const DEFAULT_PULL_BACKOFF: PullBackoff = { baseMs: 1_000, maxMs: 20_000 };

/** Delay before the next pull after `attempt` (>= 1) failed attempts. */
export function pullRetryDelayMs(attempt: number, b: PullBackoff = DEFAULT_PULL_BACKOFF): number {
  return Math.min(b.maxMs, b.baseMs * 2 ** Math.min(Math.max(0, attempt - 1), 20));
}

/** The short reason of a retryable pull error: `registry unreachable`, `registry answered 503`, or the message. */
export function pullWaitReason(message: string): string {
  if (/unreachable|ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|no data for|TLS handshake/.test(message)) return 'registry unreachable';
  const answered = /registry answered (\d{3})/.exec(message) ?? /token realm answered (\d{3})/.exec(message);
  if (answered !== null) return `registry answered ${answered[1]}`;
  return message;
}

/** The task message of a pull being retried (see the file comment). */
export function pullWaitMessage(image: string, errorMessage: string, attempt: number, nextMs: number): string {
  return `${PULL_WAIT_PREFIX}${image} cannot be pulled: ${pullWaitReason(errorMessage)} (attempt ${attempt}, next try in ${Math.ceil(nextMs / 1000)}s): ${errorMessage}`;
}

/** True while the task waits for its image pull to be retried (not failed, not the revision's fault). */
export function isPullWaiting(t: Pick<Task, 'status'>): boolean {
  return t.status?.state === 'preparing' && (t.status.message ?? '').startsWith(PULL_WAIT_PREFIX);
}

/** `waiting: image X cannot be pulled: registry unreachable`: the message without attempt and detail. */
export function pullWaitSummary(message: string): string {
  const i = message.indexOf(' (attempt ');
  return i < 0 ? message : message.slice(0, i);
}
