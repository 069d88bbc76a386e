/**
 * Issue "Networking", parts 1 and 2, on three node namespaces with real agents, runc and CNI:
 * node subnets handed out by the server, host-gw routes between nodes, and the node DNS server
 * as the containers' resolver. A `web` service of 3 replicas (one per node) answers with its
 * own hostname; a client task on node 1 resolves `tasks.web` to the 3 addresses and fetches
 * every replica directly by address, across nodes; `web` and its longer forms resolve.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Cluster, eventually, namespacesLeft, type TaskJson } from '../helpers/cluster.js';

interface NodeJson {
  metadata: { name: string };
  spec: { podCIDR?: string };
  status?: { address?: string };
}

/** Addresses in busybox nslookup's output after the "Name:" line(s). */
function addressesOf(nslookup: string): string[] {
  const out: string[] = [];
  let answer = false;
  for (const line of nslookup.split('\n')) {
    if (/^Name:/.test(line)) answer = true;
    const m = /^Address(?: \d+)?:\s+(\d+\.\d+\.\d+\.\d+)/.exec(line);
    if (answer && m !== null) out.push(m[1] as string);
  }
  return out.sort();
}

describe('networking across nodes: subnets, routes, DNS', { timeout: 420_000 }, () => {
  let cluster: Cluster | undefined;
  let web: TaskJson[] = [];
  let client: TaskJson | undefined;
  let names: string[] = [];
  const forwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
  const routesBefore = readFileSync('/proc/net/route', 'utf8');
  const linksBefore = readFileSync('/proc/net/dev', 'utf8').split('\n').map((l) => l.split(':')[0]?.trim()).sort().join(',');

  before(async () => {
    cluster = await Cluster.start({ nodes: 3 });
    const image = (await cluster.buildImage('test/web', '1')).ref;
    await cluster.apply(`kind: Service
metadata: {name: web}
spec:
  image: ${image}
  replicas: 3
  command: ["sh", "-c", "hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]
  placement: {spread: ["node.labels.node"]}
---
kind: Service
metadata: {name: client}
spec:
  image: ${image}
  replicas: 1
  command: ["sleep", "3600"]
  placement: {constraints: ["node.labels.node == node1"]}
`);
    web = await cluster.runningTasks('web', 3);
    client = (await cluster.runningTasks('client', 1))[0];
  });

  after(async () => {
    const c = cluster;
    names = c?.namespaceNames() ?? [];
    if (c !== undefined && process.env.FLOTILLA_TEST_LOGS === '1') console.error(c.logs());
    await c?.stop();
    assert.deepEqual(namespacesLeft(names), [], 'every namespace of the test is gone');
    assert.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'), forwardBefore, 'machine ip_forward unchanged');
    assert.equal(readFileSync('/proc/net/route', 'utf8'), routesBefore, 'machine routes unchanged');
    const linksAfter = readFileSync('/proc/net/dev', 'utf8').split('\n').map((l) => l.split(':')[0]?.trim()).sort().join(',');
    assert.equal(linksAfter, linksBefore, 'no link left in the machine namespace');
  });

  const exec = async (argv: string[]): Promise<string> => {
    const c = cluster as Cluster;
    const r = await c.cli(['exec', client?.metadata.name ?? '', '--', ...argv], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`exec ${argv.join(' ')}: exit ${r.code}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };

  /**
   * A-record answers of busybox nslookup. It asks every search-list variant at once and exits 1
   * when any of them is NXDOMAIN (`web.svc` is), so the answers are read whatever the exit status.
   */
  const lookup = async (name: string): Promise<string[]> => {
    const r = await (cluster as Cluster).cli(['exec', client?.metadata.name ?? '', '--', '/bin/busybox', 'nslookup', '-type=a', name], { timeoutMs: 30_000 });
    return [...new Set(addressesOf(r.stdout))].sort();
  };

  it('gives every node its own /24 of the cluster CIDR, and tasks addresses from it', async () => {
    const nodes = await (cluster as Cluster).list<NodeJson>('nodes');
    const cidrs = nodes.map((n) => n.spec.podCIDR ?? '');
    assert.equal(new Set(cidrs).size, 3, `distinct subnets: ${cidrs.join(' ')}`);
    for (const cidr of cidrs) assert.match(cidr, /^10\.88\.\d+\.0\/24$/);
    for (const t of web) {
      const node = nodes.find((n) => n.metadata.name === t.spec.node);
      const prefix = (node?.spec.podCIDR ?? '').replace(/0\/24$/, '');
      assert.ok((t.status?.ip ?? '').startsWith(prefix), `${t.metadata.name} ${t.status?.ip} in ${node?.spec.podCIDR}`);
    }
    assert.deepEqual(web.map((t) => t.spec.node).sort(), ['node1', 'node2', 'node3']);
  });

  it('keeps a route on every node to every other node\'s subnet', async () => {
    const c = cluster as Cluster;
    const nodes = await c.list<NodeJson>('nodes');
    for (const self of nodes) {
      const r = await c.exec(self.metadata.name, ['ip', 'route', 'show', 'proto', '176']);
      for (const other of nodes) {
        if (other === self) continue;
        assert.ok(r.stdout.includes(`${other.spec.podCIDR ?? '?'} via ${other.status?.address ?? '?'}`), `${self.metadata.name}: ${r.stdout}`);
      }
    }
  });

  it('resolves tasks.web to the 3 ready task addresses, from a task on node 1', async () => {
    const want = web.map((t) => t.status?.ip as string).sort();
    const got = await eventually('tasks.web lists 3 addresses', 20_000, async () => {
      const a = await lookup('tasks.web');
      return a.length === 3 ? a : undefined;
    });
    assert.deepEqual(got, want);
    assert.deepEqual(await lookup('tasks.web.default.svc'), want);
  });

  it('fetches every replica directly by address, across nodes (node1 -> node3 included)', async () => {
    for (const t of web) {
      const body = await exec(['timeout', '5', 'wget', '-q', '-O-', `http://${t.status?.ip ?? ''}:8080/`]);
      assert.equal(body.trim(), t.metadata.name, `replica on ${t.spec.node} answers with its hostname`);
    }
    const on3 = web.find((t) => t.spec.node === 'node3');
    assert.ok(on3 !== undefined && client?.spec.node === 'node1');
  });

  it('resolves web, web.default and web.default.svc to the VIP (or the ready addresses until there is one)', async () => {
    const services = await (cluster as Cluster).list<{ metadata: { name: string }; status?: { vip?: string } }>('services');
    const vip = services.find((s) => s.metadata.name === 'web')?.status?.vip;
    const want = vip !== undefined ? [vip] : web.map((t) => t.status?.ip as string).sort();
    for (const name of ['web', 'web.default', 'web.default.svc']) {
      assert.deepEqual(await lookup(name), want, name);
    }
    const resolv = await exec(['cat', '/etc/resolv.conf']);
    assert.match(resolv, /^nameserver 10\.88\.\d+\.1$/m);
    assert.match(resolv, /^search default\.svc svc$/m);
  });

  it('is the resolver of the C library too (wget http://tasks.web:8080/ reaches a replica)', async () => {
    const body = await exec(['timeout', '5', 'wget', '-q', '-O-', 'http://tasks.web:8080/']);
    assert.ok(web.some((t) => t.metadata.name === body.trim()), `answered by a web replica: ${body}`);
  });

  it('rebuilds the network of a node whose agent restarts: same subnet, routes kept, task reachable, DNS back', async () => {
    const c = cluster as Cluster;
    const before = await c.list<NodeJson>('nodes');
    await c.restartAgent('node2');
    const after = await c.list<NodeJson>('nodes');
    assert.deepEqual(after.map((n) => n.spec.podCIDR).sort(), before.map((n) => n.spec.podCIDR).sort(), 'subnets stable');
    const on2 = web.find((t) => t.spec.node === 'node2') as TaskJson;
    const body = await exec(['timeout', '5', 'wget', '-q', '-O-', `http://${on2.status?.ip ?? ''}:8080/`]);
    assert.equal(body.trim(), on2.metadata.name, 'the task on node 2 kept running and is reachable from node 1');
    const routes = (await c.exec('node2', ['ip', 'route', 'show', 'proto', '176'])).stdout;
    assert.equal(routes.trim().split('\n').length, 2, routes);
    const gw = (before.find((n) => n.metadata.name === 'node2')?.spec.podCIDR ?? '').replace(/0\/24$/, '1');
    const r = await eventually('DNS answers on node 2 again', 20_000, async () => {
      const x = await c.exec('node2', ['/bin/busybox', 'nslookup', '-type=a', 'tasks.web.default.svc', gw], 10_000);
      return x.code === 0 ? x.stdout : undefined;
    });
    assert.equal(addressesOf(r).length, 3);
  });

  it('answers NXDOMAIN for unknown cluster names', async () => {
    const c = cluster as Cluster;
    const r = await c.cli(['exec', client?.metadata.name ?? '', '--', '/bin/busybox', 'nslookup', 'nothere.default.svc'], { timeoutMs: 30_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /NXDOMAIN|can't find/i);
  });
});
