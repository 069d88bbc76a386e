/**
 * Group commit in the SQLite store: concurrent writes share one transaction and one fsync, yet
 * each keeps its own revision (in call order), its own failure, and its own rollback; nothing is
 * acknowledged, read or watched before it is durable; kill -9 under 16 writers in flight loses
 * no acknowledged write. Also runs the conformance suite with SQLite fsyncing inside COMMIT.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../../src/api/errors.js';
import type { ApiObject } from '../../src/api/object.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/index.js';
import { runStoreConformance } from './conformance.js';
import { makeObject, padName, rejectsWith, summarize, WatchCollector } from './conformance-helpers.js';
import { runCrashWriter, sqliteHarness } from './sqlite-harness.js';

runStoreConformance('sqlite (synchronous=FULL, fsync inside COMMIT)', sqliteHarness('full', 'commit'));

const cfg = (name: string, spec: unknown = {}): ApiObject => makeObject('Config', 'default', name, {}, spec);

void describe('SQLite group commit', { timeout: 90_000 }, () => {
  let dir = '';
  let n = 0;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-sqlite-gc-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const open = (fsync: 'thread' | 'commit' = 'thread'): SqliteStore => openSqliteStore({ path: join(dir, `s${n++}`, 'store.db'), fsync });

  for (const fsync of ['thread', 'commit'] as const) {
    void it(`(fsync ${fsync}) 64 concurrent creates: one transaction, distinct consecutive revisions in call order`, async () => {
      const s = open(fsync);
      try {
        const base = await s.revision();
        const w = await WatchCollector.start(s, { fromRevision: base });
        const before = { ...s.commitStats };
        const done = await Promise.all(Array.from({ length: 64 }, (_, i) => s.create(cfg(padName('c', i)))));
        assert.deepEqual(done.map((o) => o.metadata.revision), Array.from({ length: 64 }, (_, i) => base + 1 + i));
        assert.equal(s.commitStats.batches - before.batches, 1, 'all 64 in one transaction');
        if (fsync === 'thread') assert.equal(s.commitStats.syncs - before.syncs, 1, 'and one fdatasync');
        await w.waitForEvents(64);
        await w.stop();
        assert.deepEqual(w.events.map((e) => [e.revision, e.object.metadata.name]), done.map((o) => [o.metadata.revision, o.metadata.name]));
        assert.equal(await s.revision(), base + 64);
      } finally {
        await s.close();
      }
    });
  }

  void it('failing writes in a batch fail alone, with their own typed errors, and take no revision', async () => {
    const s = open();
    try {
      const a = await s.create(cfg('a'));
      const gone = await s.create(cfg('gone'));
      const base = await s.revision();
      const before = s.commitStats.batches;
      const settled = await Promise.allSettled([
        s.update(cfg('a', { v: 1 }), a.metadata.revision), // wins
        s.update(cfg('a', { v: 2 }), a.metadata.revision), // conflict: the first moved it
        s.create(cfg('b')),
        s.create(cfg('a')), // already exists
        s.delete({ kind: 'Config', namespace: 'default', name: 'nope' }), // not found
        s.delete({ kind: 'Config', namespace: 'default', name: 'gone' }, gone.metadata.revision),
        s.update(cfg('gone', { v: 3 })), // not found: deleted just before, in the same batch
        s.txn([{ op: 'create', object: cfg('t1') }, { op: 'update', object: cfg('b', { v: 4 }), expectedRevision: 1 }]), // conflict inside a txn
        s.create(cfg('c')),
      ]);
      assert.equal(s.commitStats.batches - before, 1, 'all in one transaction');
      const revs = settled.map((r) => (r.status === 'fulfilled' ? (Array.isArray(r.value) ? r.value[0]?.metadata.revision : r.value.metadata.revision) : r.reason instanceof Error ? r.reason.constructor.name : 'x'));
      // A delete answers the object as it was; the deletion itself took base + 3.
      assert.deepEqual(revs, [base + 1, 'ConflictError', base + 2, 'AlreadyExistsError', 'NotFoundError', gone.metadata.revision, 'NotFoundError', 'ConflictError', base + 4]);
      assert.deepEqual((await s.get({ kind: 'Config', namespace: 'default', name: 'a' }))?.spec, { v: 1 });
      assert.equal(await s.get({ kind: 'Config', namespace: 'default', name: 't1' }), undefined, 'the failed txn left nothing');
      assert.equal(await s.get({ kind: 'Config', namespace: 'default', name: 'gone' }), undefined);
      assert.equal(await s.revision(), base + 4);
      await rejectsWith(s.update(cfg('a'), a.metadata.revision), ConflictError, 'stale expected revision, alone');
      await rejectsWith(s.create(cfg('b')), AlreadyExistsError, 'b exists');
      await rejectsWith(s.delete({ kind: 'Config', namespace: 'default', name: 'nope' }), NotFoundError, 'still absent');
    } finally {
      await s.close();
    }
  });

  void it('an error thrown mid-write (after some of its ops ran) rolls back only that write', async () => {
    const s = open();
    try {
      const base = await s.revision();
      const w = await WatchCollector.start(s, { fromRevision: base });
      const before = s.commitStats.batches;
      // JSON.stringify throws on a BigInt: the txn's first op is already written when its second throws.
      const bad = s.txn([{ op: 'create', object: cfg('half') }, { op: 'create', object: cfg('boom', { n: 1n }) }]);
      const [x, , y] = await Promise.allSettled([s.create(cfg('x')), bad, s.create(cfg('y'))]);
      assert.equal(s.commitStats.batches - before, 1, 'one transaction');
      await assert.rejects(bad, TypeError);
      assert.equal(x.status === 'fulfilled' ? x.value.metadata.revision : -1, base + 1);
      assert.equal(y.status === 'fulfilled' ? y.value.metadata.revision : -1, base + 2, 'the failed write took no revision');
      assert.equal(await s.get({ kind: 'Config', namespace: 'default', name: 'half' }), undefined, 'its first op was rolled back');
      const events = await w.waitForEvents(2);
      await w.stop();
      assert.deepEqual(summarize(events), [`added:Config/default/x@${base + 1}`, `added:Config/default/y@${base + 2}`]);
      const reopened = openSqliteStore({ path: join(dir, `s${n - 1}`, 'store.db') });
      await s.close();
      try {
        assert.deepEqual((await reopened.list('Config')).items.map((o) => o.metadata.name), ['x', 'y']);
      } finally {
        await reopened.close();
      }
    } finally {
      await s.close();
    }
  });

  void it('acks, watch events and reads come only after the fdatasync that covers the write', async () => {
    const s = open();
    try {
      const syncsAt: number[] = [];
      const w = await s.watch({}, { onEvent: () => void syncsAt.push(s.commitStats.syncs) });
      const syncs0 = s.commitStats.syncs;
      const writes = Array.from({ length: 8 }, (_, i) => s.create(cfg(padName('d', i))).then(() => s.commitStats.syncs));
      const read = s.list('Config').then((l) => ({ n: l.items.length, syncs: s.commitStats.syncs }));
      const acked = await Promise.all(writes);
      for (const at of [...acked, ...syncsAt]) assert.ok(at > syncs0, 'settled before its fdatasync completed');
      assert.equal(syncsAt.length, 8);
      // The list ran after the creates were queued but before they committed: it saw nothing new.
      assert.deepEqual(await read, { n: 0, syncs: syncs0 });
      // A read that sees committed-but-not-yet-durable writes waits for their fdatasync.
      const more = s.create(cfg('e'));
      await new Promise((r) => setImmediate(r)); // the batch commits; its fdatasync is running
      const syncs1 = s.commitStats.syncs;
      const g1 = s.get({ kind: 'Config', namespace: 'default', name: padName('d', 0) }).then((o) => ({ o, syncs: s.commitStats.syncs }));
      const g2 = s.get({ kind: 'Config', namespace: 'default', name: 'e' }).then((o) => ({ o, syncs: s.commitStats.syncs }));
      const l2 = await s.list('Config');
      assert.ok(l2.items.some((o) => o.metadata.name === 'e'));
      assert.ok(s.commitStats.syncs > syncs1, 'the list waited for the fdatasync');
      assert.equal((await g1).syncs, syncs1, 'a durable row is answered at once');
      assert.ok((await g2).syncs > syncs1, 'a row still being fsynced is answered after');
      await more;
      await w.stop();
    } finally {
      await s.close();
    }
  });

  void it('close() commits and settles writes already made, then reopening has them', async () => {
    const path = join(dir, 'close', 'store.db');
    const s = openSqliteStore({ path });
    const writes = Array.from({ length: 20 }, (_, i) => s.create(cfg(padName('k', i))));
    await s.close();
    const done = await Promise.all(writes);
    const r = openSqliteStore({ path });
    try {
      assert.equal((await r.list('Config')).items.length, 20);
      assert.equal(await r.revision(), done.at(-1)?.metadata.revision);
    } finally {
      await r.close();
    }
  });

  for (const fsync of ['thread', 'commit'] as const) {
    void it(`(fsync ${fsync}) kill -9 with 16 creates in flight: every acknowledged write survives`, async () => {
      const path = join(dir, `crash-${fsync}`, 'store.db');
      const acks = await runCrashWriter(path, { namespace: 'n', count: 1_000_000, killAfterAcks: 2000 }, 'full', { concurrency: 16, fsync });
      assert.ok(acks.length >= 2000);
      assert.equal(new Set(acks.map((a) => a.revision)).size, acks.length, 'distinct revisions');
      const s = openSqliteStore({ path });
      try {
        for (const a of acks) assert.equal((await s.get({ kind: 'Config', namespace: 'n', name: a.name }))?.metadata.revision, a.revision, a.name);
        assert.ok((await s.revision()) >= Math.max(...acks.map((a) => a.revision)));
      } finally {
        await s.close();
      }
    });
  }
});
