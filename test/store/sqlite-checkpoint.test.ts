/**
 * WAL checkpoints in a worker thread (src/store/sqlite/checkpointer.ts): the store's own
 * connection never auto-checkpoints, yet the WAL's frames reach the database file while the
 * store runs, once ~1,000 events were written; close() stops the worker; data survives a reopen; `checkpoint: 'inline'` keeps
 * SQLite's auto-checkpoint (the default). The conformance suite runs once more with the worker.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { makeObject } from './conformance-helpers.js';
import { runStoreConformance } from './conformance.js';
import { sqliteHarness } from './sqlite-harness.js';

runStoreConformance('sqlite (checkpoints in a worker thread)', sqliteHarness('full', 'thread', 'worker'));

const big = (i: number): ReturnType<typeof makeObject> => makeObject('Config', 'default', `c${i}`, {}, { data: { blob: 'x'.repeat(1000) } });

async function until(what: string, ms: number, f: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

void describe('SQLite WAL checkpoints off the main thread', { timeout: 60_000 }, () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-sqlite-ckpt-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  void it('the worker copies committed frames into the database file; close stops it; a reopen reads everything', async () => {
    const path = join(dir, 'w', 'store.db');
    const s = openSqliteStore({ path, checkpoint: 'worker' });
    const sizeBefore = statSync(path).size;
    // 1,050 objects of ~1 KB: past the checkpointer's 1,000 events, and far more pages than the
    // database held; only a checkpoint puts them there.
    await Promise.all(Array.from({ length: 1050 }, async (_, i) => s.create(big(i))));
    await until('the database file to hold the checkpointed pages', 20_000, () => statSync(path).size > sizeBefore + 400_000);
    await s.close();
    const again = openSqliteStore({ path });
    try {
      assert.equal((await again.list('Config')).items.length, 1050);
    } finally {
      await again.close();
    }
  });

  void it("the store's connection has auto-checkpoint off with the worker, on with checkpoint: 'inline'", async () => {
    for (const [mode, want] of [['worker', 0], ['inline', 1000]] as const) {
      const path = join(dir, mode, 'store.db');
      const s = openSqliteStore({ path, checkpoint: mode });
      try {
        // The setting is per connection: read it through the store's own handle.
        const db = (s as unknown as { db: Database.Database }).db;
        assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), want, mode);
      } finally {
        await s.close();
      }
    }
  });
});
