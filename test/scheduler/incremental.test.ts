/**
 * The incremental form: a Scheduler fed random node and task events holds the same usage as one
 * rebuilt from the final state (property); the label index narrows candidates; batches of one
 * pass that share an eligible set still see each other's placements.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { NodeObject, Task } from '../../src/api/kinds.js';
import { ClusterIndex } from '../../src/scheduler/cluster.js';
import { compileSpec } from '../../src/scheduler/compile.js';
import { schedule, Scheduler } from '../../src/scheduler/index.js';
import { node, replicas, spec, task } from './fixtures.js';

type Event =
  | { op: 'node'; n: number; ssd: boolean; cpu: number }
  | { op: 'unnode'; n: number }
  | { op: 'task'; t: number; n: number; cpu: number; state: 'assigned' | 'running' | 'failed' | 'pending' }
  | { op: 'untask'; t: number };

const eventArb: fc.Arbitrary<Event> = fc.oneof(
  fc.record({ op: fc.constant('node' as const), n: fc.nat(5), ssd: fc.boolean(), cpu: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('unnode' as const), n: fc.nat(5) }),
  fc.record({ op: fc.constant('task' as const), t: fc.nat(10), n: fc.nat(5), cpu: fc.integer({ min: 0, max: 3 }), state: fc.constantFrom('assigned' as const, 'running' as const, 'failed' as const, 'pending' as const) }),
  fc.record({ op: fc.constant('untask' as const), t: fc.nat(10) }),
);

describe('incremental Scheduler', () => {
  it('fed events, holds what a rebuild from the final state holds', { timeout: 60_000 }, () => {
    fc.assert(fc.property(fc.array(eventArb, { maxLength: 40 }), (events) => {
      const s = new Scheduler();
      const nodes = new Map<string, NodeObject>();
      const tasks = new Map<string, Task>();
      for (const e of events) {
        if (e.op === 'node') {
          const n = node(`n${e.n}`, { labels: { ssd: String(e.ssd) }, cpu: String(e.cpu) });
          nodes.set(n.metadata.name, n);
          s.upsertNode(n);
        } else if (e.op === 'unnode') {
          nodes.delete(`n${e.n}`);
          s.removeNode(`n${e.n}`);
        } else if (e.op === 'task') {
          // Tasks are immutable: their requests never change, only their state (and node while pending).
          const prior = tasks.get(`t${e.t}`);
          const cpu = prior !== undefined ? (prior.spec.template.resources.requests.cpu ?? '0') : String(e.cpu);
          const t = task(`t${e.t}`, { service: `s${e.t % 3}`, node: `n${e.n}`, cpu, state: e.state });
          // Tasks are immutable once placed: only a state change of the same placement is realistic.
          const old = tasks.get(t.metadata.name);
          if (old !== undefined && old.status?.state !== 'pending' && old.spec.node !== t.spec.node) continue;
          // A placed task never goes back to pending (observeTask ignores late pending events on purpose).
          if (old !== undefined && old.status?.state !== 'pending' && e.state === 'pending') continue;
          tasks.set(t.metadata.name, t);
          s.observeTask(t);
        } else {
          tasks.delete(`t${e.t}`);
          s.taskEnded(`default/t${e.t}`);
        }
      }
      const fresh = Scheduler.fromState({ nodes: [...nodes.values()], tasks: [...tasks.values()] });
      for (const name of nodes.keys()) {
        const a = s.usageOf(name);
        const b = fresh.usageOf(name);
        assert.equal(a?.cpuMillis ?? 0, b?.cpuMillis ?? 0, name);
        assert.equal(a?.tasks ?? 0, b?.tasks ?? 0, name);
        assert.deepEqual([...(a?.byService ?? [])].sort(), [...(b?.byService ?? [])].sort(), name);
      }
      const pending = replicas('new', 4, { cpu: '1', constraints: ['node.labels.ssd == true'] });
      // Ties may break differently when nodes were indexed in another order: compare outcomes.
      const a = s.schedule(pending, { seed: 1 });
      const b = fresh.schedule(pending, { seed: 1 });
      assert.equal(a.placements.length, b.placements.length);
      assert.deepEqual(a.unplaced.map((u) => u.reason), b.unplaced.map((u) => u.reason));
    }), { numRuns: 300 });
  });
});

describe('label index', () => {
  it('narrows candidates to the most selective positive constraint', () => {
    const idx = new ClusterIndex();
    for (let i = 0; i < 100; i++) idx.upsertNode(node(`n${i}`, { labels: { ssd: String(i < 5), zone: `z${i % 4}` } }));
    const count = (constraints: string[]): number => [...idx.candidates(compileSpec('default/x', spec({ constraints })))].length;
    assert.equal(count([]), 100);
    assert.equal(count(['node.labels.ssd == true']), 5);
    assert.equal(count(['node.labels.zone in (z1, z2)', 'node.labels.ssd == true']), 5);
    assert.equal(count(['node.labels.zone in (z1, z2)']), 50);
    assert.equal(count(['node.labels.ssd != true']), 100, 'negative constraints do not narrow');
    assert.equal(count(['node.name == n7']), 1);
    assert.equal(count(['node.labels.nope == x']), 0);
    idx.upsertNode(node('n1', { labels: { ssd: 'false' } }));
    assert.equal(count(['node.labels.ssd == true']), 4, 're-indexed on change');
    idx.removeNode('n2');
    assert.equal(count(['node.labels.ssd == true']), 3);
  });
});

describe('batches sharing an eligible set in one pass', () => {
  it('see the capacity earlier batches took', () => {
    const nodes = [node('n1', { labels: { ssd: 'true' }, cpu: '2' }), node('n2', { labels: { ssd: 'false' } })];
    const pending = [...replicas('a', 2, { cpu: '1', constraints: ['node.labels.ssd == true'] }), ...replicas('b', 1, { cpu: '1', constraints: ['node.labels.ssd == true'] })];
    const r = schedule({ nodes, tasks: [] }, pending);
    assert.equal(r.placements.length, 2);
    assert.deepEqual(r.unplaced.map((u) => u.reason), ['0/2 nodes: 1 insufficient cpu, 1 did not match node.labels.ssd == true']);
  });
});
