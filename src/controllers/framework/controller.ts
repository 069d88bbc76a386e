/**
 * The runner every controller shares (STYLE.md 4): N workers take keys from a WorkQueue and
 * call `sync(key)`. Success resets the key's backoff (and may ask for a timed re-check); any
 * error re-queues the key with per-key exponential backoff, so a ConflictError simply means
 * "decide again from fresher state" and a permanent error never becomes a hot loop.
 */
import { ConflictError } from '../../api/errors.js';
import type { Disposable } from '../../lifecycle.js';
import { systemClock, type Clock } from './clock.js';
import { WorkQueue } from './queue.js';

/** What a sync may ask for besides success. */
export interface SyncResult {
  /** Sync this key again after this many ms even if nothing changes (timed decisions). */
  requeueAfterMs?: number;
}

/** Reconciles one key; level-triggered: safe to call at any time, any number of times. */
export type SyncFunc = (key: string) => Promise<SyncResult | void>;

/** How a Controller runs. */
export interface ControllerOptions {
  /** Used in log lines. */
  name: string;
  sync: SyncFunc;
  /** Parallel workers; one key is still never synced twice at once. */
  workers?: number;
  clock?: Clock;
  log?: (msg: string) => void;
  /** Retry backoff after a failed sync: first delay and cap. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** Queue + workers around one sync function; see the file comment. */
export class Controller implements Disposable {
  readonly queue: WorkQueue;
  private readonly workers: Promise<void>[] = [];
  private readonly cleanups: Array<() => void> = [];
  private readonly log: (msg: string) => void;
  private started = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: ControllerOptions) {
    this.log = opts.log ?? (() => undefined);
    this.queue = new WorkQueue({ clock: opts.clock ?? systemClock, baseDelayMs: opts.baseDelayMs ?? 5, maxDelayMs: opts.maxDelayMs ?? 30_000 });
  }

  get name(): string {
    return this.opts.name;
  }

  /** Queues a key (what informer handlers call). */
  enqueue(key: string): void {
    this.queue.add(key);
  }

  /** Registers something to undo at stop (e.g. removing informer handlers). */
  onStop(fn: () => void): void {
    this.cleanups.push(fn);
  }

  /** Starts the workers; keys enqueued before start wait for them. */
  start(): void {
    if (this.started || this.stopping !== undefined) return;
    this.started = true;
    const n = Math.max(1, this.opts.workers ?? 1);
    for (let i = 0; i < n; i++) this.workers.push(this.work());
  }

  /** Stops taking keys and waits for in-flight syncs; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const fn of this.cleanups.splice(0)) fn();
      await this.queue.shutDownAndWait();
      await Promise.all(this.workers);
    })();
    return this.stopping;
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        const result = await this.opts.sync(key);
        this.queue.forget(key);
        if (result?.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        const delay = this.queue.addRateLimited(key);
        const msg = err instanceof Error ? err.message : String(err);
        if (err instanceof ConflictError) this.log(`${this.opts.name}: ${key}: conflict, retrying in ${delay} ms`);
        else this.log(`${this.opts.name}: ${key}: sync failed (${msg}), retrying in ${delay} ms`);
      } finally {
        this.queue.done(key);
      }
    }
  }
}
