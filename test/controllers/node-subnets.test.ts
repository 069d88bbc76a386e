/**
 * Node subnets from the cluster CIDR: the pure plan (keep, lowest free, name order, hollow
 * nodes skipped, exhaustion) and the controller on the in-memory store (assign, say why a node
 * gets none with a status message and one Warning Event, reuse a deleted node's block, keep
 * blocks across a controller restart, refuse a malformed CIDR).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EventObject, NodeObject } from '../../src/api/kinds.js';
import { ValidationError } from '../../src/api/errors.js';
import { startControllers } from '../../src/controllers/index.js';
import { systemClock } from '../../src/controllers/framework/clock.js';
import { createClusterInformers } from '../../src/controllers/informers.js';
import { createNodeSubnetController } from '../../src/controllers/network/controller.js';
import { blockAt, blockCount, blockIndex, formatIpv4Cidr, parseIpv4Cidr } from '../../src/controllers/network/cidr.js';
import { HOLLOW_LABEL, planSubnets } from '../../src/controllers/network/subnets.js';
import { MemoryStore } from '../helpers/memory-store.js';
import { node } from './fixtures.js';

const withCidr = (n: NodeObject, podCIDR: string): NodeObject => ({ ...n, spec: { ...n.spec, podCIDR } });

describe('cidr arithmetic', () => {
  it('cuts a /16 into 256 /24 blocks and finds them again', () => {
    const c = parseIpv4Cidr('10.88.7.9/16');
    assert.equal(formatIpv4Cidr(c), '10.88.0.0/16');
    assert.equal(blockCount(c, 24), 256);
    assert.equal(formatIpv4Cidr(blockAt(c, 24, 255)), '10.88.255.0/24');
    assert.equal(blockIndex(c, 24, '10.88.3.0/24'), 3);
    assert.equal(blockIndex(c, 24, '10.89.3.0/24'), undefined);
    assert.equal(blockIndex(c, 24, '10.88.3.0/25'), undefined);
    assert.equal(blockCount(parseIpv4Cidr('10.0.0.0/25'), 24), 0);
    assert.throws(() => parseIpv4Cidr('10.0.0.0/33'), ValidationError);
    assert.throws(() => parseIpv4Cidr('ten/8'), ValidationError);
  });
});

describe('planSubnets (pure)', () => {
  it('keeps blocks, gives the lowest free ones in name order, skips hollow nodes', () => {
    const nodes = [node('c'), withCidr(node('b'), '10.88.0.0/24'), node('a'), node('h', { labels: { [HOLLOW_LABEL]: 'true' } }), withCidr(node('x'), '192.168.0.0/24')];
    const plan = planSubnets('10.88.0.0/16', 24, nodes);
    assert.deepEqual([...plan.assign], [['a', '10.88.1.0/24'], ['c', '10.88.2.0/24']]);
    assert.equal(plan.exhausted.size, 0);
  });

  it('lists the nodes that do not fit, with a message that says what to do', () => {
    const plan = planSubnets('10.88.0.0/23', 24, [node('a'), node('b'), node('c')]);
    assert.deepEqual([...plan.assign.keys()], ['a', 'b']);
    assert.match(plan.exhausted.get('c') ?? '', /cluster CIDR 10\.88\.0\.0\/23 has room for 2 node subnet\(s\) of \/24.*--cluster-cidr/);
  });
});

async function until<T>(what: string, f: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const cidrOf = async (store: MemoryStore, name: string): Promise<string | undefined> =>
  ((await store.get({ kind: 'Node', namespace: '', name })) as NodeObject | undefined)?.spec.podCIDR;

describe('node-subnets controller on the in-memory store', { timeout: 30_000 }, () => {
  it('assigns, reports exhaustion, reuses freed blocks, and is stable across restarts', async () => {
    const store = new MemoryStore();
    for (const n of ['n1', 'n2', 'n3']) await store.create(node(n));
    let ctl = startControllers(store, { clusterCidr: '10.88.0.0/23' });
    try {
      await until('n1 and n2 assigned', async () => ((await cidrOf(store, 'n1')) !== undefined && (await cidrOf(store, 'n2')) !== undefined ? true : undefined));
      assert.equal(await cidrOf(store, 'n1'), '10.88.0.0/24');
      assert.equal(await cidrOf(store, 'n2'), '10.88.1.0/24');
      const n3 = await until('n3 message', async () => {
        const n = (await store.get({ kind: 'Node', namespace: '', name: 'n3' })) as NodeObject;
        return n.status?.message !== undefined ? n : undefined;
      });
      assert.equal(n3.spec.podCIDR, undefined);
      assert.match(n3.status?.message ?? '', /has room for 2 node subnet/);
      const events = (await store.list('Event')).items as EventObject[];
      assert.equal(events.filter((e) => e.spec.reason === 'SubnetExhausted' && e.spec.involved === 'Node/n3').length, 1);

      await store.delete({ kind: 'Node', namespace: '', name: 'n1' });
      await until('n3 gets the freed block', async () => ((await cidrOf(store, 'n3')) === '10.88.0.0/24' ? true : undefined));

      await ctl.stop();
      ctl = startControllers(store, { clusterCidr: '10.88.0.0/23' });
      await ctl.ready;
      await store.create(node('n4'));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(await cidrOf(store, 'n2'), '10.88.1.0/24');
      assert.equal(await cidrOf(store, 'n3'), '10.88.0.0/24');
      assert.equal(await cidrOf(store, 'n4'), undefined);
    } finally {
      await ctl.stop();
    }
  });

  it('refuses a malformed cluster CIDR at start', () => {
    const store = new MemoryStore();
    const informers = createClusterInformers(store, systemClock, () => undefined);
    assert.throws(() => createNodeSubnetController({ store, informers, clock: systemClock, log: () => undefined, clusterCidr: '10.88.0.0' }), ValidationError);
  });
});
