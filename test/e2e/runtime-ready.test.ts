/**
 * Issue "First contact", part 2: a node that cannot run containers. Two real agents on network
 * namespaces; node 2's RuntimeReady check looks for the cgroup hierarchy in an empty directory
 * (`--cgroup-root`), so it sees none. Its Node gets `RuntimeReady: false (NoCgroupHierarchy)`,
 * `get nodes` shows it, no task is assigned to it, and node 1 runs them all; a task that only
 * node 2 could take stays pending with the reason.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Cluster, eventually, namespacesLeft, type TaskJson } from '../helpers/cluster.js';

interface NodeJson {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: boolean; reason?: string; message?: string }[] };
}

describe('a node without a visible cgroup hierarchy gets no tasks', { timeout: 600_000 }, () => {
  let c: Cluster;
  let emptyRoot = '';
  let web: TaskJson[] = [];

  before(async () => {
    emptyRoot = mkdtempSync(path.join(tmpdir(), 'no-cgroups-'));
    c = await Cluster.start({ nodes: 2, agentArgs: (i) => (i === 2 ? ['--cgroup-root', emptyRoot] : []) });
    const image = (await c.buildImage('test/rtready', '1')).ref;
    await c.apply(`kind: Service
metadata: {name: web}
spec:
  image: ${image}
  replicas: 4
  command: ["sleep", "3600"]
---
kind: Service
metadata: {name: only2}
spec:
  image: ${image}
  replicas: 1
  command: ["sleep", "3600"]
  placement: {constraints: ["node.labels.node == node2"]}
`);
    web = await c.runningTasks('web', 4, 240_000);
  });

  after(async () => {
    const names = c?.namespaceNames() ?? [];
    if (c !== undefined) {
      if (process.env.FLOTILLA_TEST_LOGS === '1') console.error(c.logs());
      await c.removeLoadBalancers();
      await c.stop();
    }
    if (emptyRoot !== '') rmSync(emptyRoot, { recursive: true, force: true });
    assert.deepEqual(namespacesLeft(names), []);
  });

  it('node 2 reports RuntimeReady false with the reason; node 1 true', async () => {
    const nodes = await c.list<NodeJson>('nodes');
    const cond = (n: string) => nodes.find((x) => x.metadata.name === n)?.status?.conditions?.find((k) => k.type === 'RuntimeReady');
    assert.equal(cond('node1')?.status, true);
    assert.equal(cond('node2')?.status, false);
    assert.equal(cond('node2')?.reason, 'NoCgroupHierarchy');
    assert.match(cond('node2')?.message ?? '', new RegExp(`no cgroup hierarchy under ${emptyRoot}`));
  });

  it('get nodes shows it', async () => {
    const r = await c.cli(['get', 'nodes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NAME\s+STATE\s+RUNTIME/m);
    assert.match(r.stdout, /^node1\s+ready\s+ready\s/m);
    assert.match(r.stdout, /^node2\s+ready\s+NotReady\(NoCgroupHierarchy\)\s/m);
  });

  it('node 1 runs every replica; none is assigned to node 2', async () => {
    assert.deepEqual([...new Set(web.map((t) => t.spec.node))], ['node1']);
    const all = await c.tasks();
    assert.deepEqual(all.filter((t) => t.spec.node === 'node2').map((t) => t.metadata.name), []);
  });

  it('a task only node 2 could take stays unassigned, saying why', async () => {
    const t = await eventually('the reason of only2', 60_000, async () => {
      const ts = await c.tasks('only2');
      return ts.find((x) => /runtime not ready/.test(x.status?.message ?? ''));
    });
    assert.equal(t.spec.node ?? '', '');
    assert.match(t.status?.message ?? '', /^0\/2 nodes: 1 runtime not ready \(NoCgroupHierarchy\), 1 did not match node\.labels\.node == node2$/);
  });
});
