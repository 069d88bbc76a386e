/**
 * The pipeline end to end: unplaced reasons with per-filter counts, batches that update usage as
 * they go, the incremental Scheduler fed node and task events, pinned (global) tasks,
 * eligibleNodes, determinism and the seed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Service } from '../../src/api/kinds.js';
import { eligibleNodes, schedule, Scheduler } from '../../src/scheduler/index.js';
import { node, nodeOf, perNode, replicas, spec, T0, task } from './fixtures.js';

function service(name: string, o: Parameters<typeof spec>[0] = {}): Service {
  return { kind: 'Service', metadata: { name, namespace: 'default', uid: `u-${name}`, labels: {}, revision: 1, generation: 1, creationTimestamp: new Date(T0).toISOString() }, spec: { ...spec(o), mode: 'global' } };
}

describe('unplaced tasks', { timeout: 30_000 }, () => {
  it('say which filter rejected how many nodes', () => {
    const nodes = [
      node('s1', { labels: { ssd: 'true' }, memory: '1Gi' }), node('s2', { labels: { ssd: 'true' }, memory: '1Gi' }), node('s3', { labels: { ssd: 'true' }, memory: '1Gi' }),
      node('h1', { labels: { ssd: 'false' } }), node('h2', { labels: { ssd: 'false' } }), node('h3', { labels: { ssd: 'false' } }),
    ];
    const r = schedule({ nodes, tasks: [] }, replicas('db', 1, { memory: '2Gi', constraints: ['node.labels.ssd == true'] }));
    assert.deepEqual(r.placements, []);
    assert.deepEqual(r.unplaced, [{
      task: 'default/db-1',
      reason: '0/6 nodes: 3 insufficient memory, 3 did not match node.labels.ssd == true',
      counts: { 'insufficient memory': 3, 'did not match node.labels.ssd == true': 3 },
    }]);
  });
  it('count capacity used by earlier replicas of the same batch', () => {
    const nodes = [node('n1', { cpu: '1' }), node('n2', { cpu: '1' })];
    const r = schedule({ nodes, tasks: [] }, replicas('web', 5, { cpu: '400m' }));
    assert.equal(r.placements.length, 4);
    assert.deepEqual(r.unplaced.map((u) => u.reason), ['0/2 nodes: 2 insufficient cpu']);
  });
  it('a host port is taken once per node', () => {
    const nodes = [node('n1'), node('n2')];
    const r = schedule({ nodes, tasks: [] }, replicas('lb', 3, { publish: [443] }));
    assert.equal(r.placements.length, 2);
    assert.equal(r.unplaced[0]?.reason, '0/2 nodes: 2 host port 443 in use');
  });
  it('an invalid constraint is the reason, not a crash', () => {
    const r = schedule({ nodes: [node('n1')], tasks: [] }, replicas('web', 1, { constraints: ['node.labels.ssd = true'] }));
    assert.match(r.unplaced[0]?.reason ?? '', /^invalid placement: invalid constraint/);
  });
  it('an empty cluster says so', () => {
    const r = schedule({ nodes: [], tasks: [] }, replicas('web', 1));
    assert.equal(r.unplaced[0]?.reason, '0/0 nodes: the cluster has no nodes');
  });
});

describe('placement', { timeout: 30_000 }, () => {
  it('honours constraints through the label index, including in and not in', () => {
    const nodes = Array.from({ length: 30 }, (_, i) => node(`n${i}`, { labels: { zone: `z${i % 3}`, ssd: String(i % 2 === 0) } }));
    const r = schedule({ nodes, tasks: [] }, replicas('web', 10, { constraints: ['node.labels.zone in (z0, z1)', 'node.labels.ssd != false', 'node.name not in (n0, n2)'] }));
    assert.equal(r.placements.length, 10);
    assert.equal(perNode(r).size, 9, 'the 9 matching nodes, one has two');
    for (const p of r.placements) {
      const i = Number(p.node.slice(1));
      assert.ok(i % 3 !== 2 && i % 2 === 0 && i !== 0 && i !== 2, p.node);
    }
  });
  it('places the oldest tasks first when room is short', () => {
    const nodes = [node('n1', { cpu: '1' })];
    const young = task('young', { cpu: '1', createdMs: T0 + 1000 });
    const old = task('old', { cpu: '1', createdMs: T0 });
    const r = schedule({ nodes, tasks: [] }, [young, old]);
    assert.deepEqual(r.placements, [{ task: 'default/old', node: 'n1' }]);
  });
  it('is deterministic, and the seed changes tie-breaks', () => {
    const nodes = Array.from({ length: 50 }, (_, i) => node(`n${i}`));
    const pending = replicas('web', 10);
    const a = schedule({ nodes, tasks: [] }, pending);
    assert.deepEqual(schedule({ nodes, tasks: [] }, pending), a);
    const others = [1, 2, 3, 4].map((seed) => schedule({ nodes, tasks: [] }, pending, { seed }));
    assert.ok(others.some((o) => JSON.stringify(o) !== JSON.stringify(a)));
  });
  it('scores every node when scoreLimit is 0 (exact strategy)', () => {
    const nodes = Array.from({ length: 100 }, (_, i) => node(`n${String(i).padStart(3, '0')}`));
    const running = [task('big', { service: 'big', node: 'n042', cpu: '3' })];
    const r = schedule({ nodes, tasks: running }, replicas('api', 1, { cpu: '100m', strategy: 'binpack' }), { scoreLimit: 0 });
    assert.equal(nodeOf(r).get('default/api-1'), 'n042');
  });
  it('a heartbeat timeout with the injected clock rules out stale nodes', () => {
    const nodes = [node('stale', { heartbeatMs: T0 - 120_000 }), node('fresh', { heartbeatMs: T0 - 1_000 })];
    const r = schedule({ nodes, tasks: [] }, replicas('web', 2), { now: T0, heartbeatTimeoutMs: 60_000 });
    assert.deepEqual([...perNode(r).keys()], ['fresh']);
  });
});

describe('incremental Scheduler', { timeout: 30_000 }, () => {
  it('keeps usage between calls and frees it when tasks end', () => {
    const s = new Scheduler();
    s.upsertNode(node('n1', { cpu: '1' }));
    const first = s.schedule(replicas('a', 2, { cpu: '500m' }));
    assert.equal(first.placements.length, 2);
    assert.equal(s.usageOf('n1')?.cpuMillis, 1000);
    assert.equal(s.schedule([task('b-1', { service: 'b', cpu: '500m' })]).placements.length, 0);
    s.taskEnded('default/a-1');
    assert.deepEqual(s.schedule([task('b-1', { service: 'b', cpu: '500m' })]).placements, [{ task: 'default/b-1', node: 'n1' }]);
  });
  it('observing its own placement (assigned) changes nothing; a terminal state frees it', () => {
    const s = new Scheduler();
    s.upsertNode(node('n1', { cpu: '1' }));
    s.schedule([task('a-1', { service: 'a', cpu: '1' })]);
    s.observeTask(task('a-1', { service: 'a', cpu: '1' })); // the old pending version arriving late
    s.observeTask(task('a-1', { service: 'a', cpu: '1', node: 'n1', state: 'assigned' }));
    s.observeTask(task('a-1', { service: 'a', cpu: '1', node: 'n1', state: 'running' }));
    assert.equal(s.usageOf('n1')?.cpuMillis, 1000);
    s.observeTask(task('a-1', { service: 'a', cpu: '1', node: 'n1', state: 'complete' }));
    assert.equal(s.usageOf('n1')?.cpuMillis, 0);
    assert.equal(s.usageOf('n1')?.tasks, 0);
  });
  it('returns the recorded node again for a pending task it already placed', () => {
    const s = new Scheduler();
    s.upsertNode(node('n1'));
    s.upsertNode(node('n2'));
    const t = task('a-1', { service: 'a' });
    const first = s.schedule([t]);
    assert.deepEqual(s.schedule([t]), first);
  });
  it('a new node is used at once; a removed node no longer', () => {
    const s = new Scheduler();
    s.upsertNode(node('n1', { cpu: '1' }));
    s.schedule([task('a-1', { service: 'a', cpu: '1' })]);
    assert.equal(s.schedule([task('a-2', { service: 'a', cpu: '1' })]).unplaced.length, 1);
    s.upsertNode(node('n2', { cpu: '1' }));
    assert.deepEqual(s.schedule([task('a-2', { service: 'a', cpu: '1' })]).placements, [{ task: 'default/a-2', node: 'n2' }]);
    s.removeNode('n2');
    s.taskEnded('default/a-1');
    assert.deepEqual(s.schedule([task('a-3', { service: 'a', cpu: '1' })]).placements, [{ task: 'default/a-3', node: 'n1' }]);
  });
  it('node changes re-index labels and keep usage', () => {
    const s = new Scheduler();
    s.upsertNode(node('n1', { labels: { ssd: 'false' }, cpu: '1' }));
    s.taskPlaced(task('x', { service: 'x', node: 'n1', cpu: '600m' }));
    assert.equal(s.schedule(replicas('db', 1, { constraints: ['node.labels.ssd == true'] })).unplaced[0]?.reason, '0/1 nodes: 1 did not match node.labels.ssd == true');
    s.upsertNode(node('n1', { labels: { ssd: 'true' }, cpu: '1' }));
    assert.equal(s.usageOf('n1')?.cpuMillis, 600);
    assert.equal(s.schedule(replicas('db', 1, { constraints: ['node.labels.ssd == true'], cpu: '500m' })).unplaced[0]?.reason, '0/1 nodes: 1 insufficient cpu');
    assert.equal(s.schedule(replicas('db', 1, { constraints: ['node.labels.ssd == true'], cpu: '400m' })).placements.length, 1);
  });
  it('a task seen on a node before the node itself counts once the node appears', () => {
    const s = new Scheduler();
    s.observeTask(task('x', { service: 'x', node: 'late', state: 'running', memory: '8Gi' }));
    s.upsertNode(node('late', { memory: '8Gi' }));
    assert.equal(s.schedule(replicas('y', 1, { memory: '1Gi' })).unplaced[0]?.reason, '0/1 nodes: 1 insufficient memory');
  });
});

describe('global services and pinned tasks', { timeout: 30_000 }, () => {
  const nodes = [node('n1'), node('n2', { availability: 'drain' }), node('n3', { taints: [{ key: 'gpu', effect: 'NoSchedule' }] }), node('n4', { labels: { edge: 'true' } }), node('n5', { state: 'down' })];
  it('eligibleNodes lists the nodes that may run one task', () => {
    assert.deepEqual(eligibleNodes(service('agent'), { nodes, tasks: [] }), ['n1', 'n4']);
    assert.deepEqual(eligibleNodes(service('agent', { tolerations: [{ key: '', operator: 'Exists' }] }), { nodes, tasks: [] }), ['n1', 'n3', 'n4']);
    assert.deepEqual(eligibleNodes(service('agent', { constraints: ['node.labels.edge == true'] }), { nodes, tasks: [] }), ['n4']);
  });
  it('a pending task with a node set is placed there or told why not', () => {
    const pinned = [task('g-n1', { service: 'g', node: 'n1', state: 'pending', memory: '1Gi' }), task('g-n4', { service: 'g', node: 'n4', state: 'pending', memory: '16Gi' }), task('g-n9', { service: 'g', node: 'n9', state: 'pending' })];
    const r = schedule({ nodes, tasks: pinned }, pinned);
    assert.deepEqual(r.placements, [{ task: 'default/g-n1', node: 'n1' }]);
    assert.deepEqual(r.unplaced.map((u) => u.reason), ['0/1 nodes: 1 insufficient memory', 'node n9 does not exist']);
  });
});
