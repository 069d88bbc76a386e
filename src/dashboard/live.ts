/**
 * One kind kept live in the page: list it, then watch from the list's revision; on a dropped
 * or silent stream reconnect with backoff from the last revision seen (one before it after an
 * event, since a transaction's events share a revision and repeats are harmless); on 410 Gone
 * (compacted) list again. 401 ends it and asks for a new login; 403 is shown and retried
 * slowly (a grant may come). No polling: the watch stream brings every change.
 *
 *   list ──► reset ──► watch?revision=R ──lines──► apply / bookmark (R moves on)
 *     ▲                   │ end, network error, no line for idleMs
 *     │ 410               ▼
 *     └──────────── backoff (0.5 s .. 10 s) ──► watch?revision=R again
 */
import type { ApiObject } from '../api/object.js';
import { Api, ApiError } from './api.js';
import { readLines } from './lines.js';
import { ObjectCollection, parseWatchLine, type WatchLine } from './watch-protocol.js';

/** Where a live collection is. */
export type LiveState = 'loading' | 'live' | 'reconnecting' | 'forbidden' | 'stopped';

/** Options of a LiveCollection. */
export interface LiveOptions {
  kind: string;
  /** The list route: `nodes`, `services`, `tasks`, `events`. */
  plural: string;
  namespace?: string;
  /** Called after each batch of changes (the page coalesces renders). */
  onChange: () => void;
  /** A 401: the token is not accepted any more. */
  onUnauthorized: (err: ApiError) => void;
  /** No line (event or bookmark) for this long: the connection is dead (default 30 s; bookmarks come every 5 s). */
  idleMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Wait after a 403 before asking again (default 30 s). */
  forbiddenRetryMs?: number;
}

/** See the file comment. */
export class LiveCollection<T extends ApiObject = ApiObject> {
  readonly items = new ObjectCollection<T>();
  state: LiveState = 'loading';
  error: ApiError | undefined;
  /** Streams opened so far (the first, then every reconnect). */
  connects = 0;
  private revision: number | undefined;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(private readonly api: Api, private readonly opts: LiveOptions) {}

  start(): this {
    this.loop ??= this.run();
    return this;
  }

  /** Ends the stream; resolves once the loop is over. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.state = 'stopped';
    await this.loop;
  }

  private query(): string {
    return this.opts.namespace !== undefined ? `namespace=${encodeURIComponent(this.opts.namespace)}` : '';
  }

  private async run(): Promise<void> {
    let backoff = this.opts.minBackoffMs ?? 500;
    while (!this.abort.signal.aborted) {
      try {
        if (this.revision === undefined) await this.list();
        this.connects++;
        await this.follow();
        backoff = this.opts.minBackoffMs ?? 500;
      } catch (err) {
        if (this.abort.signal.aborted) break;
        const e = err instanceof ApiError ? err : new ApiError(0, 'StreamError', (err as Error).message);
        if (e.status === 410) {
          this.revision = undefined;
          continue;
        }
        if (e.unauthorized) {
          this.error = e;
          this.state = 'stopped';
          this.opts.onChange();
          this.opts.onUnauthorized(e);
          return;
        }
        this.error = e;
        this.state = e.forbidden ? 'forbidden' : 'reconnecting';
        this.opts.onChange();
        await sleep(e.forbidden ? this.opts.forbiddenRetryMs ?? 30_000 : backoff, this.abort.signal);
        if (e.forbidden) this.revision = undefined;
        backoff = Math.min(backoff * 2, this.opts.maxBackoffMs ?? 10_000);
        continue;
      }
      // The stream ended cleanly (server restart, proxy): reconnect after the backoff.
      if (this.abort.signal.aborted) break;
      this.state = 'reconnecting';
      this.opts.onChange();
      await sleep(backoff, this.abort.signal);
    }
  }

  private async list(): Promise<void> {
    const q = this.query();
    const out = await this.api.get<{ items: T[]; revision: number }>(`/api/v1/${this.opts.plural}${q !== '' ? `?${q}` : ''}`, this.abort.signal);
    this.items.reset(out.items);
    // For the benchmark and the browser's performance panel: when this kind's list was in.
    globalThis.performance?.mark?.(`flotilla:listed:${this.opts.kind}`);
    this.revision = out.revision;
    this.error = undefined;
    this.state = 'live';
    this.opts.onChange();
  }

  private async follow(): Promise<void> {
    const conn = new AbortController();
    const cut = (): void => conn.abort();
    this.abort.signal.addEventListener('abort', cut);
    const idleMs = this.opts.idleMs ?? 30_000;
    let timer = setTimeout(cut, idleMs);
    try {
      const q = new URLSearchParams({ kind: this.opts.kind, revision: String(this.revision ?? 0) });
      if (this.opts.namespace !== undefined) q.set('namespace', this.opts.namespace);
      const res = await this.api.stream(`/api/v1/watch?${q.toString()}`, conn.signal);
      let changed = false;
      let flush: ReturnType<typeof setTimeout> | undefined;
      await readLines(res.body as ReadableStream<Uint8Array>, (line) => {
        clearTimeout(timer);
        timer = setTimeout(cut, idleMs);
        changed = this.handle(parseWatchLine(line)) || changed;
        // Lines of one chunk are handled together; tell the page once.
        flush ??= setTimeout(() => {
          flush = undefined;
          if (changed) this.opts.onChange();
          changed = false;
        }, 0);
      }, conn.signal);
      clearTimeout(flush);
      if (changed) this.opts.onChange();
    } finally {
      clearTimeout(timer);
      this.abort.signal.removeEventListener('abort', cut);
    }
  }

  /** One line: true when the objects changed. */
  private handle(line: WatchLine): boolean {
    if (line.type === 'error') throw new ApiError(line.error.status, line.error.code, line.error.message);
    const wasLive = this.state === 'live' && this.error === undefined;
    this.state = 'live';
    this.error = undefined;
    if (line.type === 'bookmark') {
      if (this.revision === undefined || line.revision > this.revision) this.revision = line.revision;
      return !wasLive;
    }
    // Resume one before an event's revision: its transaction may have more events.
    this.revision = Math.max(this.revision ?? 0, line.revision - 1);
    return this.items.apply(line) || !wasLive;
  }
}

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
