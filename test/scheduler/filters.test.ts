/**
 * Table tests of each named filter on one compiled node and spec, and of the reason string
 * built from per-filter counts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileNode, compileSpec, emptyUsage, portKey } from '../../src/scheduler/compile.js';
import {
  affinityRequired, constraintsMatch, countRejections, FILTERS, formatReason, nodeActive, nodeReady, resourcesFit, taintsTolerated, tolerates, type Filter,
} from '../../src/scheduler/filters.js';
import type { NodeUsage } from '../../src/scheduler/types.js';
import { node, spec, T0, type NodeOpts, type TaskOpts } from './fixtures.js';

const ctx = { nowMs: T0, heartbeatTimeoutMs: undefined };

interface Row { name: string; node?: NodeOpts; nodeName?: string; task?: TaskOpts; usage?: Partial<NodeUsage>; want: string | undefined; timeoutMs?: number }

function run(f: Filter, rows: Row[]): void {
  for (const r of rows) {
    it(r.name, () => {
      const usage = { ...emptyUsage(), ...r.usage };
      const n = compileNode(node(r.nodeName ?? 'n1', r.node), usage);
      const s = compileSpec('default/web', spec(r.task));
      assert.equal(f.reject(n, s, { nowMs: T0, heartbeatTimeoutMs: r.timeoutMs }), r.want);
    });
  }
}

describe('filter NodeReady', { timeout: 30_000 }, () => run(nodeReady, [
  { name: 'ready passes', want: undefined },
  { name: 'down is rejected', node: { state: 'down' }, want: 'not ready' },
  { name: 'unknown is rejected', node: { state: 'unknown' }, want: 'not ready' },
  { name: 'stale heartbeat with a timeout is rejected', node: { heartbeatMs: T0 - 60_000 }, timeoutMs: 30_000, want: 'not ready' },
  { name: 'fresh heartbeat with a timeout passes', node: { heartbeatMs: T0 - 10_000 }, timeoutMs: 30_000, want: undefined },
  { name: 'stale heartbeat without a timeout passes', node: { heartbeatMs: T0 - 60_000 }, want: undefined },
]));

describe('filter NodeActive', { timeout: 30_000 }, () => run(nodeActive, [
  { name: 'active passes', want: undefined },
  { name: 'pause is rejected', node: { availability: 'pause' }, want: 'paused' },
  { name: 'drain is rejected', node: { availability: 'drain' }, want: 'draining' },
]));

const MI = 1024 * 1024;
describe('filter ResourcesFit', { timeout: 30_000 }, () => run(resourcesFit, [
  { name: 'no requests fit anywhere', usage: { cpuMillis: 4000, memoryBytes: 8192 * MI }, want: undefined },
  { name: 'cpu fits exactly', node: { cpu: '1' }, usage: { cpuMillis: 750 }, task: { cpu: '250m' }, want: undefined },
  { name: 'cpu over by one milli', node: { cpu: '1' }, usage: { cpuMillis: 751 }, task: { cpu: '250m' }, want: 'insufficient cpu' },
  { name: 'memory counts what is placed', node: { memory: '1Gi' }, usage: { memoryBytes: 1000 * MI }, task: { memory: '32Mi' }, want: 'insufficient memory' },
  { name: 'memory fits', node: { memory: '1Gi' }, usage: { memoryBytes: 992 * MI }, task: { memory: '32Mi' }, want: undefined },
  { name: 'pids bounded', node: { pids: 100 }, usage: { pids: 90 }, task: { pids: 20 }, want: 'insufficient pids' },
  { name: 'pids unbounded when the node does not say', usage: { pids: 1e6 }, task: { pids: 20 }, want: undefined },
  { name: 'host port in use', usage: { ports: new Map([[portKey(8080, 'tcp'), 1]]) }, task: { publish: [8080] }, want: 'host port 8080 in use' },
  { name: 'udp port does not clash with tcp', usage: { ports: new Map([[portKey(8080, 'udp'), 1]]) }, task: { publish: [8080] }, want: undefined },
  { name: 'cpu is checked before memory', node: { cpu: '1', memory: '1Mi' }, task: { cpu: '2', memory: '1Gi' }, want: 'insufficient cpu' },
]));

describe('filter Constraints', { timeout: 30_000 }, () => run(constraintsMatch, [
  { name: 'label == matches', node: { labels: { ssd: 'true' } }, task: { constraints: ['node.labels.ssd == true'] }, want: undefined },
  { name: 'label == mismatch', node: { labels: { ssd: 'false' } }, task: { constraints: ['node.labels.ssd == true'] }, want: 'did not match node.labels.ssd == true' },
  { name: 'missing label fails ==', task: { constraints: ['node.labels.ssd == true'] }, want: 'did not match node.labels.ssd == true' },
  { name: 'missing label passes !=', task: { constraints: ['node.labels.ssd != true'] }, want: undefined },
  { name: 'label != rejects equal', node: { labels: { dc: 'a' } }, task: { constraints: ['node.labels.dc != a'] }, want: 'did not match node.labels.dc != a' },
  { name: 'in matches one of', node: { labels: { zone: 'w2' } }, task: { constraints: ['node.labels.zone in (w1, w2)'] }, want: undefined },
  { name: 'not in rejects one of', node: { labels: { zone: 'w2' } }, task: { constraints: ['node.labels.zone not in (w1, w2)'] }, want: 'did not match node.labels.zone not in (w1, w2)' },
  { name: 'node.name ==', nodeName: 'n7', task: { constraints: ['node.name == n7'] }, want: undefined },
  { name: 'node.name != rejects', nodeName: 'n7', task: { constraints: ['node.name != n7'] }, want: 'did not match node.name != n7' },
  { name: 'node.role == manager rejects a worker', task: { constraints: ['node.role == manager'] }, want: 'did not match node.role == manager' },
  { name: 'node.role == manager', node: { role: 'manager' }, task: { constraints: ['node.role == manager'] }, want: undefined },
  { name: 'first failing constraint is named', node: { labels: { a: '1', b: '1' } }, task: { constraints: ['node.labels.a == 1', 'node.labels.b == 2', 'node.labels.c == 3'] }, want: 'did not match node.labels.b == 2' },
]));

describe('filter TaintToleration', { timeout: 30_000 }, () => run(taintsTolerated, [
  { name: 'no taints pass', want: undefined },
  { name: 'NoSchedule untolerated', node: { taints: [{ key: 'gpu', value: 'yes', effect: 'NoSchedule' }] }, want: 'had untolerated taint gpu=yes:NoSchedule' },
  { name: 'NoExecute untolerated', node: { taints: [{ key: 'maint', effect: 'NoExecute' }] }, want: 'had untolerated taint maint:NoExecute' },
  { name: 'PreferNoSchedule never filters', node: { taints: [{ key: 'slow', effect: 'PreferNoSchedule' }] }, want: undefined },
  { name: 'Equal with the value tolerates', node: { taints: [{ key: 'gpu', value: 'yes', effect: 'NoSchedule' }] }, task: { tolerations: [{ key: 'gpu', operator: 'Equal', value: 'yes' }] }, want: undefined },
  { name: 'Equal with another value does not', node: { taints: [{ key: 'gpu', value: 'yes', effect: 'NoSchedule' }] }, task: { tolerations: [{ key: 'gpu', operator: 'Equal', value: 'no' }] }, want: 'had untolerated taint gpu=yes:NoSchedule' },
  { name: 'Exists on the key tolerates any value', node: { taints: [{ key: 'gpu', value: 'yes', effect: 'NoSchedule' }] }, task: { tolerations: [{ key: 'gpu', operator: 'Exists' }] }, want: undefined },
  { name: 'Exists with empty key tolerates everything', node: { taints: [{ key: 'a', effect: 'NoSchedule' }, { key: 'b', effect: 'NoExecute' }] }, task: { tolerations: [{ key: '', operator: 'Exists' }] }, want: undefined },
  { name: 'effect must match when given', node: { taints: [{ key: 'gpu', effect: 'NoExecute' }] }, task: { tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }] }, want: 'had untolerated taint gpu:NoExecute' },
  { name: 'each taint needs its toleration', node: { taints: [{ key: 'a', effect: 'NoSchedule' }, { key: 'b', effect: 'NoSchedule' }] }, task: { tolerations: [{ key: 'a', operator: 'Exists' }] }, want: 'had untolerated taint b:NoSchedule' },
]));

describe('filter NodeAffinity (required)', { timeout: 30_000 }, () => run(affinityRequired, [
  { name: 'no affinity passes', want: undefined },
  { name: 'required matches', node: { labels: { gpu: 'a100' } }, task: { affinity: { required: ['node.labels.gpu in (a100, h100)'] } }, want: undefined },
  { name: 'required mismatch', node: { labels: { gpu: 't4' } }, task: { affinity: { required: ['node.labels.gpu in (a100, h100)'] } }, want: 'did not match node affinity node.labels.gpu in (a100, h100)' },
  { name: 'preferred never filters', node: { labels: { gpu: 't4' } }, task: { affinity: { preferred: [{ weight: 10, expression: 'node.labels.gpu == a100' }] } }, want: undefined },
]));

describe('tolerates', { timeout: 30_000 }, () => {
  it('Equal with no value matches a taint with no value', () => {
    assert.equal(tolerates({ key: 'k', operator: 'Equal' }, { key: 'k', effect: 'NoSchedule' }), true);
  });
});

describe('reason string', { timeout: 30_000 }, () => {
  it('is exactly "0/6 nodes: 3 insufficient memory, 3 did not match node.labels.ssd == true"', () => {
    const nodes = [
      ...[1, 2, 3].map((i) => compileNode(node(`ssd${i}`, { labels: { ssd: 'true' }, memory: '1Gi' }), emptyUsage())),
      ...[1, 2, 3].map((i) => compileNode(node(`hdd${i}`, { labels: { ssd: 'false' }, memory: '16Gi' }), emptyUsage())),
    ];
    const s = compileSpec('default/db', spec({ memory: '2Gi', constraints: ['node.labels.ssd == true'] }));
    const counts = countRejections(nodes, s, ctx);
    assert.equal(formatReason(nodes.length, counts), '0/6 nodes: 3 insufficient memory, 3 did not match node.labels.ssd == true');
  });
  it('orders larger counts first, then pipeline order', () => {
    const nodes = [
      compileNode(node('a', { state: 'down' }), emptyUsage()),
      compileNode(node('b', { availability: 'drain' }), emptyUsage()),
      compileNode(node('c', { availability: 'drain' }), emptyUsage()),
      compileNode(node('d', { taints: [{ key: 'x', effect: 'NoSchedule' }] }), emptyUsage()),
    ];
    const counts = countRejections(nodes, compileSpec('default/w', spec()), ctx);
    assert.equal(formatReason(4, counts), '0/4 nodes: 2 draining, 1 not ready, 1 had untolerated taint x:NoSchedule');
  });
  it('counts each node once, for the first filter that rejects it', () => {
    const nodes = [compileNode(node('a', { state: 'down', availability: 'drain', memory: '1Mi' }), emptyUsage())];
    const counts = countRejections(nodes, compileSpec('default/w', spec({ memory: '1Gi' })), ctx);
    assert.deepEqual([...counts.keys()], ['not ready']);
  });
  it('says when there are no nodes', () => {
    assert.equal(formatReason(0, new Map()), '0/0 nodes: the cluster has no nodes');
  });
  it('runs cheap node-state filters first, as named', () => {
    assert.deepEqual(FILTERS.map((f) => f.name), ['VolumeNode', 'NodeReady', 'RuntimeReady', 'DiskPressure', 'NodeActive', 'ResourcesFit', 'Constraints', 'TaintToleration', 'NodeAffinity']);
  });
});
