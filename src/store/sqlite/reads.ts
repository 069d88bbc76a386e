/**
 * The read path: get and list straight from the objects table. Each list runs in one read
 * transaction, so its items and its revision come from the same snapshot.
 */
import type Database from 'better-sqlite3';
import type { ApiObject, Kind, ObjectKey } from '../../api/object.js';
import { matchesSelector, type ListOptions, type ListResult } from '../store.js';
import { readRevision, type Statements } from './statements.js';

/** The stored object, parsed fresh (callers may mutate it), or undefined. */
export function getObject(st: Statements, key: ObjectKey): ApiObject | undefined {
  const row = st.getObject.get(key.kind, key.namespace, key.name);
  return row === undefined ? undefined : (JSON.parse(row.json) as ApiObject);
}

/** Makes the lister for one connection: objects of a kind, by namespace and label selector. */
export function makeLister(db: Database.Database, st: Statements): (kind: Kind, opts?: ListOptions) => ListResult {
  const run = db.transaction((kind: Kind, opts: ListOptions): ListResult => {
    const rows = opts.namespace === undefined ? st.listKind.all(kind) : st.listKindNs.all(kind, opts.namespace);
    const items: ApiObject[] = [];
    for (const row of rows) {
      const obj = JSON.parse(row.json) as ApiObject;
      if (matchesSelector(obj.metadata.labels, opts.labelSelector)) items.push(obj);
    }
    return { items, revision: readRevision(st) };
  });
  return (kind, opts) => run.deferred(kind, opts ?? {});
}
