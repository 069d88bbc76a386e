/**
 * Every SQL statement the SQLite store runs, prepared once per connection. Reads, writes and
 * the watch replay all go through this table of statements (no SQL elsewhere).
 */
import type Database from 'better-sqlite3';
import { META_COMPACT, META_REVISION } from './schema.js';

/** A row of the event log, as stored. */
export interface EventRow {
  revision: number;
  seq: number;
  kind: string;
  namespace: string;
  name: string;
  type: string;
  json: string;
}

/** Filter and cursor for a page of the event log: rows after (revision, seq). */
export interface EventPageQuery {
  revision: number;
  seq: number;
  kind: string | null;
  namespace: string | null;
  limit: number;
}

/** The prepared statements of one connection. */
export interface Statements {
  getMeta: Database.Statement<[string], { value: number }>;
  setMeta: Database.Statement<[number, string]>;
  getObject: Database.Statement<[string, string, string], { revision: number; json: string }>;
  insertObject: Database.Statement<[string, string, string, number, string]>;
  updateObject: Database.Statement<[number, string, string, string, string]>;
  deleteObject: Database.Statement<[string, string, string]>;
  listKind: Database.Statement<[string], { json: string }>;
  listKindNs: Database.Statement<[string, string], { json: string }>;
  insertEvent: Database.Statement<[number, number, string, string, string, string, string]>;
  /** Pages of the log up to `maxRevision`: the last revision published to watchers (durable). */
  eventPage: Database.Statement<EventPageQuery & { maxRevision: number }, EventRow>;
  deleteEventsBefore: Database.Statement<[number]>;
}

/** Prepares every statement on `db` (schema must exist). */
export function prepareStatements(db: Database.Database): Statements {
  return {
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare('UPDATE meta SET value = ? WHERE key = ?'),
    getObject: db.prepare('SELECT revision, json FROM objects WHERE kind = ? AND namespace = ? AND name = ?'),
    insertObject: db.prepare('INSERT INTO objects (kind, namespace, name, revision, json) VALUES (?, ?, ?, ?, ?)'),
    updateObject: db.prepare('UPDATE objects SET revision = ?, json = ? WHERE kind = ? AND namespace = ? AND name = ?'),
    deleteObject: db.prepare('DELETE FROM objects WHERE kind = ? AND namespace = ? AND name = ?'),
    listKind: db.prepare('SELECT json FROM objects WHERE kind = ? ORDER BY namespace, name'),
    listKindNs: db.prepare('SELECT json FROM objects WHERE kind = ? AND namespace = ? ORDER BY name'),
    insertEvent: db.prepare('INSERT INTO events (revision, seq, kind, namespace, name, type, json) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    eventPage: db.prepare(
      `SELECT revision, seq, kind, namespace, name, type, json FROM events
       WHERE (revision, seq) > (@revision, @seq) AND revision <= @maxRevision
         AND (@kind IS NULL OR kind = @kind)
         AND (@namespace IS NULL OR namespace = @namespace)
       ORDER BY revision, seq LIMIT @limit`,
    ),
    deleteEventsBefore: db.prepare('DELETE FROM events WHERE revision < ?'),
  };
}

/** The last committed revision. */
export function readRevision(st: Statements): number {
  return st.getMeta.get(META_REVISION)?.value ?? 0;
}

/** The first revision the event log still holds (history below it was compacted). */
export function readCompactRevision(st: Statements): number {
  return st.getMeta.get(META_COMPACT)?.value ?? 0;
}
