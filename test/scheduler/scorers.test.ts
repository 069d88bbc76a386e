/**
 * Table tests of each scorer: strategy (spread / binpack), preferred affinity, the
 * PreferNoSchedule penalty; and through the pipeline, hierarchical spread over label paths and
 * spread of a service's tasks over nodes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileNode, compileSpec, emptyUsage } from '../../src/scheduler/compile.js';
import { schedule } from '../../src/scheduler/index.js';
import { affinityScore, PREFER_NO_SCHEDULE_PENALTY, strategyScore, taintPenalty } from '../../src/scheduler/scorers.js';
import type { NodeUsage } from '../../src/scheduler/types.js';
import { node, nodeOf, perNode, replicas, spec, task, type NodeOpts, type TaskOpts } from './fixtures.js';

const GI = 1024 ** 3;

function score(f: (n: ReturnType<typeof compileNode>, s: ReturnType<typeof compileSpec>) => number, n: NodeOpts, t: TaskOpts, usage: Partial<NodeUsage> = {}): number {
  return f(compileNode(node('n', n), { ...emptyUsage(), ...usage }), compileSpec('default/web', spec(t)));
}

describe('scorer strategy', { timeout: 30_000 }, () => {
  const rows: { name: string; usage: Partial<NodeUsage>; strategy: 'spread' | 'binpack'; want: number }[] = [
    { name: 'spread: empty node scores high', usage: {}, strategy: 'spread', want: 94 },
    { name: 'spread: half full node scores lower', usage: { cpuMillis: 2000, memoryBytes: 4 * GI }, strategy: 'spread', want: 44 },
    { name: 'binpack: empty node scores low', usage: {}, strategy: 'binpack', want: 6 },
    { name: 'binpack: half full node scores higher', usage: { cpuMillis: 2000, memoryBytes: 4 * GI }, strategy: 'binpack', want: 56 },
  ];
  for (const r of rows) {
    it(r.name, () => {
      // 4 cores and 8Gi; the task asks 250m and 512Mi: after placing, cpu 1/16 and memory 1/16 more.
      const s = score((n, sp) => strategyScore(n, sp, r.strategy), {}, { cpu: '250m', memory: '512Mi' }, r.usage);
      assert.equal(s, r.want);
    });
  }
  it('a node that bounds nothing counts as empty', () => {
    const n = compileNode({ ...node('n'), status: { state: 'ready', capacity: { cpu: '', memory: '' }, allocatable: { cpu: '', memory: '' } } }, emptyUsage());
    assert.equal(strategyScore(n, compileSpec('default/w', spec({ cpu: '1' })), 'spread'), 100);
  });
});

describe('scorer affinity (preferred)', { timeout: 30_000 }, () => {
  const t: TaskOpts = { affinity: { preferred: [{ weight: 30, expression: 'node.labels.gpu == a100' }, { weight: 5, expression: 'node.labels.zone in (z1, z2)' }] } };
  const rows: { name: string; labels: Record<string, string>; want: number }[] = [
    { name: 'matches none', labels: {}, want: 0 },
    { name: 'matches one', labels: { gpu: 'a100' }, want: 30 },
    { name: 'matches both', labels: { gpu: 'a100', zone: 'z2' }, want: 35 },
  ];
  for (const r of rows) it(r.name, () => assert.equal(score(affinityScore, { labels: r.labels }, t), r.want));
});

describe('scorer PreferNoSchedule penalty', { timeout: 30_000 }, () => {
  const rows: { name: string; n: NodeOpts; t: TaskOpts; want: number }[] = [
    { name: 'no taint, no penalty', n: {}, t: {}, want: 0 },
    { name: 'one untolerated', n: { taints: [{ key: 'slow', effect: 'PreferNoSchedule' }] }, t: {}, want: -PREFER_NO_SCHEDULE_PENALTY },
    { name: 'tolerated', n: { taints: [{ key: 'slow', effect: 'PreferNoSchedule' }] }, t: { tolerations: [{ key: 'slow', operator: 'Exists' }] }, want: 0 },
    { name: 'NoSchedule is not a score matter', n: { taints: [{ key: 'x', effect: 'NoSchedule' }] }, t: {}, want: 0 },
  ];
  for (const r of rows) it(r.name, () => assert.equal(score(taintPenalty, r.n, r.t), r.want));
});

function dcCluster(perZone = 2): ReturnType<typeof node>[] {
  const out = [];
  for (const dc of ['a', 'b', 'c']) for (const z of [1, 2, 3]) for (let i = 1; i <= perZone; i++) out.push(node(`${dc}${z}-${i}`, { labels: { datacenter: dc, zone: `${dc}${z}` } }));
  return out;
}

function countBy(r: ReturnType<typeof schedule>, nodes: ReturnType<typeof node>[], label: string): Record<string, number> {
  const byName = new Map(nodes.map((n) => [n.metadata.name, n]));
  const out: Record<string, number> = {};
  for (const p of r.placements) {
    const v = byName.get(p.node)?.metadata.labels[label] ?? '';
    out[v] = (out[v] ?? 0) + 1;
  }
  return out;
}

describe('scorer hierarchical spread', { timeout: 30_000 }, () => {
  it('9 replicas over 3 datacenters go 3/3/3', () => {
    const nodes = [node('a1', { labels: { datacenter: 'a' } }), node('b1', { labels: { datacenter: 'b' } }), node('b2', { labels: { datacenter: 'b' } }), node('b3', { labels: { datacenter: 'b' } }), node('b4', { labels: { datacenter: 'b' } }), node('c1', { labels: { datacenter: 'c' } })];
    const r = schedule({ nodes, tasks: [] }, replicas('web', 9, { spread: ['node.labels.datacenter'] }));
    assert.deepEqual(countBy(r, nodes, 'datacenter'), { a: 3, b: 3, c: 3 });
  });
  it('a second level spreads inside each datacenter over zones', () => {
    const nodes = dcCluster();
    const r = schedule({ nodes, tasks: [] }, replicas('web', 18, { spread: ['node.labels.datacenter', 'node.labels.zone'] }));
    assert.deepEqual(countBy(r, nodes, 'datacenter'), { a: 6, b: 6, c: 6 });
    assert.deepEqual(Object.values(countBy(r, nodes, 'zone')), [2, 2, 2, 2, 2, 2, 2, 2, 2]);
  });
  it('counts tasks already running: new replicas fill the emptier datacenter', () => {
    const nodes = dcCluster(1);
    const running = [task('old-1', { node: 'a1-1', spread: ['node.labels.datacenter'] }), task('old-2', { node: 'a2-1', spread: ['node.labels.datacenter'] })];
    const r = schedule({ nodes, tasks: running }, replicas('web', 4, { spread: ['node.labels.datacenter'] }));
    assert.deepEqual(countBy(r, nodes, 'datacenter'), { b: 2, c: 2 });
  });
  it('nodes without the label form their own group', () => {
    const nodes = [node('x', { labels: { datacenter: 'a' } }), node('y')];
    const r = schedule({ nodes, tasks: [] }, replicas('web', 2, { spread: ['node.labels.datacenter'] }));
    assert.deepEqual([...perNode(r).values()], [1, 1]);
  });
  it('a full datacenter gives way to the others', () => {
    const nodes = [node('a1', { labels: { datacenter: 'a' }, memory: '1Gi' }), node('b1', { labels: { datacenter: 'b' } })];
    const r = schedule({ nodes, tasks: [] }, replicas('web', 4, { spread: ['node.labels.datacenter'], memory: '1Gi' }));
    assert.deepEqual(countBy(r, nodes, 'datacenter'), { a: 1, b: 3 });
  });
});

describe('scorer node spread of a service', { timeout: 30_000 }, () => {
  it('no two tasks of a service share a node while others are free', () => {
    const nodes = Array.from({ length: 5 }, (_, i) => node(`n${i}`));
    const r = schedule({ nodes, tasks: [] }, replicas('web', 5));
    assert.equal(perNode(r).size, 5);
  });
  it('even under binpack, which packs different services together', () => {
    const nodes = [node('n1'), node('n2'), node('n3')];
    const running = [task('db-1', { service: 'db', node: 'n2', cpu: '2' })];
    const r = schedule({ nodes, tasks: running }, replicas('web', 3, { strategy: 'binpack', cpu: '100m' }));
    assert.equal(perNode(r).size, 3);
    const one = schedule({ nodes, tasks: running }, replicas('api', 1, { strategy: 'binpack', cpu: '100m' }));
    assert.equal(nodeOf(one).get('default/api-1'), 'n2', 'binpack picks the most allocated node');
  });
  it('spread strategy picks the least allocated node', () => {
    const nodes = [node('n1'), node('n2'), node('n3')];
    const running = [task('db-1', { service: 'db', node: 'n1', cpu: '2' }), task('db-2', { service: 'db', node: 'n3', cpu: '1' })];
    const r = schedule({ nodes, tasks: running }, replicas('api', 1, { cpu: '100m' }));
    assert.equal(nodeOf(r).get('default/api-1'), 'n2');
  });
  it('the cluster-wide default strategy applies when a service sets none', () => {
    const nodes = [node('n1'), node('n2'), node('n3')];
    const running = [task('db-1', { service: 'db', node: 'n3', cpu: '2' })];
    const r = schedule({ nodes, tasks: running }, replicas('api', 1, { cpu: '100m' }), { defaultStrategy: 'binpack' });
    assert.equal(nodeOf(r).get('default/api-1'), 'n3');
  });
  it('preferred affinity wins among equally spread nodes', () => {
    const nodes = [node('n1'), node('n2', { labels: { gpu: 'a100' } }), node('n3')];
    const r = schedule({ nodes, tasks: [] }, replicas('ml', 1, { affinity: { preferred: [{ weight: 10, expression: 'node.labels.gpu == a100' }] } }));
    assert.equal(nodeOf(r).get('default/ml-1'), 'n2');
  });
  it('a PreferNoSchedule taint is avoided but still used when it is all there is', () => {
    const nodes = [node('n1', { taints: [{ key: 'slow', effect: 'PreferNoSchedule' }] }), node('n2')];
    const r = schedule({ nodes, tasks: [] }, replicas('web', 2));
    assert.equal(nodeOf(r).get('default/web-1'), 'n2');
    assert.equal(nodeOf(r).get('default/web-2'), 'n1');
  });
});
