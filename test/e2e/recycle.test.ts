/**
 * Reverse uptime on three real agents, each in its own network namespace (test/helpers/cluster.ts),
 * real containers: `flotilla server --node-provisioner SCRIPT` (a script writing a file); a
 * `web` service of 3 replicas (one per node) behind its VIP; a client loop in node1's
 * namespace calls the VIP every 100 ms; `flotilla node label node3
 * flotilla.dev/max-node-age=30s` makes node3 (joined over 30 s ago) due: the provisioner is
 * called, node3 cordoned, drained (replacements first), removed, a Revocation written, and the
 * client loop sees 0 failed calls. The old machine's agent is then stopped (what the operator's
 * tooling does; refusing its certificate is the Revocation's enforcement, not this test's).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Cluster, eventually, namespacesLeft } from '../helpers/cluster.js';

const SERVE_HOSTNAME = '["sh", "-c", "mkdir -p /tmp/www && hostname > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"]';

/** Node.js client run inside a node namespace: GET the URL every 100 ms until STOP exists (bounded), then print counts. */
const clientLoop = (url: string, stopFile: string, maxMs: number): string => `
const http = require('node:http'); const fs = require('node:fs');
let ok = 0, fail = 0; const errors = []; const seen = {}; const end = Date.now() + ${maxMs};
const once = () => new Promise((resolve) => {
  const req = http.get(${JSON.stringify(url)}, { timeout: 3000 }, (res) => {
    let body = ''; res.on('data', (d) => { body += d; });
    res.on('end', () => { if (res.statusCode === 200) { ok++; seen[body.trim()] = (seen[body.trim()] || 0) + 1; } else { fail++; errors.push('status ' + res.statusCode); } resolve(); });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => { fail++; errors.push(new Date().toISOString() + ' ' + e.message); resolve(); });
});
(async () => {
  while (!fs.existsSync(${JSON.stringify(stopFile)}) && Date.now() < end) { await once(); await new Promise((r) => setTimeout(r, 100)); }
  console.log(JSON.stringify({ ok, fail, errors: errors.slice(0, 10), seen }));
})();`;

describe('reverse uptime on 3 real agents', { timeout: 600_000 }, () => {
  let c: Cluster;
  let dir: string;
  let hookFile = '';

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'recycle-e2e-'));
    hookFile = path.join(dir, 'calls.txt');
    const hook = path.join(dir, 'provision.sh');
    writeFileSync(hook, `#!/bin/sh\necho "$1 $FLOTILLA_NODE_LABELS" >> ${hookFile}\n`);
    chmodSync(hook, 0o755);
    c = await Cluster.start({ nodes: 3, serverArgs: ['--node-provisioner', hook] });
  });

  after(async () => {
    const names = c?.namespaceNames() ?? [];
    if (c !== undefined) {
      await c.removeLoadBalancers();
      await c.stop();
    }
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(namespacesLeft(names), []);
  });

  it('drains and removes node3 past its age with 0 failed calls to the VIP', async () => {
    const image = (await c.buildImage('test/recycleweb', '1')).ref;
    await c.apply(`kind: Service
metadata: {name: web}
spec:
  image: ${image}
  replicas: 3
  command: ${SERVE_HOSTNAME}
  ports: [{port: 80, targetPort: 8080}]
  probes:
    readiness: {http: {path: /, port: 8080}, periodSeconds: 1}
  placement: {spread: ["node.labels.node"]}
`);
    const web = await c.runningTasks('web', 3);
    assert.deepEqual(web.map((t) => t.spec.node).sort(), ['node1', 'node2', 'node3']);
    const vip = await eventually('the VIP of web', 30_000, async () => {
      const svc = JSON.parse((await c.cli(['get', 'service', 'web', '-o', 'json'])).stdout) as { status?: { vip?: string; readyReplicas?: number } };
      return svc.status?.readyReplicas === 3 ? svc.status.vip : undefined;
    });
    // Every node's rules know the 3 ready replicas before the client starts.
    await eventually('node1 answers on the VIP', 30_000, async () => {
      const r = await c.exec('node1', ['/bin/busybox', 'timeout', '3', '/bin/busybox', 'wget', '-q', '-O-', `http://${vip}:80/`]);
      return r.code === 0 ? true : undefined;
    });
    const stopFile = path.join(dir, 'STOP');
    const client = c.exec('node1', [process.execPath, '-e', clientLoop(`http://${vip}:80/`, stopFile, 300_000)], 330_000);

    const label = await c.cli(['node', 'label', 'node3', 'flotilla.dev/max-node-age=30s']);
    assert.equal(label.code, 0, label.stderr);
    const wide = await eventually('node3 recycling in get nodes -o wide', 60_000, async () => {
      const r = await c.cli(['get', 'nodes', '-o', 'wide']);
      return /node3 .*(provisioning|cordoned|draining)/.test(r.stdout) ? r.stdout : undefined;
    });
    assert.match(wide, /RECYCLE/);
    const events = await eventually('the NodeRemoved Event of node3', 180_000, async () => {
      const r = await c.cli(['get', 'events', '-o', 'json']);
      const items = (JSON.parse(r.stdout) as { items: Array<{ spec: { reason: string; involved: string; firstTimestamp: string } }> }).items.filter((e) => e.spec.involved === 'Node//node3');
      return items.some((e) => e.spec.reason === 'NodeRemoved') ? items : undefined;
    });
    // The old machine goes away (its agent would otherwise register its Node again: nothing refuses it here).
    await c.killAgent('node3');
    writeFileSync(stopFile, '');
    const r = await client;
    assert.equal(r.code, 0, r.stderr);
    const counts = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { ok: number; fail: number; errors: string[]; seen: Record<string, number> };
    const at = (reason: string): number => Date.parse(events.find((e) => e.spec.reason === reason)?.spec.firstTimestamp ?? '');
    assert.deepEqual(['RecycleStarted', 'ProvisionerCalled', 'Cordoned', 'Drained', 'NodeRemoved'].filter((x) => Number.isNaN(at(x))), [], 'an Event for every step');
    console.log(`node3 recycle: RecycleStarted -> NodeRemoved ${((at('NodeRemoved') - at('RecycleStarted')) / 1000).toFixed(1)} s (cordoned -> drained ${((at('Drained') - at('Cordoned')) / 1000).toFixed(1)} s)`);
    console.log(`client loop during the recycle: ${counts.ok} ok, ${counts.fail} failed; answers by task: ${JSON.stringify(counts.seen)}`);
    assert.equal(counts.fail, 0, `failed calls: ${JSON.stringify(counts.errors)}`);
    assert.ok(counts.ok >= 20, `the loop ran through the recycle (${counts.ok} calls)`);

    const nodes = await c.list<{ metadata: { name: string } }>('nodes');
    assert.ok(!nodes.some((n) => n.metadata.name === 'node3'), 'the Node object of node3 is gone');
    const rev = await c.cli(['get', 'revocation', 'node.node3', '-o', 'json']);
    assert.equal(rev.code, 0, rev.stderr);
    const revocation = JSON.parse(rev.stdout) as { spec: { subject: string; reason: string; issuedBefore: string } };
    assert.equal(revocation.spec.subject, 'node:node3');
    assert.equal(revocation.spec.reason, 'recycled: older than 30s');
    assert.ok(existsSync(hookFile) && readFileSync(hookFile, 'utf8').startsWith('node3 '), 'the provisioner was called with node3');
    assert.match(readFileSync(hookFile, 'utf8'), /flotilla\.dev\/max-node-age=30s/);
    const running = (await c.tasks('web')).filter((t) => t.status?.state === 'running' && t.spec.desiredState === 'running');
    assert.equal(running.length, 3, 'the service still has 3 replicas');
    assert.ok(running.every((t) => t.spec.node !== 'node3'));
    const old = (await c.tasks('web')).find((t) => t.spec.node === 'node3');
    assert.equal(old?.spec.desiredState, 'shutdown');
    assert.ok(Object.keys(counts.seen).length >= 4, `the replacement answered too: ${JSON.stringify(counts.seen)}`);
  });
});
