/**
 * The write path: applies a list of ops in ONE SQLite transaction under ONE new revision,
 * appends their events to the log, and trims the log to the history limit. A typed error from
 * any op rolls the whole transaction back, so a failed txn leaves no trace (not even a revision).
 */
import type Database from 'better-sqlite3';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../../api/errors.js';
import { keyString, type ApiObject, type ObjectKey } from '../../api/object.js';
import type { TxnOp, WatchEventType } from '../store.js';
import { META_COMPACT, META_REVISION } from './schema.js';
import { readCompactRevision, readRevision, type EventRow, type Statements } from './statements.js';

/** What a committed transaction produced: results for the caller, events for the watch hub. */
export interface Committed {
  revision: number;
  results: ApiObject[];
  events: EventRow[];
}

/** Makes the transactional writer for one connection. */
export function makeWriter(db: Database.Database, st: Statements, historyLimit: number): (ops: TxnOp[]) => Committed {
  const slack = Math.max(1, Math.min(1000, Math.floor(historyLimit / 10)));
  const run = db.transaction((ops: TxnOp[]): Committed => {
    const revision = readRevision(st) + 1;
    const results: ApiObject[] = [];
    const events: EventRow[] = [];
    for (const op of ops) {
      const { result, type, eventJson, key } = applyOp(st, op, revision);
      results.push(result);
      events.push({ revision, seq: events.length, kind: key.kind, namespace: key.namespace, name: key.name, type, json: eventJson });
      st.insertEvent.run(revision, events.length - 1, key.kind, key.namespace, key.name, type, eventJson);
    }
    st.setMeta.run(revision, META_REVISION);
    const keepFrom = revision - historyLimit + 1;
    if (keepFrom - readCompactRevision(st) >= slack) compactLog(st, keepFrom);
    return { revision, results, events };
  });
  return (ops) => run.immediate(ops);
}

/** Drops events below `keepFrom`; a watch from a revision below keepFrom - 1 is Gone afterwards. */
export function compactLog(st: Statements, keepFrom: number): void {
  if (keepFrom <= readCompactRevision(st)) return;
  st.deleteEventsBefore.run(keepFrom);
  st.setMeta.run(keepFrom, META_COMPACT);
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
