/**
 * What makes servers on one store one cluster for their clients (src/server/auth/cluster-admin.ts,
 * src/server/api-servers.ts), against the in-memory fake store: the first server's admin token is
 * stored and adopted by the others (hash file rewritten, so their restarts keep it), and each
 * server's URL is published and seen by the others.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemoryStore } from '../helpers/memory-store.js';
import { clusterAdminToken } from '../../src/server/auth/cluster-admin.js';
import { ensureAdminToken, hashToken } from '../../src/server/auth/tokens.js';
import { openSecretKeys } from '../../src/server/secrets/keys.js';
import { publishApiServer, publishedApiServers } from '../../src/server/api-servers.js';

describe('one cluster over one store: admin token and API server list', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(path.join(tmpdir(), 'flotilla-ha-cluster-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  it('the first server stores its admin token; the second adopts it and keeps it on disk', async () => {
    const store = new MemoryStore();
    const keys = await openSecretKeys(store, path.join(dir, 'kek'));
    const a = await ensureAdminToken(path.join(dir, 'a'));
    const b = await ensureAdminToken(path.join(dir, 'b'));
    assert.notEqual(a.token, b.token);
    const first = await clusterAdminToken(store, keys.codec.ring, a, path.join(dir, 'a'));
    assert.deepEqual([first.token, first.adopted], [a.token, false]);
    const stored = await store.get({ kind: 'Secret', namespace: 'flotilla-system', name: 'admin-token' });
    assert.ok(stored !== undefined && !JSON.stringify(stored).includes(a.token), 'stored encrypted');
    const second = await clusterAdminToken(store, keys.codec.ring, b, path.join(dir, 'b'));
    assert.deepEqual([second.token, second.adopted], [a.token, true]);
    assert.equal((await readFile(path.join(dir, 'b', 'auth', 'admin-token.sha256'), 'utf8')).trim(), hashToken(a.token));
  });

  it('every server publishes its URL and sees the others', async () => {
    const store = new MemoryStore();
    const changes: string[] = [];
    const a = await publishApiServer({ store, url: 'https://127.0.0.1:1001', key: 'host-a', onChange: () => changes.push('a'), log: () => undefined });
    const b = await publishApiServer({ store, url: 'https://127.0.0.1:1002', key: 'host-b', log: () => undefined });
    const deadline = Date.now() + 2_000;
    while (a.urls().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(a.urls(), ['https://127.0.0.1:1001', 'https://127.0.0.1:1002']);
    assert.deepEqual(b.urls(), ['https://127.0.0.1:1002', 'https://127.0.0.1:1001']);
    assert.ok(changes.length >= 1, 'a heard of b');
    assert.deepEqual((await publishedApiServers(store)).sort(), ['https://127.0.0.1:1001', 'https://127.0.0.1:1002']);
    await a.stop();
    await b.stop();
    // Restarted on another port: its old URL is replaced, not kept beside the new one.
    const a2 = await publishApiServer({ store, url: 'https://127.0.0.1:1003', key: 'host-a', log: () => undefined });
    assert.deepEqual(a2.urls(), ['https://127.0.0.1:1003', 'https://127.0.0.1:1002']);
    await a2.stop();
  });
});
