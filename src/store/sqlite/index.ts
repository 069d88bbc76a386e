/**
 * The embedded Store on SQLite (DESIGN.md "Real components"): the default for `flotilla up`.
 * One file in the data dir, owned by one process: watches are delivered in-process, right
 * after each durable commit, so another process writing the same file would not be seen by watchers.
 * Writes go through group commit (group-commit.ts): concurrent writes share one transaction and
 * one fsync, each keeping its own revision and its own success or failure.
 */
import type Database from 'better-sqlite3';
import { UnavailableError } from '../../api/errors.js';
import type { ApiObject, Kind, ObjectKey } from '../../api/object.js';
import type { ListOptions, ListResult, Store, TxnOp, Watch, WatchHandlers, WatchOptions } from '../store.js';
import { WalCheckpointer } from './checkpointer.js';
import { GroupCommitter, type GroupCommitStats } from './group-commit.js';
import { getObject, makeLister } from './reads.js';
import { openDatabase, type SyncMode } from './schema.js';
import { prepareStatements, readCompactRevision, readRevision, type EventPageQuery, type Statements } from './statements.js';
import { WalSync } from './wal-sync.js';
import { storeError } from './errors.js';
import { WatchHub } from './watch-hub.js';
import { compactLog, makeBatchWriter } from './writes.js';

export type { SyncMode } from './schema.js';
export type { GroupCommitStats } from './group-commit.js';

/** Options of openSqliteStore. */
export interface SqliteStoreOptions {
  /** The database file, e.g. `<data-dir>/store.db`; its folder is created when missing. */
  path: string;
  /** Revisions of history the event log keeps for watches to resume from (default 100,000). */
  historyLimit?: number;
  /** `full` (default): every acknowledged commit is fsynced. `normal`: survives a process crash, not a power loss. */
  synchronous?: SyncMode;
  /**
   * With `full`: who fsyncs. `thread` (default): the store fdatasyncs the WAL on libuv's thread
   * pool, once per group of commits, while the event loop goes on. `commit`: SQLite's own
   * synchronous=FULL, an fsync inside each COMMIT on the main thread (kept to compare).
   */
  fsync?: 'thread' | 'commit';
  /**
   * Who checkpoints the WAL into the database file. `inline` (default): SQLite's auto-checkpoint
   * inside the COMMIT past 1,000 pages, on the main thread. `worker`: a worker thread with its
   * own connection, every ~1,000 written events (checkpointer.ts), so no commit on the main
   * thread pays for one; not the default yet: on this saturated 2-core machine it lowered the
   * API's throughput in 4 of 4 back-to-back runs and costs +7-10 MiB (docs/benchmarks.md).
   */
  checkpoint?: 'worker' | 'inline';
}

/** SQLite's default auto-checkpoint threshold, in WAL pages. */
const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;

/** Default number of revisions of watch history. */
export const DEFAULT_HISTORY_LIMIT = 100_000;

/** The SQLite implementation of Store, plus compaction and counters for tests and tools. */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly st: Statements;
  private readonly walSync: WalSync | undefined;
  private readonly checkpointer: WalCheckpointer | undefined;
  private readonly committer: GroupCommitter;
  private readonly listRows: (kind: Kind, opts?: ListOptions) => ListResult;
  private readonly hub = new WatchHub();
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(opts: SqliteStoreOptions) {
    const historyLimit = opts.historyLimit ?? DEFAULT_HISTORY_LIMIT;
    if (!Number.isInteger(historyLimit) || historyLimit < 1) throw new RangeError(`historyLimit must be an integer >= 1, got ${historyLimit}`);
    const sync = opts.synchronous ?? 'full';
    const ownFsync = sync === 'full' && (opts.fsync ?? 'thread') === 'thread' && opts.path !== ':memory:';
    this.db = openDatabase(opts.path, sync === 'full' && !ownFsync ? 'FULL' : 'NORMAL');
    try {
      this.st = prepareStatements(this.db);
      this.walSync = ownFsync ? new WalSync(opts.path) : undefined;
      this.checkpointer = opts.path !== ':memory:' && opts.checkpoint === 'worker' ? this.startCheckpointer(opts.path) : undefined;
    } catch (err) {
      this.walSync?.close();
      this.db.close();
      throw err;
    }
    this.committer = new GroupCommitter(makeBatchWriter(this.db, this.st, historyLimit), this.walSync, (events) => {
      this.hub.publish(events);
      this.checkpointer?.note(events.length);
    }, readRevision(this.st));
    this.listRows = makeLister(this.db, this.st);
  }

  create(obj: ApiObject): Promise<ApiObject> {
    return this.commit([{ op: 'create', object: obj }]).then((r) => r[0] as ApiObject);
  }

  get(key: ObjectKey): Promise<ApiObject | undefined> {
    // A row at revision R <= durable is the durable state of its key (a later write to it would
    // have moved R): no wait. Absence may come from a delete still being fsynced: wait.
    return this.read(() => getObject(this.st, key), (obj) => obj?.metadata.revision ?? this.committer.committedRevision);
  }

  list(kind: Kind, opts?: ListOptions): Promise<ListResult> {
    return this.read(() => this.listRows(kind, opts), (l) => l.revision);
  }

  update(obj: ApiObject, expectedRevision?: number): Promise<ApiObject> {
    return this.commit([{ op: 'update', object: obj, expectedRevision }]).then((r) => r[0] as ApiObject);
  }

  delete(key: ObjectKey, expectedRevision?: number): Promise<ApiObject> {
    return this.commit([{ op: 'delete', key, expectedRevision }]).then((r) => r[0] as ApiObject);
  }

  txn(ops: TxnOp[]): Promise<ApiObject[]> {
    return this.commit(ops);
  }

  watch(opts: WatchOptions, handlers: WatchHandlers): Promise<Watch> {
    return this.run(() => {
      // The watch starts at what watchers have been shown (durable), replays the log no further,
      // and gets later batches live as they become durable. Replay and registration happen in
      // one synchronous step: no write between.
      const read = (q: EventPageQuery) => this.st.eventPage.all({ ...q, maxRevision: this.committer.visibleRevision });
      return this.hub.add(opts, handlers, read, this.committer.visibleRevision, readCompactRevision(this.st));
    });
  }

  /** The last durable revision (writes committed but still being fsynced are not counted). */
  revision(): Promise<number> {
    return this.run(() => this.committer.visibleRevision);
  }

  /** Drops history below `revision` (etcd's compact): a watch from below `revision - 1` gets GoneError. */
  compact(revision: number): Promise<void> {
    return this.run(() => {
      const keepFrom = Math.min(revision, readRevision(this.st) + 1);
      this.db.transaction(() => compactLog(this.st, keepFrom)).immediate();
    });
  }

  /** Number of running watches (to check that consumers stop theirs). */
  get watchCount(): number {
    return this.hub.size;
  }

  /** Batches, writes and fsyncs so far: how well group commit groups. */
  get commitStats(): Readonly<GroupCommitStats> {
    return this.committer.stats;
  }

  /** Commits and settles the writes already made, ends every watch and closes the file. Idempotent. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closed = true;
      this.closing = this.committer.drain().then(async () => {
        await this.checkpointer?.stop();
        this.hub.closeAll();
        this.walSync?.close();
        this.db.close();
      });
    }
    return this.closing;
  }

  /** Checkpoints move to a worker thread; if it fails, SQLite's auto-checkpoint comes back. */
  private startCheckpointer(path: string): WalCheckpointer {
    this.db.pragma('wal_autocheckpoint = 0');
    return new WalCheckpointer(path, (err) => {
      process.emitWarning(`store: WAL checkpoint worker failed, checkpoints inline again: ${err.message}`, 'FlotillaStoreWarning');
      if (!this.closed) this.db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`);
    });
  }

  private commit(ops: TxnOp[]): Promise<ApiObject[]> {
    if (this.closed) return Promise.reject(new UnavailableError('store closed'));
    if (ops.length === 0) return Promise.resolve([]);
    return this.committer.submit(ops);
  }

  /**
   * Reads now; answers once what it read is durable, i.e. once `revisionOf(value)` is: a read
   * never shows a write that a power loss could still undo.
   */
  private read<T>(fn: () => T, revisionOf: (value: T) => number): Promise<T> {
    return this.run(() => {
      const value = fn();
      return this.committer.whenVisible(revisionOf(value)).then(() => value);
    });
  }

  /** Runs synchronous work, turning a closed store and thrown errors into a rejected promise. */
  private run<T>(fn: () => T | Promise<T>): Promise<T> {
    try {
      if (this.closed) throw new UnavailableError('store closed');
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(storeError(err));
    }
  }
}

/** Opens (creating when missing) the SQLite store at `opts.path`. */
export function openSqliteStore(opts: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(opts);
}
