/**
 * The Store: the only way components talk (DESIGN.md "Data flow"). Two backends implement it,
 * SQLite (embedded default) and etcd (HA); one conformance suite (test/store/) runs on both.
 *
 * Revisions are global and monotonic, as in etcd: every write gets the next store revision and
 * stamps it into `metadata.revision` of the objects it touched. A watch from revision R delivers
 * every change with revision > R, in order, exactly once.
 */
import type { ApiObject, Kind, ObjectKey } from '../api/object.js';

/** Equality-based label selector: every pair must match (`app=web,tier=front`). */
export type LabelSelector = Record<string, string>;

export interface ListOptions {
  /** Omit for every namespace. */
  namespace?: string;
  labelSelector?: LabelSelector;
}

export interface ListResult {
  items: ApiObject[];
  /** Store revision the list is consistent with: start a watch from here to miss nothing. */
  revision: number;
}

export type WatchEventType = 'added' | 'modified' | 'deleted';

export interface WatchEvent {
  type: WatchEventType;
  /** For `deleted`, the object as it was last; its metadata.revision is the deletion's revision. */
  object: ApiObject;
  /** Store revision of this change. */
  revision: number;
}

export interface WatchOptions {
  /** Omit to watch every kind. */
  kind?: Kind;
  namespace?: string;
  /** Deliver changes with revision > fromRevision. Omit: only changes from now on. */
  fromRevision?: number;
}

/** A running watch. `stop()` is idempotent; no event is delivered after it resolves. */
export interface Watch {
  stop(): Promise<void>;
}

export interface WatchHandlers {
  /** Called in revision order, one call at a time. */
  onEvent(ev: WatchEvent): void;
  /** Fatal for this watch (e.g. GoneError when fromRevision was compacted); no events follow. */
  onError?(err: Error): void;
}

/** One operation of a transaction; `expectedRevision` as in update/delete. */
export type TxnOp =
  | { op: 'create'; object: ApiObject }
  | { op: 'update'; object: ApiObject; expectedRevision?: number }
  | { op: 'delete'; key: ObjectKey; expectedRevision?: number };

export interface Store {
  /** Fails with AlreadyExistsError when the key exists. Returns the object with its new revision. */
  create(obj: ApiObject): Promise<ApiObject>;
  /** Undefined when absent. */
  get(key: ObjectKey): Promise<ApiObject | undefined>;
  list(kind: Kind, opts?: ListOptions): Promise<ListResult>;
  /**
   * Replaces the object. With expectedRevision, fails with ConflictError when the stored
   * revision differs; NotFoundError when absent.
   */
  update(obj: ApiObject, expectedRevision?: number): Promise<ApiObject>;
  /** Returns the object as it was. NotFoundError when absent; ConflictError as in update. */
  delete(key: ObjectKey, expectedRevision?: number): Promise<ApiObject>;
  /** All or nothing. Results in the order of ops (deleted objects as they were). */
  txn(ops: TxnOp[]): Promise<ApiObject[]>;
  watch(opts: WatchOptions, handlers: WatchHandlers): Promise<Watch>;
  /** The store's current revision. */
  revision(): Promise<number>;
  close(): Promise<void>;
}

/** True when every selector pair is among the labels. */
export function matchesSelector(labels: Record<string, string> | undefined, sel: LabelSelector | undefined): boolean {
  if (sel === undefined) return true;
  for (const [k, v] of Object.entries(sel)) if (labels?.[k] !== v) return false;
  return true;
}
