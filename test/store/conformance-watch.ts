/**
 * Watch, scale and crash parts of the Store conformance suite (see conformance.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GoneError } from '../../src/api/errors.js';
import type { WatchEvent } from '../../src/store/store.js';
import type { StoreHarness, SuiteContext } from './conformance.js';
import { delay, makeObject, padName, summarize, WatchCollector } from './conformance-helpers.js';

/** Watch semantics: replay, live, filters, restart, stop, compaction. */
export function defineWatchTests(ctx: SuiteContext, h: StoreHarness): void {
  void describe('watch', () => {
    void it('from revision R delivers every change after R, in order, exactly once, with types', async () => {
      const s = ctx.store;
      await s.create(makeObject('Service', 'default', 'before'));
      const r = await s.revision();
      const a = await s.create(makeObject('Service', 'default', 'a', {}, { v: 1 }));
      const a2 = await s.update({ ...a, spec: { v: 2 } });
      await s.delete({ kind: 'Service', namespace: 'default', name: 'a' });
      const w = await WatchCollector.start(s, { fromRevision: r });
      const evs = await w.waitForEvents(3);
      await delay(50);
      await w.stop();
      assert.deepEqual(summarize(evs), [`added:Service/default/a@${r + 1}`, `modified:Service/default/a@${r + 2}`, `deleted:Service/default/a@${r + 3}`]);
      assert.deepEqual(evs[1]?.object, a2);
      assert.deepEqual(evs[2]?.object.spec, { v: 2 }, 'deleted carries the last object');
      assert.equal(evs[2]?.object.metadata.revision, r + 3, "deleted object's revision is the deletion's");
      assert.equal(evs[0]?.object.metadata.revision, r + 1);
    });

    void it('without fromRevision delivers only changes from now on', async () => {
      const s = ctx.store;
      await s.create(makeObject('Config', 'default', 'old'));
      const w = await WatchCollector.start(s, {});
      await s.create(makeObject('Config', 'default', 'new'));
      const evs = await w.waitForEvents(1);
      await delay(50);
      await w.stop();
      assert.deepEqual(evs.map((e) => e.object.metadata.name), ['new']);
    });

    void it('filters by kind and namespace', async () => {
      const s = ctx.store;
      const r = await s.revision();
      const byKind = await WatchCollector.start(s, { kind: 'Task', fromRevision: r });
      const byNs = await WatchCollector.start(s, { namespace: 'prod', fromRevision: r });
      const both = await WatchCollector.start(s, { kind: 'Task', namespace: 'prod', fromRevision: r });
      await s.create(makeObject('Task', 'default', 't1'));
      await s.create(makeObject('Service', 'prod', 's1'));
      await s.create(makeObject('Task', 'prod', 't2'));
      await s.create(makeObject('Config', 'default', 'c1'));
      await s.create(makeObject('Task', 'prod', 't3'));
      await byKind.waitForEvents(3);
      await byNs.waitForEvents(3);
      await both.waitForEvents(2);
      await delay(50);
      for (const w of [byKind, byNs, both]) await w.stop();
      assert.deepEqual(byKind.events.map((e) => e.object.metadata.name), ['t1', 't2', 't3']);
      assert.deepEqual(byNs.events.map((e) => e.object.metadata.name), ['s1', 't2', 't3']);
      assert.deepEqual(both.events.map((e) => e.object.metadata.name), ['t2', 't3']);
    });

    void it('a txn shows as one event per object, all with the txn revision, in op order', async () => {
      const s = ctx.store;
      const r = await s.revision();
      const w = await WatchCollector.start(s, { fromRevision: r });
      await s.txn([0, 1, 2].map((i) => ({ op: 'create' as const, object: makeObject('Task', 'default', padName('t', i)) })));
      const evs = await w.waitForEvents(3);
      await w.stop();
      assert.deepEqual(summarize(evs), [0, 1, 2].map((i) => `added:Task/default/${padName('t', i)}@${r + 1}`));
    });

    void it('replay then live: no gap and no duplicate while writes continue', async () => {
      const s = ctx.store;
      for (let i = 0; i < 30; i++) await s.create(makeObject('Config', 'default', padName('c', i)));
      const r = (await s.revision()) - 20;
      const writer = (async () => {
        for (let i = 30; i < 80; i++) {
          await s.create(makeObject('Config', 'default', padName('c', i)));
          if (i % 5 === 0) await delay(1);
        }
      })();
      const w = await WatchCollector.start(s, { fromRevision: r });
      await writer;
      const end = await s.revision();
      const evs = await w.waitForEvents(end - r);
      await delay(100);
      await w.stop();
      assert.deepEqual(evs.map((e) => e.revision), Array.from({ length: end - r }, (_, i) => r + 1 + i));
    });

    void it('a watch from R after a restart sees exactly the changes after R', async () => {
      let s = ctx.store;
      await s.create(makeObject('Service', 'default', 'a'));
      const r = await s.revision();
      await s.create(makeObject('Service', 'default', 'b'));
      await s.update(makeObject('Service', 'default', 'a', {}, { v: 2 }));
      s = ctx.store = await h.reopen();
      assert.equal(await s.revision(), r + 2, 'the revision survives a restart');
      await s.delete({ kind: 'Service', namespace: 'default', name: 'b' });
      const w = await WatchCollector.start(s, { fromRevision: r });
      await w.waitForEvents(3);
      await s.create(makeObject('Service', 'default', 'c'));
      const evs = await w.waitForEvents(4);
      await delay(50);
      await w.stop();
      assert.deepEqual(summarize(evs), [`added:Service/default/b@${r + 1}`, `modified:Service/default/a@${r + 2}`, `deleted:Service/default/b@${r + 3}`, `added:Service/default/c@${r + 4}`]);
      assert.deepEqual((await s.get({ kind: 'Service', namespace: 'default', name: 'a' }))?.spec, { v: 2 });
    });

    void it('stop() is idempotent and no event is delivered after it resolves', async () => {
      const s = ctx.store;
      const w = await WatchCollector.start(s, {});
      await s.create(makeObject('Config', 'default', 'one'));
      await w.waitForEvents(1);
      const p1 = w.watch?.stop();
      const p2 = w.watch?.stop();
      await Promise.all([p1, p2]);
      await w.stop();
      const seen = w.events.length;
      await s.create(makeObject('Config', 'default', 'two'));
      await s.txn([{ op: 'create', object: makeObject('Config', 'default', 'three') }]);
      await delay(200);
      assert.equal(w.events.length, seen);
      assert.equal(w.errors.length, 0);
    });

    void it('a handler that throws does not break other watchers or the writer', async () => {
      const s = ctx.store;
      const r = await s.revision();
      const thrower = await s.watch({ fromRevision: r }, {
        onEvent: () => {
          throw new Error('handler bug (expected in this test)');
        },
        onError: () => undefined,
      });
      const good = await WatchCollector.start(s, { fromRevision: r });
      const c = await s.create(makeObject('Config', 'default', 'a'));
      assert.equal(c.metadata.revision, r + 1);
      await s.create(makeObject('Config', 'default', 'b'));
      const evs = await good.waitForEvents(2);
      await good.stop();
      await thrower.stop();
      assert.deepEqual(evs.map((e) => e.object.metadata.name), ['a', 'b']);
    });

    void it('watching from a compacted revision fails with GoneError', async () => {
      const s = ctx.store;
      const r0 = await s.revision();
      for (let i = 0; i < 10; i++) await s.create(makeObject('Config', 'default', padName('c', i)));
      await h.compact(r0 + 8);
      const w = await WatchCollector.start(s, { fromRevision: r0 + 1 });
      const err = await w.waitForError();
      await delay(50);
      await w.stop();
      assert.ok(err instanceof GoneError, `expected GoneError, got ${String(err)}`);
      assert.equal(w.events.length, 0, 'no events from a compacted watch');
      const ok = await WatchCollector.start(s, { fromRevision: r0 + 10 });
      await s.create(makeObject('Config', 'default', 'after'));
      await ok.waitForEvents(1);
      await ok.stop();
      assert.equal(ok.errors.length, 0);
      assert.equal((await s.list('Config')).items.length, 11, 'compaction keeps current objects');
    });
  });
}

/** 10,000 objects through txns, list and watch. */
export function defineScaleTests(ctx: SuiteContext): void {
  void describe('scale', () => {
    void it('10,000 objects: txns of 500, list returns all, a watcher gets all 10,000 events in order', { timeout: 120_000 }, async () => {
      const s = ctx.store;
      const total = 10_000;
      const batch = 500;
      const r0 = await s.revision();
      const w = await WatchCollector.start(s, { kind: 'Task', fromRevision: r0 });
      for (let start = 0; start < total; start += batch) {
        const ops = Array.from({ length: batch }, (_, j) => ({
          op: 'create' as const,
          object: makeObject('Task', `ns-${(start + j) % 7}`, padName('task', start + j), { shard: String((start + j) % 10) }, { i: start + j }),
        }));
        const res = await s.txn(ops);
        assert.equal(res.length, batch);
      }
      assert.equal(await s.revision(), r0 + total / batch);
      const l = await s.list('Task');
      assert.equal(l.items.length, total);
      const seen = new Set(l.items.map((o) => (o.spec as { i: number }).i));
      assert.equal(seen.size, total);
      assert.equal((await s.list('Task', { labelSelector: { shard: '3' } })).items.length, total / 10);
      assert.equal((await s.list('Task', { namespace: 'ns-0' })).items.length, Math.ceil(total / 7));
      const evs = await w.waitForEvents(total, 60_000);
      await delay(100);
      await w.stop();
      assert.equal(evs.length, total, 'exactly once');
      checkInOrder(evs, r0, batch);
    });
  });
}

function checkInOrder(evs: WatchEvent[], r0: number, batch: number): void {
  for (let i = 0; i < evs.length; i++) {
    const e = evs[i] as WatchEvent;
    if (e.type !== 'added' || e.object.metadata.name !== padName('task', i) || e.revision !== r0 + 1 + Math.floor(i / batch)) {
      assert.fail(`event ${i} out of order: ${summarize([e])[0]}`);
    }
  }
}

/** kill -9 of the writing process loses no acknowledged write. */
export function defineCrashTests(ctx: SuiteContext, h: StoreHarness): void {
  void describe('durability', () => {
    void it('every acknowledged write survives kill -9 of the writer', { skip: h.crashWriter === undefined ? 'no crashWriter in this harness' : false, timeout: 60_000 }, async () => {
      const crashWriter = h.crashWriter?.bind(h);
      assert.ok(crashWriter);
      const r0 = await ctx.store.revision();
      const acks = await crashWriter({ namespace: 'crash', count: 1_000_000, killAfterAcks: 300 });
      assert.ok(acks.length >= 300, `writer acknowledged ${acks.length} writes before the kill`);
      const s = (ctx.store = await h.reopen());
      const maxAck = Math.max(...acks.map((a) => a.revision));
      assert.ok((await s.revision()) >= maxAck, 'store revision covers every acknowledged write');
      for (const a of acks) {
        const got = await s.get({ kind: 'Config', namespace: 'crash', name: a.name });
        assert.ok(got !== undefined, `acknowledged ${a.name}@${a.revision} lost`);
        assert.equal(got.metadata.revision, a.revision);
      }
      const w = await WatchCollector.start(s, { namespace: 'crash', fromRevision: r0 });
      const evs = await w.waitForEvents(acks.length);
      await w.stop();
      assert.deepEqual(evs.slice(0, acks.length).map((e) => e.object.metadata.name), acks.map((a) => a.name), 'the history holds every acknowledged write');
      const after = await s.create(makeObject('Config', 'crash', 'after-restart'));
      assert.ok(after.metadata.revision > (await s.list('Config', { namespace: 'crash' })).items.filter((o) => o.metadata.name !== 'after-restart').reduce((m, o) => Math.max(m, o.metadata.revision), 0));
    });
  });
}
