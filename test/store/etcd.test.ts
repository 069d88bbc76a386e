/**
 * The etcd store on a real etcd: the shared conformance suite, then what is specific to etcd.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { after, afterEach, describe, it } from 'node:test';
import { AlreadyExistsError, isRetryable, UnavailableError } from '../../src/api/errors.js';
import { keyOf, type ApiObject } from '../../src/api/object.js';
import { openEtcdStore, type EtcdStore, type EtcdStoreOptions } from '../../src/store/etcd/index.js';
import { freePort, startEtcd, startEtcdCluster, type EtcdMember } from '../helpers/etcd.js';
import { runStoreConformance } from './conformance.js';
import { delay, makeObject, padName, rejectsWith, summarize, WatchCollector } from './conformance-helpers.js';
import { etcdHarness } from './etcd-harness.js';

const harness = etcdHarness();
after(() => harness.shutdown());
runStoreConformance('etcd', harness);

/** Opens a store on `endpoints` with a fresh prefix; closed by the caller. */
function storeOn(endpoints: string[], extra: Partial<EtcdStoreOptions> = {}): EtcdStore {
  return openEtcdStore({ endpoints, prefix: `/etcd-test-${process.pid}-${Math.random().toString(36).slice(2)}`, ...extra });
}

void describe('etcd store: restarts, outages, failover', { timeout: 120_000 }, () => {
  let member: EtcdMember | undefined;
  let store: EtcdStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await member?.stop();
    member = undefined;
  });

  void it('a live watch survives an etcd kill -9 and restart: writes before and after arrive once, in order', async () => {
    member = await startEtcd();
    const s = (store = storeOn([member.clientUrl]));
    const r0 = await s.revision();
    const w = await WatchCollector.start(s, { kind: 'Config', fromRevision: r0 });
    await s.create(makeObject('Config', 'default', 'before-1'));
    await s.create(makeObject('Config', 'default', 'before-2'));
    await w.waitForEvents(2);
    await member.kill();
    await member.restart();
    await s.create(makeObject('Config', 'default', 'after-1'));
    await s.update(makeObject('Config', 'default', 'before-1', {}, { v: 2 }));
    const evs = await w.waitForEvents(4);
    await delay(300);
    await w.stop();
    assert.deepEqual(summarize(evs), [
      `added:Config/default/before-1@${r0 + 1}`,
      `added:Config/default/before-2@${r0 + 2}`,
      `added:Config/default/after-1@${r0 + 3}`,
      `modified:Config/default/before-1@${r0 + 4}`,
    ]);
    assert.equal(w.errors.length, 0);
  });

  void it('a watch killed in the middle of its replay resumes after the last event it delivered', async () => {
    member = await startEtcd();
    const s = (store = storeOn([member.clientUrl]));
    const r0 = await s.revision();
    // 1,500 revisions replay in two batches whose headers carry the newest revision: the etcd3
    // library alone would resume after that newest revision and skip the second batch.
    for (let i = 0; i < 1_500; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => s.create(makeObject('Task', 'default', padName('t', i + j)))));
    }
    const end = await s.revision();
    const m = member;
    let killed: Promise<void> | undefined;
    const seen: number[] = [];
    const w = await s.watch({ kind: 'Task', fromRevision: r0 }, {
      onEvent: (ev) => {
        seen.push(ev.revision);
        killed ??= m.kill().then(() => m.restart());
      },
    });
    const deadline = Date.now() + 30_000;
    while (seen.length < end - r0 && Date.now() < deadline) await delay(20);
    await killed;
    const last = await s.create(makeObject('Task', 'default', 'after-restart'));
    while (seen[seen.length - 1] !== last.metadata.revision && Date.now() < deadline) await delay(20);
    await w.stop();
    assert.deepEqual(seen, Array.from({ length: last.metadata.revision - r0 }, (_, i) => r0 + 1 + i), 'every revision once, in order');
  });

  void it('etcd down: calls fail with UnavailableError within the timeout; after restart the same store works and nothing acknowledged is lost', async () => {
    member = await startEtcd();
    const timeoutMs = 1_500;
    const s = (store = storeOn([member.clientUrl], { timeoutMs }));
    const acked = await s.create(makeObject('Service', 'default', 'kept'));
    await member.kill();
    const t0 = Date.now();
    await rejectsWith(s.create(makeObject('Service', 'default', 'lost')), UnavailableError, 'create while down');
    await rejectsWith(s.get(keyOf(acked)), UnavailableError, 'get while down');
    await rejectsWith(s.list('Service'), UnavailableError, 'list while down');
    await rejectsWith(s.watch({ kind: 'Service' }, { onEvent: () => undefined }), UnavailableError, 'watch while down');
    await rejectsWith(s.watch({ kind: 'Service', fromRevision: 1 }, { onEvent: () => undefined }), UnavailableError, 'watch from a revision while down');
    assert.ok(Date.now() - t0 < 5 * (timeoutMs + 500), `5 calls took ${Date.now() - t0} ms`);
    await member.restart();
    assert.deepEqual(await s.get(keyOf(acked)), acked);
    assert.equal(await s.get({ kind: 'Service', namespace: 'default', name: 'lost' }), undefined);
    await s.create(makeObject('Service', 'default', 'after'));
  });

  void it('an unreachable endpoint (nothing listening, or a silent peer) yields UnavailableError within a few seconds', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((sock) => sockets.add(sock)); // accepts TCP, never speaks HTTP/2
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const silentPort = (silent.address() as AddressInfo).port;
    const closedPort = await freePort();
    try {
      for (const url of [`http://127.0.0.1:${closedPort}`, `http://127.0.0.1:${silentPort}`]) {
        const s = storeOn([url], { timeoutMs: 1_500 });
        try {
          const t0 = Date.now();
          await rejectsWith(s.get({ kind: 'Node', namespace: '', name: 'n1' }), UnavailableError, `get via ${url}`);
          await rejectsWith(s.create(makeObject('Node', '', 'n1')), UnavailableError, `create via ${url}`);
          const took = Date.now() - t0;
          assert.ok(took < 2 * 1_500 + 1_000, `two calls took ${took} ms`);
        } finally {
          await s.close();
        }
      }
    } finally {
      for (const sock of sockets) sock.destroy();
      silent.close();
    }
  });

  void it('3 members: the leader is killed, writes continue after a retry and a watch misses nothing', { timeout: 60_000 }, async () => {
    const cluster = await startEtcdCluster(3);
    const s = storeOn(cluster.endpoints);
    try {
      const r0 = await s.revision();
      const w = await WatchCollector.start(s, { kind: 'Config', fromRevision: r0 });
      const acked: ApiObject[] = [];
      const write = async (i: number): Promise<void> => {
        for (;;) {
          try {
            acked.push(await s.create(makeObject('Config', 'default', padName('c', i))));
            return;
          } catch (err) {
            if (err instanceof AlreadyExistsError) return; // an ambiguous earlier attempt landed
            if (!isRetryable(err)) throw err;
            await delay(50);
          }
        }
      };
      for (let i = 0; i < 20; i++) await write(i);
      const leader = await cluster.leaderIndex();
      await (cluster.members[leader] as EtcdMember).kill();
      const t0 = Date.now();
      await write(20);
      const failoverMs = Date.now() - t0;
      for (let i = 21; i < 40; i++) await write(i);
      assert.ok(failoverMs < 10_000, `first write after the leader died took ${failoverMs} ms`);
      const evs = await w.waitForEvents(40, 20_000);
      await delay(200);
      await w.stop();
      assert.deepEqual(evs.map((e) => e.object.metadata.name), Array.from({ length: 40 }, (_, i) => padName('c', i)));
      for (const a of acked) assert.equal((await s.get(keyOf(a)))?.metadata.revision, a.metadata.revision);
      console.log(`# leader killed: first write after it took ${failoverMs} ms`);
    } finally {
      await s.close();
      await cluster.stop();
    }
  });
});

void describe('etcd store: shared watch streams', { timeout: 60_000 }, () => {
  void it('watches of one scope share an etcd watcher only when that loses nothing; each gets its own objects', async () => {
    const member = await startEtcd();
    const s = storeOn([member.clientUrl]);
    try {
      const r0 = await s.revision();
      const mutator = await s.watch({ kind: 'Config', fromRevision: r0 }, {
        onEvent: (ev) => {
          (ev.object.spec as { v?: string }).v = 'mutated by a handler';
        },
      });
      const a = await WatchCollector.start(s, { kind: 'Config', fromRevision: r0 });
      for (let i = 0; i < 3; i++) await s.create(makeObject('Config', 'default', padName('c', i), {}, { v: 'stored' }));
      await a.waitForEvents(3);
      const late = await WatchCollector.start(s, { kind: 'Config', fromRevision: r0 }); // needs history: its own watcher
      const now = await WatchCollector.start(s, { kind: 'Config', fromRevision: r0 + 3 }); // can share
      const ns = await WatchCollector.start(s, { namespace: 'other', fromRevision: r0 + 3 });
      await a.stop();
      await s.create(makeObject('Config', 'other', 'x', {}, { v: 'stored' }));
      await late.waitForEvents(4);
      await now.waitForEvents(1);
      await ns.waitForEvents(1);
      await delay(100);
      assert.deepEqual(late.events.map((e) => e.revision), [r0 + 1, r0 + 2, r0 + 3, r0 + 4]);
      assert.deepEqual(now.events.map((e) => e.revision), [r0 + 4]);
      assert.deepEqual(ns.events.map((e) => e.object.metadata.name), ['x']);
      assert.equal(a.events.length, 3, 'a stopped watch gets nothing more');
      for (const e of [...late.events, ...now.events, ...ns.events]) assert.deepEqual(e.object.spec, { v: 'stored' });
      for (const w of [late, now, ns]) await w.stop();
      await mutator.stop();
    } finally {
      await s.close();
      await member.stop();
    }
  });
});
