/**
 * Zero-downtime deployments on two real nodes (network namespaces, real runc, real registry,
 * nftables VIPs), as a user drives them with the CLI: an update whose readiness never passes
 * rolls back by itself, a rolling update of 4 replicas under continuous traffic through the VIP
 * has no failed request, blue-green serves the new revision on NAME-preview until promote and
 * switches back on undo, and a canary at weight 20 gets 10-30% of 500 calls. The servers exit
 * on SIGTERM at once (as well-behaved servers do), under 8 concurrent clients: a call reaching a
 * stopped task would fail.
 * Calls go from node1's namespace to VIPs (addresses inside namespaces the test made).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { Cluster, eventually, namespacesLeft } from '../helpers/cluster.js';

interface ServiceJson {
  spec: { image: string };
  status?: { vip?: string; previewVip?: string; revision?: number; rollout?: { state: string; message: string; revision: number } };
}

/** A node.js HTTP client: `count` sequential GETs, or 8 clients until SIGTERM; prints {ok, fail, bodies}. */
const LOAD = `
const http = require('node:http');
const [url, count] = [process.argv[1], Number(process.argv[2])];
const out = { ok: 0, fail: 0, bodies: {}, errors: {} };
let stop = false;
process.on('SIGTERM', () => { stop = true; });
const once = () => new Promise((resolve) => {
  const req = http.get(url, { agent: false, timeout: 3000 }, (res) => {
    let b = ''; res.on('data', (d) => { b += d; });
    res.on('end', () => { const k = res.statusCode === 200 ? b.trim() : 'HTTP ' + res.statusCode; if (res.statusCode === 200) out.ok++; else out.fail++; out.bodies[k] = (out.bodies[k] || 0) + 1; resolve(); });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => { out.fail++; out.errors[e.message] = (out.errors[e.message] || 0) + 1; resolve(); });
});
const loop = async () => {
  const deadline = Date.now() + 240000;
  for (let i = 0; (count === 0 || i < count) && !stop && Date.now() < deadline; i++) await once();
};
// count 0: 8 clients at once until SIGTERM (load); else one client, count calls (a sample).
Promise.all(Array.from({ length: count === 0 ? 8 : 1 }, loop)).then(() => console.log(JSON.stringify(out)));`;

interface LoadResult { ok: number; fail: number; bodies: Record<string, number>; errors: Record<string, number> }

/** Runs the load client in a node's namespace; `finish()` stops it and returns its counts. */
function startLoad(c: Cluster, url: string, count = 0): { child: ChildProcess; finish: () => Promise<LoadResult> } {
  const child = spawn(c.prefix('node1')[0] as string, [...c.prefix('node1').slice(1), process.execPath, '-e', LOAD, url, String(count)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
  const ended = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    finish: async () => {
      if (count === 0) child.kill('SIGTERM');
      await Promise.race([ended, new Promise((r) => setTimeout(r, 60_000))]);
      return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as LoadResult;
    },
  };
}

/**
 * busybox httpd under a shell that exits at once on SIGTERM (httpd alone ignores it as PID 1):
 * a server that stops the moment it is told to, so no call may reach it after its SIGTERM.
 */
const EXITS_ON_TERM = `["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait"]`;

const serviceYaml = (name: string, image: string, replicas: number, update: string): string => `kind: Service
metadata: {name: ${name}}
spec:
  image: ${image}
  replicas: ${replicas}
  command: ${EXITS_ON_TERM}
  ports: [{port: 80, targetPort: 8080}]
  stopGracePeriodSeconds: 5
  probes:
    readiness: {http: {path: /ready, port: 8080}, periodSeconds: 1, failureThreshold: 2}
  update: ${update}
`;

describe('rollouts on 2 nodes under traffic', { timeout: 900_000 }, () => {
  let c: Cluster;
  const image: Record<string, string> = {};
  const live: ChildProcess[] = [];

  before(async () => {
    c = await Cluster.start({ nodes: 2 });
    for (const v of ['v1', 'v2']) image[v] = (await c.buildImage('test/rollweb', v, { files: { 'www/index.html': `${v}\n`, 'www/ready': 'ok\n' } })).ref;
    image.bad = (await c.buildImage('test/rollweb', 'bad', { files: { 'www/index.html': 'bad\n' } })).ref;
  });

  after(async () => {
    for (const ch of live) ch.kill('SIGKILL');
    const names = c?.namespaceNames() ?? [];
    if (c !== undefined) {
      await c.removeLoadBalancers();
      await c.stop();
    }
    assert.deepEqual(namespacesLeft(names), []);
  });

  const service = async (name: string): Promise<ServiceJson> => JSON.parse((await c.cli(['get', 'service', name, '-o', 'json'])).stdout) as ServiceJson;
  const vipOf = (name: string, field: 'vip' | 'previewVip' = 'vip'): Promise<string> => eventually(`${field} of ${name}`, 30_000, async () => (await service(name)).status?.[field]);
  const calls = async (url: string, n: number): Promise<LoadResult> => startLoad(c, url, n).finish();
  const liveImages = async (name: string): Promise<string[]> => (await c.tasks(name)).filter((t) => t.spec.desiredState === 'running').map((t) => t.spec.image).sort();

  it('rolls back by itself when the new revision never gets ready, then rolls v1 -> v2 with no failed call', async () => {
    await c.apply(serviceYaml('web', image.v1 as string, 4, '{parallelism: 1, monitorSeconds: 1, failureAction: rollback, progressDeadlineSeconds: 60}'));
    await c.runningTasks('web', 4);
    const vip = await vipOf('web');
    await eventually('web answers on its VIP', 30_000, async () => ((await calls(`http://${vip}/`, 4)).ok === 4 ? true : undefined));

    let load = startLoad(c, `http://${vip}/`);
    live.push(load.child);
    await c.apply(serviceYaml('web', image.bad as string, 4, '{parallelism: 1, monitorSeconds: 1, failureAction: rollback, progressDeadlineSeconds: 60}'));
    const bad = await c.cli(['rollout', 'status', 'service', 'web', '--timeout', '3m'], { timeoutMs: 200_000 });
    assert.notEqual(bad.code, 0, `rollout status must fail: ${bad.stdout}`);
    assert.match(bad.stderr, /rolled back: 1\/1 new tasks failed the readiness probe/);
    const svc = await service('web');
    assert.equal(svc.spec.image, image.v1, 'the spec is back at v1');
    assert.equal(svc.status?.rollout?.state, 'rolled-back');
    await eventually('4 tasks of v1', 60_000, async () => ((await liveImages('web')).join() === Array(4).fill(image.v1).join() ? true : undefined));
    let got = await load.finish();
    assert.equal(got.fail, 0, `failed calls during the rollback: ${JSON.stringify(got)}`);
    assert.deepEqual(Object.keys(got.bodies), ['v1']);

    load = startLoad(c, `http://${vip}/`);
    live.push(load.child);
    await c.apply(serviceYaml('web', image.v2 as string, 4, '{parallelism: 1, monitorSeconds: 1, failureAction: rollback}'));
    const ok = await c.cli(['rollout', 'status', 'service', 'web', '--timeout', '4m'], { timeoutMs: 260_000 });
    assert.equal(ok.code, 0, `${ok.stdout}\n${ok.stderr}`);
    assert.match(ok.stdout, /complete/);
    got = await load.finish();
    console.log(`rolling update under load: ${JSON.stringify(got)}`);
    assert.equal(got.fail, 0, `failed calls during the rolling update: ${JSON.stringify(got)}`);
    assert.ok((got.bodies.v1 ?? 0) > 0 && (got.bodies.v2 ?? 0) > 0, JSON.stringify(got.bodies));
    assert.deepEqual(await liveImages('web'), Array(4).fill(image.v2));
    const history = await c.cli(['rollout', 'history', 'service', 'web']);
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, /rollweb:v2/);
  });

  it('blue-green: preview answers v2 while the service answers v1; promote switches, undo switches back', async () => {
    const upd = '{strategy: blue-green, monitorSeconds: 1, scaleDownDelaySeconds: 600}';
    await c.apply(serviceYaml('bg', image.v1 as string, 2, upd));
    await c.runningTasks('bg', 2);
    const vip = await vipOf('bg');
    const preview = await vipOf('bg', 'previewVip');
    await c.apply(serviceYaml('bg', image.v2 as string, 2, upd));
    await eventually('waiting for promotion', 120_000, async () => ((await service('bg')).status?.rollout?.state === 'waiting-promotion' ? true : undefined));
    const before = await calls(`http://${vip}/`, 20);
    assert.deepEqual(before.bodies, { v1: 20 }, JSON.stringify(before));
    const pre = await eventually('preview answers v2', 20_000, async () => {
      const r = await calls(`http://${preview}/`, 20);
      return r.bodies.v2 === 20 ? r : undefined;
    });
    assert.equal(pre.fail, 0);
    const early = await c.cli(['rollout', 'undo', 'service', 'bg', '--to-revision', '9']);
    assert.notEqual(early.code, 0);
    const p = await c.cli(['rollout', 'promote', 'service', 'bg']);
    assert.equal(p.code, 0, p.stderr);
    await eventually('the service answers v2', 20_000, async () => ((await calls(`http://${vip}/`, 10)).bodies.v2 === 10 ? true : undefined));
    const again = await c.cli(['rollout', 'promote', 'service', 'bg']);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /not waiting for promotion/);
    const v1Tasks = (await c.tasks('bg')).filter((t) => t.spec.desiredState === 'running' && t.spec.image === image.v1).map((t) => t.metadata.name).sort();
    assert.equal(v1Tasks.length, 2, 'the old revision is kept for undo');
    const u = await c.cli(['rollout', 'undo', 'service', 'bg']);
    assert.equal(u.code, 0, u.stderr);
    await eventually('the service answers v1 again', 10_000, async () => ((await calls(`http://${vip}/`, 10)).bodies.v1 === 10 ? true : undefined));
    const after = (await c.tasks('bg')).filter((t) => t.spec.desiredState === 'running' && t.spec.image === image.v1).map((t) => t.metadata.name).sort();
    assert.deepEqual(after, v1Tasks, 'undo switched to the same v1 tasks, no new ones');
  });

  it('canary at weight 20 sends 10-30% of 500 calls to v2', async () => {
    const upd = '{strategy: canary, monitorSeconds: 1, steps: [{weight: 20}, {pause: {}}, {weight: 100}]}';
    await c.apply(serviceYaml('can', image.v1 as string, 4, upd));
    await c.runningTasks('can', 4);
    const vip = await vipOf('can');
    await c.apply(serviceYaml('can', image.v2 as string, 4, upd));
    await eventually('canary waiting at weight 20', 120_000, async () => ((await service('can')).status?.rollout?.state === 'waiting-promotion' ? true : undefined));
    const r = await calls(`http://${vip}/`, 500);
    console.log(`canary at weight 20: ${JSON.stringify(r.bodies)}`);
    assert.equal(r.fail, 0, JSON.stringify(r));
    const share = (r.bodies.v2 ?? 0) / 500;
    assert.ok(share >= 0.1 && share <= 0.3, `v2 got ${share * 100}%`);
    const p = await c.cli(['rollout', 'promote', 'service', 'can']);
    assert.equal(p.code, 0, p.stderr);
    const done = await c.cli(['rollout', 'status', 'service', 'can', '--timeout', '3m'], { timeoutMs: 200_000 });
    assert.equal(done.code, 0, `${done.stdout}\n${done.stderr}`);
    await eventually('4 tasks of v2', 60_000, async () => ((await liveImages('can')).join() === Array(4).fill(image.v2).join() ? true : undefined));
  });
});
