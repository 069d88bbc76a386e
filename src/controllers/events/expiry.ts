/**
 * Event expiry (leader-only loop): every `sweepMs` it deletes the Events last seen more than
 * `ttlMs` ago (default 1 h, `flotilla server --event-ttl`), so Events of probes, audits and
 * scheduling never pile up. Last seen is `spec.lastTimestamp`, else the creation time; an
 * Event with neither readable is judged by its creation time.
 *
 *   timer ──► list Event (all namespaces) ──► lastSeen < now - ttl ? delete (gone already: fine)
 *     ▲                                                                     │
 *     └──────────────────────── next sweep in sweepMs ◄─────────────────────┘
 */
import { ConflictError, NotFoundError } from '../../api/errors.js';
import type { EventSpec } from '../../api/kinds.js';
import { keyOf, type ApiObject } from '../../api/object.js';
import type { Disposable } from '../../lifecycle.js';
import type { Store } from '../../store/store.js';
import { systemClock, type Clock, type TimerHandle } from '../framework/clock.js';

/** Default lifetime of an Event after it was last seen. */
export const DEFAULT_EVENT_TTL_MS = 3_600_000;

/** Options of startEventExpiry. */
export interface EventExpiryOptions {
  ttlMs?: number;
  /** Time between sweeps (default 60 s, at most the TTL). */
  sweepMs?: number;
  clock?: Clock;
  log?: (line: string) => void;
}

/** When an Event was last seen, in ms (NaN when no time is readable). */
export function lastSeenMs(ev: ApiObject): number {
  const last = Date.parse((ev.spec as Partial<EventSpec> | undefined)?.lastTimestamp ?? '');
  return Number.isNaN(last) ? Date.parse(ev.metadata.creationTimestamp) : last;
}

/** The Events of `items` that are past their lifetime at `nowMs`. */
export function expiredEvents(items: readonly ApiObject[], nowMs: number, ttlMs: number): ApiObject[] {
  return items.filter((e) => nowMs - lastSeenMs(e) > ttlMs);
}

/** One sweep: deletes the expired Events; returns how many went. */
export async function sweepEvents(store: Store, nowMs: number, ttlMs: number): Promise<number> {
  const { items } = await store.list('Event');
  let deleted = 0;
  for (const ev of expiredEvents(items, nowMs, ttlMs)) {
    try {
      await store.delete(keyOf(ev), ev.metadata.revision);
      deleted++;
    } catch (err) {
      // Gone, or seen again (a merge raised its count) since the list: both are fine.
      if (!(err instanceof NotFoundError) && !(err instanceof ConflictError)) throw err;
    }
  }
  return deleted;
}

/** Starts the sweeps; the Disposable stops them (a sweep in flight finishes). */
export function startEventExpiry(store: Store, opts: EventExpiryOptions = {}): Disposable {
  const ttlMs = opts.ttlMs ?? DEFAULT_EVENT_TTL_MS;
  const sweepMs = Math.max(1, Math.min(opts.sweepMs ?? 60_000, ttlMs));
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? (() => undefined);
  let timer: TimerHandle | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = (): void => {
    running = sweepEvents(store, clock.now(), ttlMs)
      .then((n) => { if (n > 0) log(`events: ${n} expired (older than ${ttlMs / 1000} s) deleted`); })
      .catch((err: unknown) => log(`events: sweep failed: ${(err as Error).message}`))
      .finally(() => {
        running = undefined;
        if (!stopped) timer = clock.setTimeout(tick, sweepMs);
      });
  };
  timer = clock.setTimeout(tick, 0);
  return {
    async stop(): Promise<void> {
      stopped = true;
      timer?.clear();
      await running;
    },
  };
}
