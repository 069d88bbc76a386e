/**
 * A Store watch over HTTPS that survives dropped connections: it remembers the last revision it
 * delivered (events and bookmarks) and reconnects from there, so each change is delivered
 * exactly once, in order. One transaction's events share a revision: when the connection drops
 * after N events of revision R, it resumes from R-1 and skips the first N events of R.
 *
 *   connect(from R) --200--> read lines: bookmark -> R = rev; event rev > R -> deliver, R = rev
 *        ^                   | stream ends / socket error / no line within idleTimeoutMs
 *        |                   v
 *        +--- backoff <-- retryable?  --no (410 Gone, 401, 403...)--> onError, end
 */
import type { IncomingMessage } from 'node:http';
import { errorFromJSON, FlotillaError, isRetryable } from '../api/errors.js';
import { sleep } from '../lifecycle.js';
import type { Watch, WatchEvent, WatchHandlers, WatchOptions } from '../store/store.js';
import type { HttpsTransport } from './transport.js';

/** Tuning of RemoteWatch. */
export interface RemoteWatchOptions {
  /** No line (event or bookmark) for this long: the connection is dead, reconnect (default 20 s). */
  idleTimeoutMs?: number;
  /** First reconnect delay; doubles up to maxBackoffMs (default 100 ms, 5 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

type Line =
  | { type: 'bookmark'; revision: number }
  | { type: 'error'; error: { code?: string; message?: string } }
  | WatchEvent;

/** A watch stream with reconnect and resume; see the module comment. */
export class RemoteWatch implements Watch {
  /** Last revision delivered or bookmarked: where a reconnect resumes. */
  private revision: number | undefined;
  /** Events of `revision` already delivered (a transaction has several). */
  private deliveredAtRevision = 0;
  /** Events of `revision` to skip on a resumed stream (delivered before the drop). */
  private skipAtRevision = 0;
  private stopped = false;
  private current: IncomingMessage | undefined;
  private loop: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(
    private readonly transport: HttpsTransport,
    private readonly opts: WatchOptions,
    private readonly handlers: WatchHandlers,
    private readonly tuning: RemoteWatchOptions = {},
  ) {
    this.revision = opts.fromRevision;
  }

  /** Connects once and reads the first line; rejects with the typed error when that fails. */
  async start(): Promise<void> {
    const res = await this.transport.stream(this.path(), this.abort.signal);
    const lines = readLines(res, this.tuning.idleTimeoutMs ?? 20_000);
    this.current = res;
    // The server starts every stream with a bookmark: after it, the resume point is known.
    const first = await lines.next();
    if (first.done === true) throw new FlotillaError('watch stream ended before its first line');
    this.handle(first.value);
    this.loop = this.run(lines);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.current?.destroy();
    await this.loop;
  }

  private path(): string {
    const q = new URLSearchParams();
    if (this.opts.kind !== undefined) q.set('kind', this.opts.kind);
    if (this.opts.namespace !== undefined) q.set('namespace', this.opts.namespace);
    if (this.revision !== undefined) {
      // Part of revision R may be delivered already: resume before R and skip those.
      const partial = this.deliveredAtRevision > 0 && this.revision > 0;
      this.skipAtRevision = partial ? this.deliveredAtRevision : 0;
      q.set('revision', String(partial ? this.revision - 1 : this.revision));
    }
    return `/api/v1/watch?${q.toString()}`;
  }

  private async run(lines: AsyncGenerator<Line>): Promise<void> {
    let backoff = this.tuning.minBackoffMs ?? 100;
    for (;;) {
      try {
        for await (const line of lines) {
          if (this.stopped) return;
          if (!this.handle(line)) return;
          backoff = this.tuning.minBackoffMs ?? 100;
        }
      } catch {
        // A broken stream is like an ended one: reconnect below.
      }
      for (;;) {
        if (this.stopped) return;
        await sleep(backoff, this.abort.signal);
        backoff = Math.min(backoff * 2, this.tuning.maxBackoffMs ?? 5_000);
        if (this.stopped) return;
        try {
          const res = await this.transport.stream(this.path(), this.abort.signal);
          this.current = res;
          if (this.stopped) res.destroy();
          lines = readLines(res, this.tuning.idleTimeoutMs ?? 20_000);
          break;
        } catch (err) {
          if (!isRetryable(err)) return this.fail(err as Error);
        }
      }
    }
  }

  /** Handles one line; false when the watch is over. */
  private handle(line: Line): boolean {
    if (line.type === 'bookmark') {
      if (this.revision === undefined || line.revision > this.revision) {
        this.revision = line.revision;
        this.deliveredAtRevision = 0;
      }
      return true;
    }
    if (line.type === 'error') {
      this.fail(errorFromJSON(line.error));
      return false;
    }
    if (this.revision !== undefined && line.revision < this.revision) return true;
    if (line.revision === this.revision) {
      if (this.skipAtRevision > 0) {
        this.skipAtRevision--;
        return true;
      }
      this.deliveredAtRevision++;
    } else {
      this.revision = line.revision;
      this.deliveredAtRevision = 1;
      this.skipAtRevision = 0;
    }
    try {
      this.handlers.onEvent(line);
    } catch (err) {
      console.error(`flotilla client: watch handler threw: ${(err as Error)?.stack ?? String(err)}`);
    }
    return true;
  }

  private fail(err: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    this.current?.destroy();
    this.handlers.onError?.(err);
  }
}

/** Splits a response into parsed JSON lines; throws when no line arrives within idleMs. */
async function* readLines(res: IncomingMessage, idleMs: number): AsyncGenerator<Line> {
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => res.destroy(new Error(`no data for ${idleMs} ms`)), idleMs);
  };
  arm();
  let buf = '';
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      arm();
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const text = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (text.trim() !== '') yield JSON.parse(text) as Line;
      }
    }
  } finally {
    clearTimeout(timer);
    res.destroy();
  }
}
