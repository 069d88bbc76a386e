/**
 * In-process watch fan-out for the SQLite store. better-sqlite3 is synchronous, so a watch can
 * replay the event log and join the live stream in one synchronous step: no write can slip in
 * between, hence no gap. Every delivery goes through one queue per hub, so each watcher sees
 * events in revision order even when a handler writes (or starts a watch) from inside a handler.
 */
import { GoneError, UnavailableError } from '../../api/errors.js';
import type { ApiObject } from '../../api/object.js';
import type { WatchEvent, WatchEventType, WatchHandlers, WatchOptions } from '../store.js';
import type { EventPageQuery, EventRow } from './statements.js';

/** Reads one page of the event log after a cursor. */
export type ReadEventPage = (q: EventPageQuery) => EventRow[];

const PAGE = 500;
/** Cursor seq meaning "every event of this revision was delivered". */
const END_OF_REVISION = Number.MAX_SAFE_INTEGER;

class Watcher {
  stopped = false;
  live = false;
  private cursorRev: number;
  private cursorSeq = END_OF_REVISION;
  private pending: EventRow[] = [];
  private warned = false;

  constructor(
    private readonly opts: WatchOptions,
    private readonly handlers: WatchHandlers,
    startRevision: number,
  ) {
    this.cursorRev = startRevision;
  }

  matches(row: EventRow): boolean {
    return (this.opts.kind === undefined || row.kind === this.opts.kind) && (this.opts.namespace === undefined || row.namespace === this.opts.namespace);
  }

  /** Queues live events; delivers them unless the watcher is still replaying. */
  offer(rows: EventRow[]): void {
    for (const row of rows) if (this.matches(row)) this.pending.push(row);
    if (this.live) this.drain();
  }

  /** Replays the log after the cursor, page by page, then goes live. */
  replay(read: ReadEventPage): void {
    for (;;) {
      const page = read({ revision: this.cursorRev, seq: this.cursorSeq, kind: this.opts.kind ?? null, namespace: this.opts.namespace ?? null, limit: PAGE });
      for (const row of page) this.deliver(row);
      if (page.length < PAGE || this.stopped) break;
    }
    this.live = true;
    this.drain();
  }

  fail(err: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    try {
      this.handlers.onError?.(err);
    } catch {
      // A handler's own failure while being told of ours changes nothing.
    }
  }

  private drain(): void {
    const rows = this.pending;
    this.pending = [];
    for (const row of rows) this.deliver(row);
  }

  private deliver(row: EventRow): void {
    if (this.stopped) return;
    if (row.revision < this.cursorRev || (row.revision === this.cursorRev && row.seq <= this.cursorSeq)) return;
    this.cursorRev = row.revision;
    this.cursorSeq = row.seq;
    const ev: WatchEvent = { type: row.type as WatchEventType, object: JSON.parse(row.json) as ApiObject, revision: row.revision };
    try {
      this.handlers.onEvent(ev);
    } catch (err) {
      if (!this.warned) {
        this.warned = true;
        process.emitWarning(`store watch handler threw (further throws of this watch are not reported): ${String(err)}`, 'FlotillaWatchWarning');
      }
    }
  }
}

/** Fans committed events out to the watchers of one SqliteStore. */
export class WatchHub {
  private readonly watchers = new Set<Watcher>();
  private readonly queue: EventRow[][] = [];
  private publishing = false;

  /** Called once each write group is durable (group-commit.ts), with its events in revision order. */
  publish(rows: EventRow[]): void {
    this.queue.push(rows);
    if (this.publishing) return;
    this.publishing = true;
    try {
      for (let batch = this.queue.shift(); batch !== undefined; batch = this.queue.shift()) {
        for (const w of this.watchers) w.offer(batch);
      }
    } finally {
      this.publishing = false;
    }
  }

  /**
   * Starts a watch. `current` is the committed revision and `compactRevision` the first one the
   * log still holds; both must be read in the same synchronous step as this call.
   */
  add(opts: WatchOptions, handlers: WatchHandlers, read: ReadEventPage, current: number, compactRevision: number): { stop(): Promise<void> } {
    const from = opts.fromRevision ?? current;
    const w = new Watcher(opts, handlers, from);
    const stop = (): Promise<void> => {
      w.stopped = true;
      this.watchers.delete(w);
      return Promise.resolve();
    };
    if (from + 1 < compactRevision) {
      w.fail(new GoneError(`revision ${from} was compacted; history starts at ${compactRevision}: list again, then watch`));
      return { stop };
    }
    this.watchers.add(w);
    if (opts.fromRevision === undefined) w.live = true;
    else w.replay(read);
    return { stop };
  }

  /** Ends every watch with UnavailableError (the store is closing). */
  closeAll(): void {
    const all = [...this.watchers];
    this.watchers.clear();
    for (const w of all) w.fail(new UnavailableError('store closed'));
  }

  get size(): number {
    return this.watchers.size;
  }
}
