/**
 * The placement loop's fast paths must give the same answers as the named filters and scorers
 * they stand for: scoreIfFits = fits() then strategyScore(); passesStatic = every static filter's
 * reject() passing. Property tests over random nodes (capacity, usage, ports, state, taints,
 * labels, conditions) and random specs (requests, ports, constraints, tolerations, affinity).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compileNode, compileSpec, emptyUsage } from '../../src/scheduler/compile.js';
import { FILTERS, fits, passesStatic } from '../../src/scheduler/filters.js';
import { scoreIfFits, strategyScore } from '../../src/scheduler/scorers.js';
import { node, spec } from './fixtures.js';

const nodeArb = fc.record({
  cpu: fc.option(fc.integer({ min: 0, max: 4000 }), { nil: undefined }), memoryMi: fc.option(fc.integer({ min: 0, max: 4096 }), { nil: undefined }),
  pids: fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }),
  usedCpu: fc.integer({ min: 0, max: 5000 }), usedMi: fc.integer({ min: 0, max: 5000 }), usedPids: fc.integer({ min: 0, max: 60 }),
  port: fc.option(fc.constantFrom(80, 443), { nil: undefined }),
  state: fc.constantFrom('ready' as const, 'down' as const), availability: fc.constantFrom('active' as const, 'pause' as const, 'drain' as const),
  taint: fc.constantFrom(undefined, { key: 'gpu', effect: 'NoSchedule' as const }, { key: 'slow', effect: 'PreferNoSchedule' as const }, { key: 'm', effect: 'NoExecute' as const }),
  ssd: fc.constantFrom('true', 'false', undefined),
  condition: fc.constantFrom(undefined, { type: 'RuntimeReady', status: false, reason: 'NoCgroupHierarchy' }, { type: 'DiskPressure', status: true, message: 'data dir full' }, { type: 'DiskPressure', status: false }),
});

const specArb = fc.record({
  cpu: fc.option(fc.integer({ min: 0, max: 3000 }), { nil: undefined }), memoryMi: fc.option(fc.integer({ min: 0, max: 3000 }), { nil: undefined }),
  pids: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }), publish: fc.subarray([80, 443]),
  constraints: fc.subarray(['node.labels.ssd == true', 'node.labels.ssd != false', 'node.role == worker']),
  tolerations: fc.subarray([{ key: 'gpu', operator: 'Exists' as const }, { key: 'm', operator: 'Exists' as const, effect: 'NoExecute' as const }]),
  required: fc.subarray(['node.labels.ssd in (true)']),
});

type NodeGen = typeof nodeArb extends fc.Arbitrary<infer T> ? T : never;
type SpecGen = typeof specArb extends fc.Arbitrary<infer T> ? T : never;

function build(n: NodeGen, s: SpecGen): { info: ReturnType<typeof compileNode>; sp: ReturnType<typeof compileSpec> } {
  const usage = { ...emptyUsage(), cpuMillis: n.usedCpu, memoryBytes: n.usedMi * 1024 * 1024, pids: n.usedPids, ports: new Map(n.port === undefined ? [] : [[n.port, 1]]) };
  const obj = node('n1', {
    labels: n.ssd === undefined ? {} : { ssd: n.ssd }, state: n.state, availability: n.availability, taints: n.taint === undefined ? [] : [n.taint],
    ...(n.pids === undefined ? {} : { pids: n.pids }),
  });
  if (n.condition !== undefined && obj.status !== undefined) obj.status.conditions = [n.condition];
  // Leave cpu or memory out of allocatable to cover unbounded dimensions (Infinity).
  const alloc = obj.status?.allocatable as unknown as Record<string, unknown>;
  if (n.cpu === undefined) delete alloc.cpu;
  else alloc.cpu = `${n.cpu}m`;
  if (n.memoryMi === undefined) delete alloc.memory;
  else alloc.memory = `${n.memoryMi}Mi`;
  const tpl = spec({
    ...(s.cpu === undefined ? {} : { cpu: `${s.cpu}m` }), ...(s.memoryMi === undefined ? {} : { memory: `${s.memoryMi}Mi` }), ...(s.pids === undefined ? {} : { pids: s.pids }),
    publish: s.publish, constraints: s.constraints, tolerations: s.tolerations, affinity: { required: s.required },
  });
  return { info: compileNode(obj, usage), sp: compileSpec('default/web', tpl) };
}

describe('scheduler fast paths', { timeout: 60_000 }, () => {
  it('scoreIfFits is fits() then strategyScore(), for both strategies', () => {
    fc.assert(fc.property(nodeArb, specArb, fc.boolean(), (n, s, binpack) => {
      const { info, sp } = build(n, s);
      const want = fits(info, sp) ? strategyScore(info, sp, binpack ? 'binpack' : 'spread') : -1;
      assert.equal(scoreIfFits(info, sp, binpack), want);
    }), { numRuns: 2000 });
  });

  it('passesStatic is every static filter passing', () => {
    const ctx = { nowMs: 0, heartbeatTimeoutMs: undefined };
    fc.assert(fc.property(nodeArb, specArb, (n, s) => {
      const { info, sp } = build(n, s);
      const want = FILTERS.filter((f) => !f.dynamic).every((f) => f.reject(info, sp, ctx) === undefined);
      assert.equal(passesStatic(info, sp, ctx), want);
    }), { numRuns: 2000 });
  });
});
