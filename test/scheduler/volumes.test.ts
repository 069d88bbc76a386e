/**
 * Named volumes in the scheduler: the VolumeNode filter (table), VolumeBook resolution, and
 * whole passes: a missing volume is not placed (with the reason), an unbound one binds to the
 * node of the first placement and the rest of the pass follows, a bound one pins its tasks and
 * says why when its node cannot take them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Task, Volume, VolumeRef } from '../../src/api/kinds.js';
import { compileNode, compileSpec, emptyUsage } from '../../src/scheduler/compile.js';
import { volumeNode } from '../../src/scheduler/filters.js';
import { schedule, Scheduler } from '../../src/scheduler/index.js';
import { VolumeBook, volumeKeysOf, volumeNodeReason } from '../../src/scheduler/volumes.js';
import { node, spec, T0, task, type TaskOpts } from './fixtures.js';

const ctx = { nowMs: T0, heartbeatTimeoutMs: undefined };

function vol(name: string, boundTo?: string, namespace = 'default'): Volume {
  return {
    kind: 'Volume',
    metadata: { name, namespace, uid: `uid-${name}`, labels: {}, revision: 1, generation: 1, creationTimestamp: new Date(T0).toISOString() },
    spec: { driver: 'local' },
    ...(boundTo === undefined ? {} : { status: { node: boundTo, state: 'bound' as const } }),
  };
}

function withVolumes(t: Task, volumes: VolumeRef[]): Task {
  t.spec.template.volumes = volumes;
  return t;
}

const data: VolumeRef = { type: 'volume', source: 'data', target: '/data', readOnly: false };
const logs: VolumeRef = { type: 'volume', source: 'logs', target: '/logs', readOnly: false };
const scratch: VolumeRef = { type: 'tmpfs', source: '', target: '/cache', readOnly: false, size: '64Mi' };

function vtask(name: string, volumes: VolumeRef[], o: TaskOpts = {}): Task {
  return withVolumes(task(name, o), volumes);
}

void describe('filter VolumeNode', { timeout: 30_000 }, () => {
  const rows: { name: string; nodeName: string; volumeNode?: { volume: string; node: string }; want: string | undefined }[] = [
    { name: 'no bound volume passes any node', nodeName: 'n1', want: undefined },
    { name: 'the volume node passes', nodeName: 'n2', volumeNode: { volume: 'data', node: 'n2' }, want: undefined },
    { name: 'another node is rejected', nodeName: 'n1', volumeNode: { volume: 'data', node: 'n2' }, want: 'did not hold volume data (it lives on node n2)' },
  ];
  for (const r of rows) {
    void it(r.name, () => {
      const n = compileNode(node(r.nodeName), emptyUsage());
      const s = { ...compileSpec('default/db', spec()), ...(r.volumeNode === undefined ? {} : { volumeNode: r.volumeNode }) };
      assert.equal(volumeNode.reject(n, s, ctx), r.want);
    });
  }
});

void describe('VolumeBook', { timeout: 30_000 }, () => {
  void it('resolves none, missing, free, pin and two nodes', () => {
    const b = new VolumeBook();
    b.upsert(vol('data'));
    b.upsert(vol('logs', 'n1'));
    b.upsert(vol('other', 'n2'));
    assert.deepEqual(b.resolve([]), { kind: 'none' });
    assert.deepEqual(b.resolve(['default/nope']), { kind: 'refuse', reason: 'volume nope does not exist' });
    assert.deepEqual(b.resolve(['default/a', 'default/b']), { kind: 'refuse', reason: 'volumes a, b do not exist' });
    assert.deepEqual(b.resolve(['default/data']), { kind: 'free', unbound: ['default/data'] });
    assert.deepEqual(b.resolve(['default/data', 'default/logs']), { kind: 'pin', volume: 'logs', node: 'n1', unbound: ['default/data'] });
    assert.deepEqual(b.resolve(['default/logs', 'default/other']), { kind: 'refuse', reason: 'volumes logs and other live on different nodes (n1, n2)' });
  });
  void it('a tentative binding survives an event without a node, and forget undoes it', () => {
    const b = new VolumeBook();
    b.upsert(vol('data'));
    b.bind('default/data', 'n1');
    b.upsert(vol('data'));
    assert.deepEqual(b.get('default/data'), { node: 'n1', tentative: true });
    b.forget('default/data');
    assert.deepEqual(b.get('default/data'), {});
    b.upsert(vol('data', 'n2'));
    b.forget('default/data');
    assert.deepEqual(b.get('default/data'), { node: 'n2' });
  });
  void it('volume keys: named volumes only, per namespace, deduplicated', () => {
    const s = { ...spec(), volumes: [data, scratch, { ...data, target: '/again' }, logs] };
    assert.deepEqual(volumeKeysOf('prod', s), ['prod/data', 'prod/logs']);
  });
  void it('reasons for the volume node', () => {
    assert.equal(volumeNodeReason('data', 'node2', 'not ready', 'down'), 'volume data lives on node node2, which is down');
    assert.equal(volumeNodeReason('data', 'node2', 'insufficient memory', 'ready'), 'volume data lives on node node2, which has insufficient memory');
    assert.equal(volumeNodeReason('data', 'node2', 'draining', 'ready'), 'volume data lives on node node2, which is draining');
    assert.equal(volumeNodeReason('data', 'node2', 'missing', undefined), 'volume data lives on node node2, which does not exist');
  });
});

void describe('scheduling with volumes', { timeout: 30_000 }, () => {
  const nodes = [node('n1'), node('n2'), node('n3')];

  void it('a task naming a missing volume is not placed, and says why', () => {
    const r = schedule({ nodes, tasks: [] }, [vtask('db-1', [data], { service: 'db' })]);
    assert.deepEqual(r.placements, []);
    assert.equal(r.unplaced[0]?.reason, 'volume data does not exist');
  });

  void it('an unbound volume binds to the first placement; the rest of the pass follows it', () => {
    const pending = [1, 2, 3, 4].map((i) => vtask(`db-${i}`, [data], { service: 'db' }));
    const r = schedule({ nodes, tasks: [], volumes: [vol('data')] }, pending);
    assert.equal(r.placements.length, 4);
    const where = new Set(r.placements.map((p) => p.node));
    assert.equal(where.size, 1, 'every task on one node');
    assert.deepEqual(r.bindings, [{ volume: 'default/data', node: r.placements[0]?.node }]);
  });

  void it('two services sharing an unbound volume in one pass land on one node', () => {
    const pending = [vtask('a-1', [data], { service: 'a' }), vtask('b-1', [data], { service: 'b', createdMs: T0 + 1 })];
    const r = schedule({ nodes, tasks: [], volumes: [vol('data')] }, pending);
    assert.equal(r.placements.length, 2);
    assert.equal(r.placements[0]?.node, r.placements[1]?.node);
    assert.equal(r.bindings?.length, 1);
  });

  void it('a bound volume pins its tasks to its node; no new binding', () => {
    const pending = [1, 2, 3].map((i) => vtask(`db-${i}`, [data, scratch], { service: 'db' }));
    const r = schedule({ nodes, tasks: [], volumes: [vol('data', 'n2')] }, pending);
    assert.deepEqual(r.placements.map((p) => p.node), ['n2', 'n2', 'n2']);
    assert.equal(r.bindings, undefined);
  });

  void it('the volume node down: "volume data lives on node n2, which is down"', () => {
    const r = schedule({ nodes: [node('n1'), node('n2', { state: 'down' })], tasks: [], volumes: [vol('data', 'n2')] }, [vtask('db-1', [data], { service: 'db' })]);
    assert.deepEqual(r.placements, []);
    assert.equal(r.unplaced[0]?.reason, 'volume data lives on node n2, which is down');
  });

  void it('the volume node full: "... which has insufficient memory"', () => {
    const r = schedule({ nodes: [node('n1'), node('n2', { memory: '1Gi' })], tasks: [], volumes: [vol('data', 'n2')] }, [vtask('db-1', [data], { service: 'db', memory: '2Gi' })]);
    assert.equal(r.unplaced[0]?.reason, 'volume data lives on node n2, which has insufficient memory');
    assert.deepEqual(r.unplaced[0]?.counts, { 'insufficient memory': 1 });
  });

  void it('the volume node gone, and a preset node other than the volume node', () => {
    const gone = schedule({ nodes: [node('n1')], tasks: [], volumes: [vol('data', 'n9')] }, [vtask('db-1', [data], { service: 'db' })]);
    assert.equal(gone.unplaced[0]?.reason, 'volume data lives on node n9, which does not exist');
    const preset = schedule({ nodes, tasks: [], volumes: [vol('data', 'n2')] }, [vtask('g-1', [data], { service: 'g', node: 'n1', state: 'pending' })]);
    assert.equal(preset.unplaced[0]?.reason, 'volume data lives on node n2, not on n1');
  });

  void it('the incremental scheduler keeps its binding across passes and forgets a failed one', () => {
    const s = Scheduler.fromState({ nodes, tasks: [], volumes: [vol('data')] });
    const first = s.schedule([vtask('db-1', [data], { service: 'db' })], { now: T0 });
    const at = first.placements[0]?.node as string;
    const second = s.schedule([vtask('db-2', [data], { service: 'db', generation: 2 })], { now: T0 });
    assert.equal(second.placements[0]?.node, at);
    assert.equal(second.bindings, undefined);
    s.bindingFailed('default/data');
    assert.deepEqual(s.volumeBinding('default/data'), {});
  });

  void it('global services: eligible nodes are the volume node only', () => {
    const s = Scheduler.fromState({ nodes, tasks: [], volumes: [vol('data', 'n3')] });
    const svcSpec = { ...spec(), mode: 'global' as const, volumes: [data] };
    const service = { kind: 'Service' as const, metadata: { name: 'g', namespace: 'default', uid: 'u', labels: {}, revision: 1, generation: 1, creationTimestamp: '' }, spec: svcSpec };
    assert.deepEqual(s.eligibleNodes(service), ['n3']);
  });
});
