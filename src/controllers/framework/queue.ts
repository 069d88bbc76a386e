/**
 * The keyed work queue of every controller (STYLE.md 4, after client-go's workqueue): a key
 * waits at most once, is never handed to two workers at once, is handed out again when it was
 * dirtied while being processed, and retries with per-key exponential backoff.
 */
import { systemClock, type Clock, type TimerHandle } from './clock.js';

/** Backoff and clock settings of a WorkQueue. */
export interface WorkQueueOptions {
  clock?: Clock;
  /** First retry delay after a failure. */
  baseDelayMs?: number;
  /** Cap of the doubling retry delay. */
  maxDelayMs?: number;
}

interface DelayedAdd {
  at: number;
  timer: TimerHandle;
}

/** Keys to process, deduplicated; see the file comment for the guarantees. */
export class WorkQueue {
  private readonly clock: Clock;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly order: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failureCounts = new Map<string, number>();
  private readonly delayed = new Map<string, DelayedAdd>();
  private readonly getters: Array<(key: string | undefined) => void> = [];
  private idleWaiters: Array<() => void> = [];
  private shuttingDown = false;

  constructor(opts: WorkQueueOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 60_000;
  }

  /** Marks a key for processing. A key already waiting is not added twice. */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return; // handed out again by done()
    this.push(key);
  }

  /** Adds the key after `ms`; with several pending delays for one key the earliest wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const existing = this.delayed.get(key);
    if (existing !== undefined && existing.at <= at) return;
    existing?.timer.clear();
    const timer = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, timer });
  }

  /** Adds the key after its backoff: base * 2^(failures so far), capped; counts a failure. */
  addRateLimited(key: string): number {
    const n = this.failureCounts.get(key) ?? 0;
    this.failureCounts.set(key, n + 1);
    const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(n, 40));
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets the key's backoff after a success. */
  forget(key: string): void {
    this.failureCounts.delete(key);
  }

  /** Failures counted for a key since its last success. */
  failures(key: string): number {
    return this.failureCounts.get(key) ?? 0;
  }

  /** Keys waiting (not counting delayed ones or ones being processed). */
  get length(): number {
    return this.order.length;
  }

  /** Next key to process; waits for one. Undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    const key = this.order.shift();
    if (key !== undefined) return Promise.resolve(this.handOut(key));
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Tells the queue the worker finished `key`; re-queues it when it was dirtied meanwhile. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) this.push(key);
    if (this.processing.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Stops handing out keys, cancels delayed adds, wakes waiting workers with undefined. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const d of this.delayed.values()) d.timer.clear();
    this.delayed.clear();
    this.order.length = 0;
    this.dirty.clear();
    for (const g of this.getters.splice(0)) g(undefined);
  }

  /** Shuts down and resolves once no key is being processed any more. */
  async shutDownAndWait(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private push(key: string): void {
    const getter = this.getters.shift();
    if (getter !== undefined) getter(this.handOut(key));
    else this.order.push(key);
  }

  private handOut(key: string): string {
    this.dirty.delete(key);
    this.processing.add(key);
    return key;
  }
}
