/**
 * The embedded Store on SQLite (DESIGN.md "Real components"): the default for `flotilla up`.
 * One file in the data dir, owned by one process: watches are delivered in-process, right
 * after each commit, so another process writing the same file would not be seen by watchers.
 */
import type Database from 'better-sqlite3';
import { UnavailableError } from '../../api/errors.js';
import type { ApiObject, Kind, ObjectKey } from '../../api/object.js';
import type { ListOptions, ListResult, Store, TxnOp, Watch, WatchHandlers, WatchOptions } from '../store.js';
import { getObject, makeLister } from './reads.js';
import { openDatabase, type SyncMode } from './schema.js';
import { prepareStatements, readCompactRevision, readRevision, type Statements } from './statements.js';
import { WatchHub } from './watch-hub.js';
import { compactLog, makeWriter, type Committed } from './writes.js';

export type { SyncMode } from './schema.js';

/** Options of openSqliteStore. */
export interface SqliteStoreOptions {
  /** The database file, e.g. `<data-dir>/store.db`; its folder is created when missing. */
  path: string;
  /** Revisions of history the event log keeps for watches to resume from (default 100,000). */
  historyLimit?: number;
  /** `full` (default): every acknowledged commit is fsynced. `normal`: survives a process crash, not a power loss. */
  synchronous?: SyncMode;
}

/** Default number of revisions of watch history. */
export const DEFAULT_HISTORY_LIMIT = 100_000;

/** The SQLite implementation of Store, plus compaction and counters for tests and tools. */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly st: Statements;
  private readonly write: (ops: TxnOp[]) => Committed;
  private readonly listRows: (kind: Kind, opts?: ListOptions) => ListResult;
  private readonly hub = new WatchHub();
  private closed = false;

  constructor(opts: SqliteStoreOptions) {
    const historyLimit = opts.historyLimit ?? DEFAULT_HISTORY_LIMIT;
    if (!Number.isInteger(historyLimit) || historyLimit < 1) throw new RangeError(`historyLimit must be an integer >= 1, got ${historyLimit}`);
    this.db = openDatabase(opts.path, opts.synchronous ?? 'full');
    this.st = prepareStatements(this.db);
    this.write = makeWriter(this.db, this.st, historyLimit);
    this.listRows = makeLister(this.db, this.st);
  }

  create(obj: ApiObject): Promise<ApiObject> {
    return this.commit([{ op: 'create', object: obj }]).then((r) => r[0] as ApiObject);
  }

  get(key: ObjectKey): Promise<ApiObject | undefined> {
    return this.run(() => getObject(this.st, key));
  }

  list(kind: Kind, opts?: ListOptions): Promise<ListResult> {
    return this.run(() => this.listRows(kind, opts));
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
      // Revision, compaction point and replay are read in one synchronous step: no write between.
      const read = (q: Parameters<Statements['eventPage']['all']>[0]) => this.st.eventPage.all(q);
      return this.hub.add(opts, handlers, read, readRevision(this.st), readCompactRevision(this.st));
    });
  }

  revision(): Promise<number> {
    return this.run(() => readRevision(this.st));
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

  /** Ends every watch and closes the file. Idempotent. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.hub.closeAll();
      this.db.close();
    }
    return Promise.resolve();
  }

  private commit(ops: TxnOp[]): Promise<ApiObject[]> {
    return this.run(() => {
      if (ops.length === 0) return [];
      const done = this.write(ops);
      this.hub.publish(done.events);
      return done.results;
    });
  }

  /** Runs synchronous work, turning a closed store and thrown errors into a rejected promise. */
  private run<T>(fn: () => T): Promise<T> {
    try {
      if (this.closed) throw new UnavailableError('store closed');
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

/** Opens (creating when missing) the SQLite store at `opts.path`. */
export function openSqliteStore(opts: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(opts);
}
