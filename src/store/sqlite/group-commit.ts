/**
 * Group commit for the SQLite store. better-sqlite3 is synchronous and a durable commit costs an
 * fsync (~2 ms here), so committing each write alone caps the store at a few hundred writes/s.
 * Instead, writes queue up; on the next turn of the event loop (setImmediate) the whole queue is
 * applied in ONE transaction (each write in its own savepoint, with its own revision: see
 * writes.ts). Then the WAL is fdatasync'ed off the main thread (wal-sync.ts); while that runs the
 * event loop keeps accepting writes and committing the next batches, and one fdatasync covers
 * every batch committed before it started. Only when a batch is durable are its events published
 * to watchers and its callers' promises settled, in revision order.
 *
 * Without a WalSync (synchronous=NORMAL, or SQLite doing the fsync inside COMMIT), a batch is
 * settled as soon as it committed.
 */
import { UnavailableError } from '../../api/errors.js';
import type { ApiObject } from '../../api/object.js';
import type { TxnOp } from '../store.js';
import type { EventRow } from './statements.js';
import type { WalSync } from './wal-sync.js';
import { asError, type BatchWriter, type CommittedBatch } from './writes.js';

interface PendingWrite {
  ops: TxnOp[];
  resolve(results: ApiObject[]): void;
  reject(err: Error): void;
}

interface AwaitingSync {
  batch: CommittedBatch;
  writes: PendingWrite[];
}

interface RevisionWaiter {
  revision: number;
  resolve(): void;
  reject(err: Error): void;
}

/** Counters for tests and benchmarks. */
export interface GroupCommitStats {
  /** SQLite transactions committed (each holds one or more writes). */
  batches: number;
  /** Writes committed or failed inside those batches. */
  writes: number;
  /** fdatasync calls that completed. */
  syncs: number;
}

/** Queues writes, commits them in batches, and settles them once durable. */
export class GroupCommitter {
  private queue: PendingWrite[] = [];
  private flushScheduled = false;
  private awaiting: AwaitingSync[] = [];
  private syncing = false;
  private broken: Error | undefined;
  private committedRev: number;
  private visibleRev: number;
  private revisionWaiters: RevisionWaiter[] = [];
  private idleWaiters: (() => void)[] = [];
  readonly stats: GroupCommitStats = { batches: 0, writes: 0, syncs: 0 };

  constructor(
    private readonly writeBatch: BatchWriter,
    private readonly walSync: WalSync | undefined,
    private readonly publish: (events: EventRow[]) => void,
    startRevision: number,
  ) {
    this.committedRev = startRevision;
    this.visibleRev = startRevision;
  }

  /** The last revision whose write is durable and published to watchers: what readers may see. */
  get visibleRevision(): number {
    return this.visibleRev;
  }

  /** The last revision committed to SQLite (maybe not yet durable). */
  get committedRevision(): number {
    return this.committedRev;
  }

  /** Queues a write; resolves with its results once its batch is durable. */
  submit(ops: TxnOp[]): Promise<ApiObject[]> {
    if (this.broken !== undefined) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.queue.push({ ops, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flush);
      }
    });
  }

  /**
   * Resolves once `revision` is durable and published: a read that saw committed state up to
   * `revision` answers only then, so nobody reads a write that a power loss could still undo.
   */
  whenVisible(revision: number): Promise<void> {
    if (revision <= this.visibleRev) return Promise.resolve();
    if (this.broken !== undefined) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => this.revisionWaiters.push({ revision, resolve, reject }));
  }

  /** Commits whatever is queued now and resolves when every committed batch is settled. */
  drain(): Promise<void> {
    this.flush();
    if (!this.syncing && this.awaiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const writes = this.queue;
    if (writes.length === 0) return;
    this.queue = [];
    if (this.broken !== undefined) {
      for (const w of writes) w.reject(this.broken);
      return;
    }
    let batch: CommittedBatch;
    try {
      batch = this.writeBatch(writes.map((w) => w.ops));
    } catch (err) {
      // Nothing of this batch was written (the transaction rolled back): fail each write of it.
      for (const w of writes) w.reject(asError(err));
      return;
    }
    this.stats.batches++;
    this.stats.writes += writes.length;
    this.committedRev = batch.revision;
    if (this.walSync === undefined) {
      this.settle({ batch, writes });
      this.notifyIdle();
      return;
    }
    this.awaiting.push({ batch, writes });
    this.startSync(this.walSync);
  };

  /** One fdatasync at a time; each covers every batch committed before it started. */
  private startSync(walSync: WalSync): void {
    if (this.syncing || this.awaiting.length === 0) return;
    this.syncing = true;
    const covered = this.awaiting;
    this.awaiting = [];
    walSync.flush((err) => {
      this.syncing = false;
      if (err !== null) this.fail(err, covered);
      else {
        this.stats.syncs++;
        for (const c of covered) this.settle(c);
        this.startSync(walSync);
      }
      this.notifyIdle();
    });
  }

  /** Publishes a durable batch's events, then settles its writes and the reads waiting on it. */
  private settle({ batch, writes }: AwaitingSync): void {
    this.visibleRev = Math.max(this.visibleRev, batch.revision);
    if (batch.events.length > 0) this.publish(batch.events);
    batch.outcomes.forEach((o, i) => {
      const w = writes[i];
      if (o.ok) w?.resolve(o.results);
      else w?.reject(o.error);
    });
    if (this.revisionWaiters.length === 0) return;
    const waiting = this.revisionWaiters;
    this.revisionWaiters = [];
    for (const r of waiting) {
      if (r.revision <= this.visibleRev) r.resolve();
      else this.revisionWaiters.push(r);
    }
  }

  /**
   * An fsync failed: what it covered may or may not be on disk, and the kernel may have dropped
   * the dirty pages (Linux does), so no later fsync can be trusted either. The store stops
   * taking writes; callers see UnavailableError (retryable: a restart recovers from the WAL).
   */
  private fail(err: Error, covered: AwaitingSync[]): void {
    this.broken = new UnavailableError(`store: fdatasync of the WAL failed, writes refused until restart: ${err.message}`);
    const all = [...covered, ...this.awaiting];
    this.awaiting = [];
    for (const c of all) for (const w of c.writes) w.reject(this.broken);
    for (const r of this.revisionWaiters) r.reject(this.broken);
    this.revisionWaiters = [];
  }

  private notifyIdle(): void {
    if (this.syncing || this.awaiting.length > 0) return;
    const waiting = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiting) resolve();
  }
}
