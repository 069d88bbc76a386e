/**
 * The multi-node harness itself (test/helpers/cluster.ts): two node namespaces and a server
 * namespace on an underlay bridge, real agents, a registry reachable on every node, a service
 * with one task per node, and a task on node 1 reaching a task on node 2 by address.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Cluster, namespacesLeft } from '../helpers/cluster.js';

describe('multi-node harness', { timeout: 240_000 }, () => {
  let cluster: Cluster | undefined;
  const forwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
  const routesBefore = readFileSync('/proc/net/route', 'utf8');

  before(async () => {
    cluster = await Cluster.start({ nodes: 2 });
  });

  after(async () => {
    const names = cluster?.namespaceNames() ?? [];
    await cluster?.stop();
    assert.deepEqual(namespacesLeft(names), []);
    assert.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'), forwardBefore);
    assert.equal(readFileSync('/proc/net/route', 'utf8'), routesBefore);
  });

  it('runs one task per node and tasks reach each other across nodes', async () => {
    const c = cluster as Cluster;
    const image = (await c.buildImage('test/web', '1', { files: { 'www/index.html': 'hi\n' } })).ref;
    await c.apply(`kind: Service
metadata: {name: web}
spec:
  image: ${image}
  replicas: 2
  command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
  placement: {spread: ["node.labels.node"]}
`);
    const tasks = await c.runningTasks('web', 2);
    assert.deepEqual(tasks.map((t) => t.spec.node).sort(), ['node1', 'node2']);
    const on1 = tasks.find((t) => t.spec.node === 'node1');
    const on2 = tasks.find((t) => t.spec.node === 'node2');
    const r = await c.cli(['exec', on1?.metadata.name ?? '', '--', 'timeout', '5', 'wget', '-q', '-O-', `http://${on2?.status?.ip ?? ''}:8080/`]);
    assert.equal(r.code, 0, `${r.stderr}\n${c.logs()}`);
    assert.equal(r.stdout, 'hi\n');
  });
});
