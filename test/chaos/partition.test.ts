/**
 * Chaos, fault 2 (issue 13, docs/reliability.md): a node partition. Two real nodes in network
 * namespaces (test/helpers/cluster.ts), a 2-replica service behind its VIP; the link of a node
 * that runs one replica is cut (its veth on the underlay goes down: it reaches neither the
 * server nor the other nodes, and keeps running its container).
 *
 *   sampler (node1's namespace): one HTTP call to the VIP every 100 ms, answer = task name
 *   cut -> the node misses its heartbeats -> down after the grace period -> its task orphaned,
 *          a replacement runs elsewhere (measured: replaced-after-ms)
 *   link up -> the agent hears its task is to stop -> the old container stops (old-stopped-after-ms)
 *   counts: old-answers-after-replacement (must be 0), both-running-in-store (listings that
 *           show two running tasks for the slot: must be 0), vip-failures (calls that timed out
 *           while the old task was still in the rules: allowed, reported)
 * Prints `chaos partition: ... old-answers-after-replacement=0 ...`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Cluster, eventually, namespacesLeft, type TaskJson } from '../helpers/cluster.js';
import { run } from '../helpers/netns.js';
import { reportCounts, rounds } from '../helpers/chaos.js';

const SERVE_HOSTNAME = '["sh", "-c", "mkdir -p /tmp/www && hostname > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"]';
/** The grace period of the server (default: a node without heartbeats for 6 s is down). */
const GRACE_MS = 6_000;

/** A node.js program for a node's namespace: calls the VIP every 100 ms until STOP exists; prints `ms answer` lines. */
function samplerScript(vip: string, stopFile: string, maxMs: number): string {
  return `
    const http = require('node:http'); const fs = require('node:fs');
    const end = Date.now() + ${maxMs};
    const call = () => new Promise((resolve) => {
      const req = http.get({ host: '${vip}', port: 80, path: '/', agent: false, timeout: 1000 }, (res) => {
        let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => resolve(b.trim() || 'EMPTY'));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve('FAIL'));
    });
    (async () => {
      while (!fs.existsSync(${JSON.stringify(stopFile)}) && Date.now() < end) {
        const t = Date.now();
        console.log(t + ' ' + await call());
        await new Promise((r) => setTimeout(r, 100));
      }
    })();`;
}

async function runningContainers(c: Cluster, node: string): Promise<string[]> {
  const r = await run(['runc', '--root', path.join(c.node(node).dataDir, 'runtime/runc'), 'list', '--format', 'json']);
  const list = r.code === 0 && r.stdout.trim() !== '' && r.stdout.trim() !== 'null' ? JSON.parse(r.stdout) as { id: string; status: string }[] : [];
  return list.filter((x) => x.status === 'running').map((x) => x.id);
}

const live = (ts: TaskJson[]): TaskJson[] => ts.filter((t) => t.spec.desiredState === 'running' && t.status?.state === 'running');

describe('chaos: node partition (link down), replacement, old copy stopped', { timeout: 300_000 }, () => {
  let c: Cluster;
  let cut: string | undefined;

  before(async () => {
    c = await Cluster.start({ nodes: 2 });
  });

  after(async () => {
    if (cut !== undefined) await c.setNodeLink(cut, true).catch(() => undefined);
    const names = c?.namespaceNames() ?? [];
    if (c !== undefined) {
      await c.removeLoadBalancers();
      await c.stop();
    }
    assert.deepEqual(namespacesLeft(names), []);
  });

  it('replaces the cut node\'s task within the grace period; both copies never serve after the replacement', async () => {
    const image = (await c.buildImage('chaos/part', '1')).ref;
    await c.apply(`kind: Service
metadata: {name: web}
spec:
  image: ${image}
  replicas: 2
  command: ${SERVE_HOSTNAME}
  ports: [{port: 80, targetPort: 8080}]
  placement: {spread: ["node.labels.node"]}
`);
    const before = await c.runningTasks('web', 2);
    const vip = await eventually('the VIP of web', 30_000, async () => {
      const svc = JSON.parse((await c.cli(['get', 'service', 'web', '-o', 'json'])).stdout) as { status?: { vip?: string } };
      return svc.status?.vip;
    });
    const victim = before.find((t) => t.spec.node !== 'node1') as TaskJson;
    cut = victim.spec.node;
    await eventually('the VIP answering on node1', 30_000, async () => {
      const r = await c.exec('node1', ['/bin/busybox', 'timeout', '3', '/bin/busybox', 'wget', '-q', '-O-', `http://${vip}:80/`]);
      return r.code === 0 ? true : undefined;
    });

    const stopFile = path.join(c.dir, `sampler-stop-${Date.now()}`);
    const sampling = c.exec('node1', [process.execPath, '-e', samplerScript(vip, stopFile, 120_000)], 150_000);
    await new Promise((r) => setTimeout(r, 1_000));

    const cutAt = Date.now();
    await c.setNodeLink(cut, false);
    let bothRunning = 0;
    let listings = 0;
    const replacement = await eventually('a replacement running on another node', GRACE_MS + 40_000, async () => {
      const ts = await c.tasks('web');
      const fresh = live(ts).filter((t) => !before.some((b) => b.metadata.name === t.metadata.name));
      return fresh.length === 1 && fresh[0]?.spec.node !== cut ? fresh[0] : undefined;
    });
    const replacedAt = Date.now();
    assert.ok((await runningContainers(c, cut)).includes(`default_${victim.metadata.name}`), 'the cut node still runs its container');

    // Listings after the replacement, the partition held on: never two running tasks in the store for the slot.
    const listUntil = Date.now() + rounds(2_000, 20_000);
    while (Date.now() < listUntil) {
      listings++;
      if (live(await c.tasks('web')).length > 2) bothRunning++;
    }
    const upAt = Date.now();
    await c.setNodeLink(cut, true);
    const cutNode = cut;
    await eventually('the old container stopped on the healed node', 60_000, async () => ((await runningContainers(c, cutNode)).includes(`default_${victim.metadata.name}`) ? undefined : true));
    const stoppedAt = Date.now();
    listings++;
    if (live(await c.tasks('web')).length > 2) bothRunning++;
    await new Promise((r) => setTimeout(r, 1_000));
    writeFileSync(stopFile, '');
    const out = await sampling;
    assert.equal(out.code, 0, out.stderr);
    assert.ok(existsSync(stopFile));

    const lines = out.stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]).map(([t, a]) => ({ t: Number(t), a }));
    const afterReplacement = lines.filter((l) => l.t >= replacedAt);
    const oldAfter = afterReplacement.filter((l) => l.a === victim.metadata.name).length;
    const failures = lines.filter((l) => l.a === 'FAIL').length;
    const final = live(await c.tasks('web'));
    reportCounts('partition', {
      'vip-calls': lines.length, 'vip-failures': failures, 'calls-after-replacement': afterReplacement.length,
      'old-answers-after-replacement': oldAfter,
      // When they came (ms after the replacement was seen; after link up: '+ms' after it), to tell a stale rule from a partition that leaked.
      'old-answer-times': afterReplacement.filter((l) => l.a === victim.metadata.name).map((l) => (l.t >= upAt ? `up+${l.t - upAt}` : `${l.t - replacedAt}`)).join('/') || '-',
      'both-running-in-store': bothRunning, listings,
      'replaced-after-ms': replacedAt - cutAt, 'old-stopped-after-link-up-ms': stoppedAt - upAt,
      'running-at-end': final.length,
    });
    assert.equal(oldAfter, 0, 'the old copy answered through the VIP after its replacement ran');
    assert.equal(bothRunning, 0);
    assert.ok(afterReplacement.filter((l) => l.a === replacement.metadata.name).length > 0, 'the replacement answers through the VIP');
    assert.ok(replacedAt - cutAt < GRACE_MS + 15_000, `replaced after ${replacedAt - cutAt} ms`);
    assert.equal(final.length, 2);
    assert.ok(final.some((t) => t.metadata.name === replacement.metadata.name));
  });
});
