/**
 * The SQLite store: the shared conformance suite, then what is specific to SQLite (history
 * limit, synchronous=NORMAL under kill -9, re-entrant handlers, close).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GoneError, UnavailableError } from '../../src/api/errors.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/index.js';
import type { WatchEvent } from '../../src/store/store.js';
import { runStoreConformance } from './conformance.js';
import { makeObject, padName, WatchCollector } from './conformance-helpers.js';
import { runCrashWriter, sqliteHarness } from './sqlite-harness.js';

runStoreConformance('sqlite (synchronous=FULL)', sqliteHarness('full'));

void describe('SQLite store specifics', { timeout: 60_000 }, () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-sqlite-x-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const open = (name: string, historyLimit?: number): SqliteStore => openSqliteStore({ path: join(dir, name, 'store.db'), historyLimit });

  void it('keeps the last historyLimit revisions of history; older watches get GoneError', async () => {
    const s = open('history', 50);
    try {
      for (let i = 0; i < 200; i++) await s.create(makeObject('Config', 'default', padName('c', i)));
      const recent = await WatchCollector.start(s, { fromRevision: 150 });
      await recent.waitForEvents(50);
      await recent.stop();
      assert.deepEqual(recent.events.map((e) => e.revision), Array.from({ length: 50 }, (_, i) => 151 + i));
      const old = await WatchCollector.start(s, { fromRevision: 10 });
      assert.ok((await old.waitForError()) instanceof GoneError);
      await old.stop();
      assert.equal((await s.list('Config')).items.length, 200);
    } finally {
      await s.close();
    }
  });

  void it('survives kill -9 with synchronous=NORMAL too (process crash, not power loss)', async () => {
    const path = join(dir, 'normal', 'store.db');
    const acks = await runCrashWriter(path, { namespace: 'n', count: 1_000_000, killAfterAcks: 300 }, 'normal');
    assert.ok(acks.length >= 300);
    const s = openSqliteStore({ path });
    try {
      for (const a of acks) assert.equal((await s.get({ kind: 'Config', namespace: 'n', name: a.name }))?.metadata.revision, a.revision, a.name);
    } finally {
      await s.close();
    }
  });

  void it('a handler that writes or starts a watch from inside a handler keeps every watcher in order', async () => {
    const s = open('reentrant');
    try {
      const seen: Record<string, number[]> = { a: [], b: [], late: [] };
      const wa = await s.watch({}, {
        onEvent: (ev: WatchEvent) => {
          seen.a?.push(ev.revision);
          if (ev.object.metadata.name === 'first') {
            void s.create(makeObject('Config', 'default', 'from-handler'));
            void s.watch({ fromRevision: ev.revision - 1 }, { onEvent: (e) => seen.late?.push(e.revision) });
          }
        },
      });
      const wb = await s.watch({}, { onEvent: (ev) => seen.b?.push(ev.revision) });
      const first = await s.create(makeObject('Config', 'default', 'first'));
      await s.create(makeObject('Config', 'default', 'third'));
      const r = first.metadata.revision;
      assert.deepEqual(seen.a, [r, r + 1, r + 2]);
      assert.deepEqual(seen.b, [r, r + 1, r + 2]);
      assert.deepEqual(seen.late, [r, r + 1, r + 2]);
      await wa.stop();
      await wb.stop();
    } finally {
      await s.close();
    }
  });

  void it('close ends watches with UnavailableError and later calls reject; close is idempotent', async () => {
    const s = open('close');
    const w = await WatchCollector.start(s, {});
    assert.equal(s.watchCount, 1);
    await s.close();
    await s.close();
    assert.ok((await w.waitForError()) instanceof UnavailableError);
    await assert.rejects(s.get({ kind: 'Config', namespace: 'default', name: 'x' }), UnavailableError);
    await assert.rejects(s.create(makeObject('Config', 'default', 'x')), UnavailableError);
    await w.stop();
  });
});
