/**
 * Opens the SQLite file and creates the schema: the current objects, the event log that
 * watches replay from, and a tiny meta table holding the store revision and the compaction
 * point. One file in the data dir; WAL journal.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** How hard SQLite flushes a commit before it is acknowledged. */
export type SyncMode = 'full' | 'normal';

/** The meta keys: `revision` = last committed revision, `compact` = first revision still in the log. */
export const META_REVISION = 'revision';
export const META_COMPACT = 'compact';

const DDL = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value) VALUES ('${META_REVISION}', 0), ('${META_COMPACT}', 0);

CREATE TABLE IF NOT EXISTS objects (
  kind      TEXT NOT NULL,
  namespace TEXT NOT NULL,
  name      TEXT NOT NULL,
  revision  INTEGER NOT NULL,
  json      TEXT NOT NULL,
  PRIMARY KEY (kind, namespace, name)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS events (
  revision  INTEGER NOT NULL,
  seq       INTEGER NOT NULL,
  kind      TEXT NOT NULL,
  namespace TEXT NOT NULL,
  name      TEXT NOT NULL,
  type      TEXT NOT NULL,
  json      TEXT NOT NULL,
  PRIMARY KEY (revision, seq)
) WITHOUT ROWID;
`;

/**
 * Opens (creating if needed) the database at `path`. WAL lets readers run beside the writer.
 * `FULL` makes SQLite fsync the WAL inside every COMMIT; `NORMAL` writes the WAL without an
 * fsync at commit (it survives kill -9; it still fsyncs around checkpoints). The store's default
 * durability is NORMAL plus its own fdatasync of the WAL before it acknowledges (wal-sync.ts):
 * as durable as FULL, but off the main thread and once per group of commits.
 */
export function openDatabase(path: string, pragma: 'FULL' | 'NORMAL'): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${pragma}`);
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = OFF');
    db.exec(DDL);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
