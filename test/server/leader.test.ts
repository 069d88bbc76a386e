/**
 * HA control plane: servers sharing one real etcd elect ONE leader that runs the controllers;
 * stop() resigns and the other takes over; a leader that cannot renew its lease stops its loops
 * before the lease could expire (fake backend, and a real etcd killed under a leader).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { ApiObject } from '../../src/api/object.js';
import { ApiClient, loadClientConfig } from '../../src/client/index.js';
import { disposable } from '../../src/lifecycle.js';
import { startElector, type LeaseBackend } from '../../src/server/leader/index.js';
import { runServer, type LoopFactory, type RunningServer } from '../../src/server/run.js';
import { startEtcd, type EtcdMember } from '../helpers/etcd.js';
import { rawRequest, service, tempDir, waitFor } from './helpers.js';

const TTL = 2;

/** A leader-only loop that records whether it runs. */
function recorder(): { running: () => boolean; starts: () => number; loop: LoopFactory } {
  let running = false;
  let starts = 0;
  return {
    running: () => running,
    starts: () => starts,
    loop: () => {
      running = true;
      starts++;
      return disposable(() => { running = false; });
    },
  };
}

describe('leader election on etcd', { timeout: 120_000 }, () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });
  /** Servers of one etcd are one cluster: they share the secrets' KEK file (README, Secrets). */
  const kekDir = tempDir();
  cleanups.push(() => Promise.resolve(rmSync(kekDir, { recursive: true, force: true })));
  const kekFiles = new Map<string, string>();
  const kekOf = (etcd: EtcdMember): string => {
    let f = kekFiles.get(etcd.clientUrl);
    if (f === undefined) kekFiles.set(etcd.clientUrl, (f = path.join(kekDir, `kek-${kekFiles.size}`)));
    return f;
  };
  async function server(etcd: EtcdMember, extra: LoopFactory[] = []): Promise<{ s: RunningServer; client: ApiClient }> {
    const dir = tempDir();
    cleanups.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
    const s = await runServer({ dataDir: dir, listen: '127.0.0.1:0', store: 'etcd', etcdEndpoints: [etcd.clientUrl], kekFile: kekOf(etcd), leaderTtlSeconds: TTL, leaderLoops: extra, log: () => undefined });
    cleanups.push(() => s.stop());
    const client = new ApiClient(loadClientConfig(path.join(dir, 'admin.json')));
    cleanups.push(() => client.close());
    return { s, client };
  }
  async function tasksOf(client: ApiClient, name: string): Promise<ApiObject[]> {
    const { items } = await client.list('Task');
    return items.filter((t) => (t.spec as { service: string; desiredState: string }).service === name && (t.spec as { desiredState: string }).desiredState === 'running');
  }

  it('two servers: one leader, no duplicate tasks, stop() hands over, a scale is then honoured', async () => {
    const etcd = await startEtcd();
    cleanups.push(() => etcd.stop());
    const ra = recorder();
    const rb = recorder();
    const a = await server(etcd, [ra.loop]);
    const b = await server(etcd, [rb.loop]);
    await waitFor('one leader', () => a.s.leadership.status().leader !== b.s.leadership.status().leader, 10_000);
    await new Promise((r) => setTimeout(r, TTL * 1000)); // still exactly one after a few renewals
    assert.notEqual(a.s.leadership.status().leader, b.s.leadership.status().leader);
    assert.equal(ra.running() && rb.running(), false, 'leader-only loops run on one server only');
    const [leader, follower, followerRec] = a.s.leadership.status().leader ? [a, b, rb] : [b, a, ra];
    for (const x of [a, b]) {
      const res = await rawRequest(`${x.s.url}/leaderz`, { ca: x.s.pki.caCertPem });
      assert.equal(res.status, 200);
      const body = res.body as { leader: boolean; id: string; leaderId?: string };
      assert.equal(body.leader, x === leader);
      assert.equal(body.leaderId, leader.s.leadership.status().id);
    }

    const svc = service('web');
    (svc.spec as { replicas: number }).replicas = 3;
    await follower.client.create(svc);
    await waitFor('3 tasks', async () => (await tasksOf(follower.client, 'web')).length >= 3, 15_000);
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal((await tasksOf(follower.client, 'web')).length, 3, 'exactly replicas tasks');

    const t0 = Date.now();
    await leader.s.stop();
    await waitFor('the follower leads', () => follower.s.leadership.status().leader && followerRec.running(), 5_000);
    assert.ok(Date.now() - t0 < 2_000, `resign hands over at once (${Date.now() - t0} ms)`);
    const cur = (await follower.client.get({ kind: 'Service', namespace: 'default', name: 'web' }))!;
    (cur.spec as { replicas: number }).replicas = 5;
    await follower.client.update(cur);
    await waitFor('5 tasks', async () => (await tasksOf(follower.client, 'web')).length === 5, 15_000);
  });

  it('a leader killed with SIGKILL is replaced within about TTL + 1 s', async () => {
    const etcd = await startEtcd();
    cleanups.push(() => etcd.stop());
    const dir = tempDir();
    cleanups.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
    const opts = { dataDir: dir, listen: '127.0.0.1:0', store: 'etcd', etcdEndpoints: [etcd.clientUrl], kekFile: kekOf(etcd), leaderTtlSeconds: TTL };
    const script = `import('${path.resolve('src/server/run.ts')}').then((m) => m.runServer({ ...${JSON.stringify(opts)}, log: () => undefined })).catch((e) => { console.error(e); process.exit(3); })`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise((r) => child.once('exit', r));
    cleanups.push(async () => { child.kill('SIGKILL'); await exited; });
    const adminPath = path.join(dir, 'admin.json');
    await waitFor('child ready', () => existsSync(adminPath), 30_000);
    const { server: url, ca } = JSON.parse(readFileSync(adminPath, 'utf8')) as { server: string; ca: string };
    await waitFor('child leads', async () => ((await rawRequest(`${url}/leaderz`, { ca })).body as { leader: boolean }).leader, 10_000);
    const rec = recorder();
    const b = await server(etcd, [rec.loop]);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(rec.running(), false, 'the follower waits');
    const t0 = Date.now();
    child.kill('SIGKILL');
    await exited;
    await waitFor('takeover', () => b.s.leadership.status().leader && rec.running(), TTL * 1000 + 2_000);
    const took = Date.now() - t0;
    assert.ok(took <= TTL * 1000 + 1_000, `took over in ${took} ms`);
    console.log(`# takeover after SIGKILL of the leader: ${took} ms (TTL ${TTL} s)`);
  });

  it('a leader cut off from etcd stops its loops within the TTL; a new leader appears once etcd is back', async () => {
    const etcd = await startEtcd({ keepDir: true });
    cleanups.push(() => etcd.stop({ keepDir: false }));
    const rec = recorder();
    const a = await server(etcd, [rec.loop]);
    await waitFor('leader', () => a.s.leadership.status().leader && rec.running(), 10_000);
    await etcd.kill();
    const t0 = Date.now();
    await waitFor('loops stopped', () => !rec.running(), TTL * 1000 + 500);
    assert.ok(Date.now() - t0 <= TTL * 1000, `stopped within the TTL (${Date.now() - t0} ms)`);
    assert.equal(a.s.leadership.status().leader, false);
    await etcd.restart();
    await waitFor('leader again', () => a.s.leadership.status().leader && rec.running(), 15_000);
    assert.equal(rec.starts(), 2);
  });
});

describe('elector fencing (fake lease backend)', { timeout: 20_000 }, () => {
  it('stops the loops before the lease deadline when renewals fail, and releases on stop()', async () => {
    let failing = false;
    let lastGoodSend = 0;
    const calls: string[] = [];
    const backend: LeaseBackend = {
      grant: (ttl) => { lastGoodSend = Date.now(); return Promise.resolve({ id: '1', ttlSeconds: ttl }); },
      keepAlive: () => {
        const sent = Date.now();
        if (failing) return new Promise((_, reject) => setTimeout(() => reject(new Error('unreachable')), 300));
        lastGoodSend = sent;
        return Promise.resolve(1);
      },
      acquire: (_l, holder) => (failing ? Promise.reject(new Error('unreachable')) : Promise.resolve({ holder, ours: true })),
      release: () => { calls.push('release'); return Promise.resolve(); },
      close: () => { calls.push('close'); return Promise.resolve(); },
    };
    let running = false;
    let stoppedAt = 0;
    const e = startElector({ backend, id: 'me', ttlSeconds: 1, pollMs: 50, log: () => undefined, onLead: () => { running = true; return Promise.resolve(disposable(() => { running = false; stoppedAt = Date.now(); })); } });
    try {
      await e.whenLeader();
      assert.equal(running, true);
      await new Promise((r) => setTimeout(r, 700)); // renews fine
      assert.equal(e.status().leader, true);
      failing = true;
      await waitFor('loops stopped', () => !running, 2_000);
      assert.ok(stoppedAt < lastGoodSend + 1_000, `stopped ${stoppedAt - lastGoodSend} ms after the last good renewal, before the 1 s TTL`);
      assert.equal(e.status().leader, false);
      failing = false;
      await waitFor('leads again', () => running, 3_000);
    } finally {
      await e.stop();
    }
    assert.equal(running, false);
    assert.deepEqual(calls.slice(-2), ['release', 'close']);
  });
});
