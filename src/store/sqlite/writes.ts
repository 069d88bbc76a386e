/**
 * The write path. A batch of writes (each one a create, update, delete or txn from one caller)
 * is applied in ONE SQLite transaction, so the whole batch costs one commit and one fsync (group
 * commit). Each write runs inside its own savepoint and takes its own revision: a write that
 * fails (typed error, or anything it throws) is rolled back to its savepoint, takes no revision
 * and leaves the others of the batch untouched. Its events go to the log with its revision.
 */
import type Database from 'better-sqlite3';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../../api/errors.js';
import { keyString, type ApiObject, type ObjectKey } from '../../api/object.js';
import type { TxnOp, WatchEventType } from '../store.js';
import { META_COMPACT, META_REVISION } from './schema.js';
import { readCompactRevision, readRevision, type EventRow, type Statements } from './statements.js';
import { storeError } from './errors.js';

/** The fate of one write of a batch: its results (and revision), or why it wrote nothing. */
export type WriteOutcome = { ok: true; revision: number; results: ApiObject[] } | { ok: false; error: Error };

/** What a committed batch produced: one outcome per write, in order, and the events for the watch hub. */
export interface CommittedBatch {
  /** The store revision after the batch (unchanged when every write failed). */
  revision: number;
  outcomes: WriteOutcome[];
  /** Events of the successful writes, in revision then op order. */
  events: EventRow[];
}

/** Applies a batch of writes (each a list of ops) in one transaction; throws only when the whole transaction failed. */
export type BatchWriter = (writes: TxnOp[][]) => CommittedBatch;

/** Makes the batch writer for one connection. */
export function makeBatchWriter(db: Database.Database, st: Statements, historyLimit: number): BatchWriter {
  const slack = Math.max(1, Math.min(1000, Math.floor(historyLimit / 10)));
  // Called inside the batch transaction, better-sqlite3 runs this one in a SAVEPOINT: a throw
  // rolls back to it and re-throws, the outer transaction goes on.
  const one = db.transaction((ops: TxnOp[], revision: number): { results: ApiObject[]; events: EventRow[] } => {
    const results: ApiObject[] = [];
    const events: EventRow[] = [];
    for (const op of ops) {
      const { result, type, eventJson, key } = applyOp(st, op, revision);
      results.push(result);
      events.push({ revision, seq: events.length, kind: key.kind, namespace: key.namespace, name: key.name, type, json: eventJson });
      st.insertEvent.run(revision, events.length - 1, key.kind, key.namespace, key.name, type, eventJson);
    }
    return { results, events };
  });
  const batch = db.transaction((writes: TxnOp[][]): CommittedBatch => {
    const start = readRevision(st);
    let revision = start;
    const outcomes: WriteOutcome[] = [];
    const events: EventRow[] = [];
    for (const ops of writes) {
      try {
        const done = one(ops, revision + 1);
        revision++;
        outcomes.push({ ok: true, revision, results: done.results });
        for (const ev of done.events) events.push(ev);
      } catch (err) {
        // SQLite may have rolled back the whole transaction (I/O error, disk full): then every
        // write of the batch is gone, and the batch fails as a whole.
        if (!db.inTransaction) throw err;
        outcomes.push({ ok: false, error: asError(err) });
      }
    }
    if (revision > start) {
      st.setMeta.run(revision, META_REVISION);
      const keepFrom = revision - historyLimit + 1;
      if (keepFrom - readCompactRevision(st) >= slack) compactLog(st, keepFrom);
    }
    return { revision, outcomes, events };
  });
  return (writes) => batch.immediate(writes);
}

/** Drops events below `keepFrom`; a watch from a revision below keepFrom - 1 is Gone afterwards. */
export function compactLog(st: Statements, keepFrom: number): void {
  if (keepFrom <= readCompactRevision(st)) return;
  st.deleteEventsBefore.run(keepFrom);
  st.setMeta.run(keepFrom, META_COMPACT);
}

/** Anything thrown, as an Error; SQLite's disk-full and I/O errors as UnavailableError (errors.ts). */
export function asError(err: unknown): Error {
  return storeError(err);
}

interface Applied {
  result: ApiObject;
  type: WatchEventType;
  eventJson: string;
  key: ObjectKey;
}

function applyOp(st: Statements, op: TxnOp, revision: number): Applied {
  if (op.op === 'delete') return applyDelete(st, op.key, op.expectedRevision, revision);
  const obj = op.object;
  const key: ObjectKey = { kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name };
  const current = st.getObject.get(key.kind, key.namespace, key.name);
  const json = JSON.stringify({ ...obj, metadata: { ...obj.metadata, revision } });
  if (op.op === 'create') {
    if (current !== undefined) throw new AlreadyExistsError(`${keyString(key)} already exists`);
    st.insertObject.run(key.kind, key.namespace, key.name, revision, json);
    return { result: JSON.parse(json) as ApiObject, type: 'added', eventJson: json, key };
  }
  if (current === undefined) throw new NotFoundError(`${keyString(key)} not found`);
  checkExpected(key, current.revision, op.expectedRevision);
  st.updateObject.run(revision, json, key.kind, key.namespace, key.name);
  return { result: JSON.parse(json) as ApiObject, type: 'modified', eventJson: json, key };
}

function applyDelete(st: Statements, key: ObjectKey, expected: number | undefined, revision: number): Applied {
  const current = st.getObject.get(key.kind, key.namespace, key.name);
  if (current === undefined) throw new NotFoundError(`${keyString(key)} not found`);
  checkExpected(key, current.revision, expected);
  st.deleteObject.run(key.kind, key.namespace, key.name);
  const last = JSON.parse(current.json) as ApiObject;
  const eventJson = JSON.stringify({ ...last, metadata: { ...last.metadata, revision } });
  return { result: last, type: 'deleted', eventJson, key };
}

function checkExpected(key: ObjectKey, stored: number, expected: number | undefined): void {
  if (expected !== undefined && expected !== stored) {
    throw new ConflictError(`${keyString(key)} changed: expected revision ${expected}, stored ${stored}`);
  }
}
