/**
 * Host-gw routes (src/agent/network/routes.ts): the pure plan, then NodeRoutes against real
 * `ip route` inside a namespace of the test's own, fed by Nodes in the in-memory store: routes
 * appear with their protocol mark, follow a node's new address, go with a deleted node, leave
 * foreign routes alone, survive a failing gateway, and a restarted NodeRoutes changes nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeObject } from '../../../src/api/kinds.js';
import { NodeRoutes, planRoutes, wantedRoutes, waitForNodeSubnet } from '../../../src/agent/network/routes.js';
import { UnavailableError } from '../../../src/api/errors.js';
import { MemoryStore } from '../../helpers/memory-store.js';
import { NodeNamespace } from '../../helpers/netns.js';

function nodeObj(name: string, address?: string, podCIDR?: string): NodeObject {
  return {
    kind: 'Node',
    metadata: { name, namespace: '', uid: `uid-${name}`, labels: {}, revision: 0, generation: 1, creationTimestamp: '' },
    spec: { availability: 'active', role: 'worker', taints: [], ...(podCIDR !== undefined ? { podCIDR } : {}) },
    status: { state: 'ready', capacity: { cpu: '1', memory: '1Gi' }, allocatable: { cpu: '1', memory: '1Gi' }, ...(address !== undefined ? { address } : {}) },
  };
}

describe('route plan (pure)', () => {
  it('routes every other node with a subnet and an address, and removes the rest', () => {
    const nodes = [nodeObj('me', '172.30.5.1', '10.88.0.0/24'), nodeObj('b', '172.30.5.2', '10.88.1.0/24'), nodeObj('c', '172.30.5.3'), nodeObj('d', undefined, '10.88.3.0/24')];
    const want = wantedRoutes('me', nodes);
    assert.deepEqual(want, [{ dst: '10.88.1.0/24', via: '172.30.5.2', node: 'b' }]);
    const plan = planRoutes(want, [{ dst: '10.88.1.0/24', via: '172.30.5.9' }, { dst: '10.88.7.0/24', via: '172.30.5.7' }]);
    assert.deepEqual(plan.replace.map((r) => r.via), ['172.30.5.2']);
    assert.deepEqual(plan.remove.map((r) => r.dst), ['10.88.7.0/24']);
    assert.deepEqual(planRoutes(want, [{ dst: '10.88.1.0/24', via: '172.30.5.2' }]), { replace: [], remove: [] });
  });
});

describe('NodeRoutes in a namespace', { timeout: 60_000 }, () => {
  let ns: NodeNamespace;
  const store = new MemoryStore();
  const logs: string[] = [];
  const routes = async (): Promise<string> => (await ns.run(['ip', 'route', 'show'])).stdout;
  const until = async (what: string, cond: (r: string) => boolean): Promise<string> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const r = await routes();
      if (cond(r)) return r;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${r}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  };

  before(async () => {
    ns = await NodeNamespace.create('routes');
    for (const argv of [['ip', 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'b0'], ['ip', 'addr', 'add', '172.30.5.1/24', 'dev', 'a0'],
      ['ip', 'link', 'set', 'a0', 'up'], ['ip', 'link', 'set', 'b0', 'up'], ['ip', 'route', 'add', '10.77.0.0/24', 'via', '172.30.5.77']]) {
      const r = await ns.run(argv);
      assert.equal(r.code, 0, r.stderr);
    }
    await store.create(nodeObj('me', '172.30.5.1', '10.88.0.0/24'));
    await store.create(nodeObj('b', '172.30.5.2', '10.88.1.0/24'));
    await store.create(nodeObj('c', '172.30.5.3', '10.88.2.0/24'));
    await store.create(nodeObj('far', '192.168.99.9', '10.88.9.0/24'));
  });

  after(async () => {
    await ns?.stop();
  });

  it('keeps the routes in sync with the Nodes, and only its own', async () => {
    const r = new NodeRoutes({ store, nodeName: 'me', ipPrefix: ns.prefix, log: (m) => logs.push(m) });
    try {
      await r.start();
      const first = await routes();
      assert.match(first, /10\.88\.1\.0\/24 via 172\.30\.5\.2 dev a0 proto 176/);
      assert.match(first, /10\.88\.2\.0\/24 via 172\.30\.5\.3 dev a0 proto 176/);
      assert.doesNotMatch(first, /10\.88\.0\.0\/24/, 'no route to its own subnet');
      assert.ok(logs.some((l) => /cannot route 10\.88\.9\.0\/24 via 192\.168\.99\.9/.test(l)), logs.join('\n'));

      const b = (await store.get({ kind: 'Node', namespace: '', name: 'b' })) as NodeObject;
      await store.update({ ...b, status: { ...b.status, address: '172.30.5.22' } as NodeObject['status'] });
      await until('b via its new address', (s) => /10\.88\.1\.0\/24 via 172\.30\.5\.22/.test(s));
      await store.delete({ kind: 'Node', namespace: '', name: 'c' });
      await until('c gone', (s) => !/10\.88\.2\.0\/24/.test(s));
      assert.match(await routes(), /10\.77\.0\.0\/24 via 172\.30\.5\.77/, 'a foreign route stays');

      await ns.run(['ip', 'route', 'del', '10.88.1.0/24']);
      await r.syncOnce();
      assert.match(await routes(), /10\.88\.1\.0\/24 via 172\.30\.5\.22/, 'a route deleted by hand comes back');
    } finally {
      await r.stop();
      await r.stop();
    }
    assert.match(await routes(), /10\.88\.1\.0\/24 via 172\.30\.5\.22/, 'routes stay while the agent is down');
    const again = new NodeRoutes({ store, nodeName: 'me', ipPrefix: ns.prefix });
    try {
      await again.start();
      const plan = await again.syncOnce();
      assert.deepEqual(plan.remove, []);
      assert.deepEqual(plan.replace.map((x) => x.dst), ['10.88.9.0/24'], 'only the unreachable one is retried');
    } finally {
      await again.stop();
    }
  });

  it('waits for the server to assign a subnet, and says why when none comes', async () => {
    await store.create(nodeObj('late'));
    setTimeout(() => {
      void (async () => {
        const n = (await store.get({ kind: 'Node', namespace: '', name: 'late' })) as NodeObject;
        await store.update({ ...n, spec: { ...n.spec, podCIDR: '10.88.5.0/24' } });
      })();
    }, 200);
    assert.equal(await waitForNodeSubnet(store, 'late', { pollMs: 20, timeoutMs: 5_000 }), '10.88.5.0/24');
    const n = nodeObj('none');
    await store.create({ ...n, status: { ...n.status, message: 'no task subnet for this node: cluster CIDR 10.88.0.0/30 ...' } as NodeObject['status'] });
    await assert.rejects(waitForNodeSubnet(store, 'none', { pollMs: 20, timeoutMs: 200 }), (err: unknown) => err instanceof UnavailableError && /cluster CIDR 10\.88\.0\.0\/30/.test(err.message));
  });
});
