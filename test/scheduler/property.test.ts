/**
 * Property tests (fast-check) of the whole pipeline on random clusters and random pending
 * services: it never places beyond capacity (cpu, memory, pids, host ports), never on a node that
 * is not ready and active, never against a constraint or an untolerated NoSchedule/NoExecute
 * taint; unplaced counts add up to the cluster; hierarchical spread stays within one at every
 * level when capacity allows, and nodes of a group within one of each other.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { matchConstraint, parseConstraint } from '../../src/api/constraint.js';
import type { NodeObject, Task } from '../../src/api/kinds.js';
import { parseBytes, parseCpuMillis } from '../../src/api/quantity.js';
import { tolerates } from '../../src/scheduler/filters.js';
import { schedule } from '../../src/scheduler/index.js';
import { node, replicas, task } from './fixtures.js';

const LABELS = { dc: ['a', 'b', 'c'], ssd: ['true', 'false'], zone: ['1', '2'] };

const nodeArb = fc.record({
  dc: fc.constantFrom(...LABELS.dc), ssd: fc.constantFrom(...LABELS.ssd, undefined), zone: fc.constantFrom(...LABELS.zone),
  cpuMillis: fc.integer({ min: 0, max: 4000 }), memoryMi: fc.integer({ min: 0, max: 4096 }), pids: fc.option(fc.integer({ min: 0, max: 200 }), { nil: undefined }),
  state: fc.constantFrom('ready', 'ready', 'ready', 'down'), availability: fc.constantFrom('active', 'active', 'active', 'pause', 'drain'),
  taint: fc.constantFrom(undefined, undefined, { key: 'gpu', effect: 'NoSchedule' as const }, { key: 'maint', effect: 'NoExecute' as const }, { key: 'slow', effect: 'PreferNoSchedule' as const }),
});

const serviceArb = fc.record({
  replicas: fc.integer({ min: 1, max: 12 }),
  cpuMillis: fc.integer({ min: 0, max: 1500 }), memoryMi: fc.integer({ min: 0, max: 1500 }), pids: fc.option(fc.integer({ min: 1, max: 80 }), { nil: undefined }),
  publish: fc.option(fc.constantFrom(80, 443), { nil: undefined }),
  constraints: fc.subarray(['node.labels.ssd == true', 'node.labels.dc != c', 'node.labels.zone in (1)', 'node.labels.dc not in (a)', 'node.role == worker']),
  tolerations: fc.subarray([{ key: 'gpu', operator: 'Exists' as const }, { key: 'maint', operator: 'Exists' as const, effect: 'NoExecute' as const }]),
  spread: fc.constantFrom<string[]>([], ['node.labels.dc'], ['node.labels.dc', 'node.labels.zone']),
  strategy: fc.constantFrom(undefined, 'spread' as const, 'binpack' as const),
});

type NodeGen = typeof nodeArb extends fc.Arbitrary<infer T> ? T : never;
type ServiceGen = typeof serviceArb extends fc.Arbitrary<infer T> ? T : never;

function buildNodes(gen: NodeGen[]): NodeObject[] {
  return gen.map((g, i) => node(`n${i}`, {
    labels: { dc: g.dc, zone: `${g.dc}${g.zone}`, ...(g.ssd === undefined ? {} : { ssd: g.ssd }) },
    cpu: `${g.cpuMillis}m`, memory: `${g.memoryMi}Mi`, ...(g.pids === undefined ? {} : { pids: g.pids }),
    state: g.state as 'ready' | 'down', availability: g.availability as 'active',
    taints: g.taint === undefined ? [] : [g.taint],
  }));
}

function buildPending(services: ServiceGen[]): Task[] {
  return services.flatMap((s, i) => replicas(`svc${i}`, s.replicas, {
    cpu: `${s.cpuMillis}m`, memory: `${s.memoryMi}Mi`, ...(s.pids === undefined ? {} : { pids: s.pids }),
    ...(s.publish === undefined ? {} : { publish: [s.publish] }),
    constraints: s.constraints, tolerations: s.tolerations, spread: s.spread, ...(s.strategy === undefined ? {} : { strategy: s.strategy }),
  }));
}

/** Tasks already running: random services on random nodes, possibly overcommitting. */
const existingArb = fc.array(fc.record({ node: fc.nat(), cpuMillis: fc.integer({ min: 0, max: 2000 }), memoryMi: fc.integer({ min: 0, max: 2000 }), publish: fc.option(fc.constant(80), { nil: undefined }) }), { maxLength: 10 });

describe('pipeline properties', () => {
  it('never exceeds capacity, never breaks a filter; unplaced counts add up', { timeout: 60_000 }, () => {
    fc.assert(fc.property(fc.array(nodeArb, { minLength: 1, maxLength: 12 }), fc.array(serviceArb, { minLength: 1, maxLength: 4 }), existingArb, fc.integer(), (ng, sg, eg, seed) => {
      const nodes = buildNodes(ng);
      const existing = eg.map((e, i) => task(`old${i}`, { service: 'old', node: `n${e.node % nodes.length}`, cpu: `${e.cpuMillis}m`, memory: `${e.memoryMi}Mi`, ...(e.publish === undefined ? {} : { publish: [e.publish] }) }));
      const pending = buildPending(sg);
      const r = schedule({ nodes, tasks: existing }, pending, { seed });
      assert.equal(r.placements.length + r.unplaced.length, pending.length);
      const byId = new Map(pending.map((t) => [`default/${t.metadata.name}`, t]));
      const byName = new Map(nodes.map((n) => [n.metadata.name, n]));
      const placedOn = new Map<string, Task[]>();
      for (const p of r.placements) {
        const t = byId.get(p.task) as Task;
        const n = byName.get(p.node) as NodeObject;
        assert.equal(n.status?.state, 'ready');
        assert.equal(n.spec.availability, 'active');
        for (const c of t.spec.template.placement.constraints) assert.ok(matchConstraint(parseConstraint(c), { name: n.metadata.name, role: n.spec.role, labels: n.metadata.labels }), `${c} on ${p.node}`);
        for (const taint of n.spec.taints) if (taint.effect !== 'PreferNoSchedule') assert.ok(t.spec.template.placement.tolerations.some((tol) => tolerates(tol, taint)), `taint ${taint.key} on ${p.node}`);
        placedOn.set(p.node, [...(placedOn.get(p.node) ?? []), t]);
      }
      for (const [name, news] of placedOn) {
        const n = byName.get(name) as NodeObject;
        const all = [...existing.filter((e) => e.spec.node === name), ...news];
        // A dimension a new task asks for must not go over; a task asking nothing of it fits anyway (kube's rule).
        const bounded = (f: (t: Task) => number, cap: number | undefined, what: string): void => {
          if (cap === undefined || !news.some((t) => f(t) > 0)) return;
          assert.ok(all.reduce((a, t) => a + f(t), 0) <= cap, `${what} on ${name}`);
        };
        const alloc = n.status?.allocatable;
        bounded((t) => parseCpuMillis(t.spec.template.resources.requests.cpu ?? '0'), parseCpuMillis(alloc?.cpu ?? '0'), 'cpu');
        bounded((t) => parseBytes(t.spec.template.resources.requests.memory ?? '0'), parseBytes(alloc?.memory ?? '0'), 'memory');
        bounded((t) => t.spec.template.resources.requests.pids ?? 0, alloc?.pids, 'pids');
        const ports = all.flatMap((t) => t.spec.template.ports.map((p) => p.publish));
        for (const t of news) for (const p of t.spec.template.ports) assert.equal(ports.filter((x) => x === p.publish).length, 1, `host port ${p.publish} on ${name}`);
      }
      for (const u of r.unplaced) {
        if (u.reason.startsWith('invalid')) continue;
        assert.equal(Object.values(u.counts).reduce((a, b) => a + b, 0), nodes.length, u.reason);
        assert.ok(u.reason.startsWith(`0/${nodes.length} nodes: `), u.reason);
      }
    }), { numRuns: 300 });
  });

  it('keeps hierarchical spread within one at every level when capacity allows', { timeout: 60_000 }, () => {
    const clusterArb = fc.array(fc.record({ dc: fc.constantFrom('a', 'b', 'c'), zone: fc.constantFrom('1', '2', '3') }), { minLength: 1, maxLength: 30 });
    fc.assert(fc.property(clusterArb, fc.integer({ min: 1, max: 60 }), fc.integer(), fc.constantFrom(1, 4, 0), (cg, n, seed, scoreLimit) => {
      const nodes = cg.map((g, i) => node(`n${i}`, { labels: { dc: g.dc, zone: `${g.dc}${g.zone}` } }));
      const r = schedule({ nodes, tasks: [] }, replicas('web', n, { spread: ['node.labels.dc', 'node.labels.zone'] }), { seed, scoreLimit });
      assert.equal(r.placements.length, n);
      const labelsOf = new Map(nodes.map((x) => [x.metadata.name, x.metadata.labels]));
      const count = (key: (name: string) => string | undefined, within: (name: string) => boolean): number[] => {
        const m = new Map<string, number>();
        for (const x of nodes) if (within(x.metadata.name)) m.set(key(x.metadata.name) as string, 0);
        for (const p of r.placements) if (within(p.node)) m.set(key(p.node) as string, (m.get(key(p.node) as string) ?? 0) + 1);
        return [...m.values()];
      };
      const within1 = (xs: number[], what: string): void => assert.ok(Math.max(...xs) - Math.min(...xs) <= 1, `${what}: ${xs.join('/')}`);
      within1(count((x) => labelsOf.get(x)?.dc, () => true), 'datacenters');
      for (const dc of new Set(cg.map((g) => g.dc))) {
        within1(count((x) => labelsOf.get(x)?.zone, (x) => labelsOf.get(x)?.dc === dc), `zones of ${dc}`);
      }
      for (const zone of new Set(nodes.map((x) => x.metadata.labels.zone))) {
        within1(count((x) => x, (x) => labelsOf.get(x)?.zone === zone), `nodes of ${zone}`);
      }
    }), { numRuns: 300 });
  });
});
