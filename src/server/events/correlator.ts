/**
 * Server-side deduplication of Events, as Kubernetes' event correlator does it on the client:
 * an Event created through the API that repeats a recent one (same namespace, involved object,
 * type, reason, source and message) is not stored again; the stored one gets its `count`
 * raised and `lastTimestamp` moved instead. Writers that may only create Events (agents: the
 * node rules allow create, not update) thereby get counted Events for free.
 *
 *   POST events {involved, reason, message, ...}
 *     ──► key seen within the window and the Event still stored? ──yes──► update count+n, lastTimestamp
 *                                                                 └─no──► create (and remember its name)
 *
 * The index is in memory and bounded (oldest entries forgotten first); a forgotten or deleted
 * Event just means the next repeat is created anew. Several servers each keep their own index:
 * a repeat that reaches another server is created there (no loss, a second counted Event).
 */
import { ConflictError, NotFoundError } from '../../api/errors.js';
import type { EventSpec } from '../../api/kinds.js';
import type { ApiObject } from '../../api/object.js';
import type { Store } from '../../store/store.js';

/** Tuning of EventCorrelator. */
export interface CorrelatorOptions {
  /** A repeat within this long of the last one is merged (default 10 min). */
  windowMs?: number;
  /** Index entries kept at most (default 10,000). */
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  name: string;
  lastMs: number;
}

/** The dedup key of an Event: everything but its name, count and times. */
export function eventKey(namespace: string, s: Pick<EventSpec, 'involved' | 'type' | 'reason' | 'source' | 'message'>): string {
  return JSON.stringify([namespace, s.involved, s.type, s.reason, s.source, s.message]);
}

/** See the file comment. */
export class EventCorrelator {
  private readonly index = new Map<string, Entry>();
  private readonly windowMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly store: Store, opts: CorrelatorOptions = {}) {
    this.windowMs = opts.windowMs ?? 10 * 60_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Stores `ev` (validated, server fields set): merged into a recent equal Event when there is
   * one, else created. Returns what is stored.
   */
  async record(ev: ApiObject): Promise<ApiObject> {
    const spec = withTimes(ev.spec as EventSpec, new Date(this.now()).toISOString());
    const key = eventKey(ev.metadata.namespace, spec);
    const nowMs = this.now();
    const seen = this.index.get(key);
    if (seen !== undefined && nowMs - seen.lastMs <= this.windowMs) {
      const merged = await this.merge(ev.metadata.namespace, seen.name, spec);
      if (merged !== undefined) {
        this.remember(key, seen.name, nowMs);
        return merged;
      }
    }
    const created = await this.store.create({ ...ev, spec });
    this.remember(key, created.metadata.name, nowMs);
    return created;
  }

  /** Raises the stored Event's count; undefined when it is gone (expired, deleted). */
  private async merge(namespace: string, name: string, spec: EventSpec): Promise<ApiObject | undefined> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const cur = await this.store.get({ kind: 'Event', namespace, name });
      if (cur === undefined) return undefined;
      const s = cur.spec as EventSpec;
      const next = { ...s, count: s.count + spec.count, lastTimestamp: spec.lastTimestamp };
      try {
        return await this.store.update({ ...cur, spec: next }, cur.metadata.revision);
      } catch (err) {
        if (err instanceof NotFoundError) return undefined;
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    return undefined;
  }

  private remember(key: string, name: string, nowMs: number): void {
    this.index.delete(key); // re-insert: Map order is the eviction order (oldest first)
    this.index.set(key, { name, lastMs: nowMs });
    while (this.index.size > this.maxEntries) {
      const oldest = this.index.keys().next();
      if (oldest.done === true) break;
      this.index.delete(oldest.value);
    }
  }
}

/** The spec with its empty timestamps set to now (first defaults to last). */
function withTimes(s: EventSpec, now: string): EventSpec {
  const last = s.lastTimestamp !== '' ? s.lastTimestamp : now;
  return { ...s, lastTimestamp: last, firstTimestamp: s.firstTimestamp !== '' ? s.firstTimestamp : last };
}
