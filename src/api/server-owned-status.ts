/**
 * Status fields the server's loops own inside a status another component writes whole: an
 * agent's Node status write (a fresh `{state, capacity, heartbeat...}` every few beats) must not
 * erase the recycle the leader's recycle controller is carrying out (status.recycle), or a
 * restart of the leader would lose it. The status endpoint keeps them from the stored object.
 */
import type { Kind } from './object.js';

/** Per kind, the status fields that a status write keeps from the stored object when it leaves them out. */
const SERVER_OWNED: Partial<Record<Kind, readonly string[]>> = { Node: ['recycle'] };

/** `next` with the server-owned fields of `stored` that `next` does not set. */
export function keepServerOwnedStatus(kind: Kind, stored: unknown, next: unknown): unknown {
  const fields = SERVER_OWNED[kind];
  if (fields === undefined || typeof stored !== 'object' || stored === null || typeof next !== 'object' || next === null) return next;
  const out: Record<string, unknown> = { ...(next as Record<string, unknown>) };
  for (const f of fields) {
    const v = (stored as Record<string, unknown>)[f];
    if (v !== undefined && out[f] === undefined) out[f] = v;
  }
  return out;
}
