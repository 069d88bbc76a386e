/**
 * Watch over HTTPS end to end: replay from a revision, live events, bookmarks, 410 Gone after
 * compaction, the store watch released when the client goes away, and resume across a dropped
 * connection (the server restarted on the same data dir and port) with exactly-once delivery.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, describe, it } from 'node:test';
import { GoneError } from '../../src/api/errors.js';
import type { SqliteStore } from '../../src/store/sqlite/index.js';
import type { WatchEvent } from '../../src/store/store.js';
import { runServer } from '../../src/server/run.js';
import { service, startTestServer, waitFor, type TestServer } from './helpers.js';

/** Collects a watch's events and errors. */
function collector(): { events: WatchEvent[]; errors: Error[]; onEvent(ev: WatchEvent): void; onError(err: Error): void } {
  const c = {
    events: [] as WatchEvent[],
    errors: [] as Error[],
    onEvent: (ev: WatchEvent) => void c.events.push(ev),
    onError: (err: Error) => void c.errors.push(err),
  };
  return c;
}

const summary = (evs: WatchEvent[]): string[] => evs.map((e) => `${e.type}:${e.object.metadata.name}@${e.revision}`);

describe('watch over the API', { timeout: 60_000 }, () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });
  async function server(opts: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
    const t = await startTestServer({ watchBookmarkMs: 200, ...opts });
    cleanups.push(t.cleanup);
    return t;
  }

  it('replays every change after a revision, in order, then streams live ones', async () => {
    const t = await server();
    const c = t.client;
    await c.create(service('before'));
    const r = await c.revision();
    const a = await c.create(service('a'));
    await c.updateSpec({ ...a, spec: { image: 'busybox:2' } });
    await c.delete({ kind: 'Service', namespace: 'default', name: 'a' });
    const col = collector();
    const w = await c.watch({ kind: 'Service', fromRevision: r }, col);
    await c.create({ kind: 'Config', metadata: { name: 'other-kind' }, spec: {} } as never);
    await c.apply([service('b'), service('c')]);
    await waitFor('5 events', () => col.events.length >= 5);
    await new Promise((res) => setTimeout(res, 100));
    await w.stop();
    assert.deepEqual(summary(col.events), [`added:a@${r + 1}`, `modified:a@${r + 2}`, `deleted:a@${r + 3}`, `added:b@${r + 5}`, `added:c@${r + 5}`]);
    assert.equal(col.errors.length, 0);
  });

  it('sends bookmarks, and releases the store watch when the client goes away', async () => {
    const t = await server();
    const store = t.server.store as SqliteStore;
    const base = store.watchCount;
    const lines: string[] = [];
    const req = https.get(`${t.server.url}/api/v1/watch?kind=Service`, { ca: t.client.config.ca, headers: { authorization: `Bearer ${t.client.config.token}` }, agent: false }, (res) => {
      assert.equal(res.statusCode, 200);
      res.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter((l) => l !== '')));
    });
    req.on('error', () => undefined);
    await waitFor('3 bookmarks', () => lines.length >= 3, 5_000);
    const rev = await t.client.revision();
    assert.deepEqual(JSON.parse(lines[0] as string), { type: 'bookmark', revision: rev });
    assert.equal(store.watchCount, base + 1);
    req.destroy();
    await waitFor('store watch released', () => store.watchCount === base, 5_000);
  });

  it('answers 410 Gone (GoneError) for a compacted revision', async () => {
    const t = await server();
    const r0 = await t.client.revision();
    for (let i = 0; i < 5; i++) await t.client.create(service(`g${i}`));
    await (t.server.store as SqliteStore).compact(r0 + 4);
    await assert.rejects(t.client.watch({ kind: 'Service', fromRevision: r0 + 1 }, collector()), GoneError);
    const ok = await t.client.watch({ kind: 'Service', fromRevision: r0 + 4 }, collector());
    await ok.stop();
  });

  it('resumes after a dropped connection from the last revision, exactly once', async () => {
    const t = await server({ clientOptions: { watch: { minBackoffMs: 50, maxBackoffMs: 200, idleTimeoutMs: 2_000 } } });
    const c = t.client;
    const col = collector();
    const w = await c.watch({ kind: 'Service' }, col);
    await c.create(service('r1'));
    await c.apply([service('r2'), service('r3')]);
    await waitFor('3 events before the drop', () => col.events.length >= 3);
    // Drop every connection: stop the server, write while nobody watches, start it again.
    await t.server.stop();
    const direct = await runServer({ dataDir: t.dir, listen: '127.0.0.1:0', store: 'sqlite', log: () => undefined, controllers: false });
    await direct.store.create({ kind: 'Service', metadata: { name: 'offline', namespace: 'default', uid: 'u', labels: {}, revision: 0, generation: 1, creationTimestamp: '' }, spec: { image: 'busybox:1' } });
    await direct.stop();
    const again = await runServer({ dataDir: t.dir, listen: `127.0.0.1:${t.server.port}`, store: 'sqlite', log: () => undefined, watchBookmarkMs: 200, controllers: false });
    cleanups.push(() => again.stop());
    await c.create(service('r4'));
    await waitFor('all 5 events', () => col.events.length >= 5, 15_000);
    await new Promise((res) => setTimeout(res, 300));
    await w.stop();
    assert.deepEqual(col.events.map((e) => e.object.metadata.name), ['r1', 'r2', 'r3', 'offline', 'r4']);
    const revs = col.events.map((e) => e.revision);
    assert.deepEqual(revs, [...revs].sort((a, b) => a - b));
    assert.equal(col.errors.length, 0);
  });
});
