/**
 * Issue "First contact", part 1: a cluster that works without flags. The server listens on
 * 0.0.0.0; `flotilla token create` prints the token and the whole `flotilla agent --server
 * https://ADDRESS:PORT --token TOKEN` line; two node namespaces start their agents from exactly
 * that line (plus --name and --data-dir, which two agents on one machine need), with no
 * --address. The nodes advertise their underlay addresses (the local address of their
 * connection to the server), the server certificate names the interface address, and a
 * client on node 1 reaches a replica on node 2 through the service VIP.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Cluster, eventually, namespacesLeft, type TaskJson } from '../helpers/cluster.js';

interface NodeJson {
  metadata: { name: string };
  status?: { address?: string; agentPort?: number };
}

describe('first contact: agents joined with the printed command, no --address', { timeout: 600_000 }, () => {
  let c: Cluster;
  let client: TaskJson;
  let web: TaskJson;

  before(async () => {
    c = await Cluster.start({ nodes: 2, join: 'printed', serverListenHost: '0.0.0.0' });
    const image = (await c.buildImage('test/contact', '1')).ref;
    await c.apply(`kind: Service
metadata: {name: web}
spec:
  image: ${image}
  replicas: 1
  command: ["sh", "-c", "mkdir -p /tmp/www && hostname > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"]
  ports: [{port: 80, targetPort: 8080}]
  placement: {constraints: ["node.labels.node == node2"]}
---
kind: Service
metadata: {name: client}
spec:
  image: ${image}
  replicas: 1
  command: ["sleep", "3600"]
  placement: {constraints: ["node.labels.node == node1"]}
`);
    web = (await c.runningTasks('web', 1))[0] as TaskJson;
    client = (await c.runningTasks('client', 1))[0] as TaskJson;
  });

  after(async () => {
    const names = c?.namespaceNames() ?? [];
    if (c !== undefined) {
      if (process.env.FLOTILLA_TEST_LOGS === '1') console.error(c.logs());
      await c.removeLoadBalancers();
      await c.stop();
    }
    assert.deepEqual(namespacesLeft(names), []);
  });

  it('token create printed the agent command with the server address a node can reach', () => {
    assert.match(c.joinCommand, new RegExp(`^flotilla agent --server https://${c.serverAddress.replace(/\./g, '\\.')}:\\d+ --token FLT1-\\S+$`));
  });

  it('the server certificate (listening on 0.0.0.0) names the interface address', () => {
    const cert = new X509Certificate(readFileSync(path.join(c.dir, 'server', 'pki', 'server.crt')));
    assert.match(cert.subjectAltName ?? '', new RegExp(`IP Address:${c.serverAddress.replace(/\./g, '\\.')}(,|$)`));
  });

  it('each node advertises the local address of its connection to the server', async () => {
    const nodes = await c.list<NodeJson>('nodes');
    const byName = Object.fromEntries(nodes.map((n) => [n.metadata.name, n.status?.address]));
    assert.deepEqual(byName, { node1: c.node(1).address, node2: c.node(2).address });
  });

  it('logs and exec reach the agents at the advertised address', async () => {
    const r = await c.cli(['exec', web.metadata.name, '--', 'hostname']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), web.metadata.name);
  });

  it('a client on node 1 reaches the replica on node 2 through the VIP', async () => {
    assert.equal(web.spec.node, 'node2');
    assert.equal(client.spec.node, 'node1');
    const vip = await eventually('the VIP of web', 30_000, async () => {
      const svc = JSON.parse((await c.cli(['get', 'service', 'web', '-o', 'json'])).stdout) as { status?: { vip?: string } };
      return svc.status?.vip;
    });
    const body = await eventually('an answer through the VIP', 60_000, async () => {
      const r = await c.cli(['exec', client.metadata.name, '--', 'sh', '-c', `timeout 5 wget -q -O- http://${vip}:80/`]);
      return r.code === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : undefined;
    });
    assert.equal(body, web.metadata.name);
  });
});
