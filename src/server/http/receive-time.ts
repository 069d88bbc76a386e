/**
 * Times in a Task status that an agent writes (`timestamp`: the last change; `readySince`) are
 * replaced by the server's receive time when they change, so that the loops that read them
 * (restart backoff, rollout monitorSeconds and deadlines, crash-loop status) use one clock, the
 * server's, whatever the clock of the node (docs/reliability.md, fault 8). As for heartbeats, the
 * server judges by when it received a fact, not by the time the sender put on it. Times the
 * agent sent back unchanged (a stored `readySince`) are kept.
 */
import type { Kind } from '../../api/object.js';

/** `next` (an agent's Task status) with changed times restamped to `nowMs`; other kinds and writers: `next`. */
export function stampReceiveTimes(kind: Kind, fromNode: boolean, stored: unknown, next: unknown, nowMs: number): unknown {
  if (kind !== 'Task' || !fromNode || typeof next !== 'object' || next === null) return next;
  const cur = (typeof stored === 'object' && stored !== null ? stored : {}) as Record<string, unknown>;
  const out: Record<string, unknown> = { ...(next as Record<string, unknown>) };
  const now = new Date(nowMs).toISOString();
  for (const field of ['timestamp', 'readySince']) {
    if (typeof out[field] === 'string' && out[field] !== cur[field]) out[field] = now;
  }
  return out;
}
