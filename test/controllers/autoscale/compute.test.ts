/** The autoscaler's decision (HPA algorithm), the replicas it owns, and the autoscale validation. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AutoscaleSpec, ServiceSpec } from '../../../src/api/kinds.js';
import { decide, type AutoscaleInput } from '../../../src/controllers/autoscale/compute.js';
import { withAutoscaledReplicas } from '../../../src/api/autoscale.js';
import { validateObject } from '../../../src/api/validate/index.js';
import { issuesOf } from '../../api/issues.js';

const NOW = 1_800_000_000_000;
const cpu70: AutoscaleSpec = { min: 1, max: 10, metrics: [{ cpu: { targetUtilization: 70 } }], scaleUpStabilizationSeconds: 0, scaleDownStabilizationSeconds: 300 };

function input(over: Partial<AutoscaleInput>): AutoscaleInput {
  return { spec: cpu70, current: 2, tasks: [], request: { cpuCores: 0.5, memoryBytes: 100e6 }, custom: new Map(), history: [], nowMs: NOW, ...over };
}
const use = (cpuCores: number, memoryBytes = 0): { cpuCores: number; memoryBytes: number } => ({ cpuCores, memoryBytes });

describe('autoscale decision', () => {
  it('desired = ceil(current * utilization / target), clamped to max', () => {
    // 2 tasks at 0.49 cores of 0.5 requested: 98% vs 70% -> ceil(2 * 1.4) = 3.
    const d = decide(input({ tasks: [use(0.49), use(0.49)] }));
    assert.equal(d.status.desired, 3);
    assert.match(d.status.reason, /^cpu 98% of request \(target 70%\): 2 -> 3$/);
    assert.deepEqual(d.status.metrics, [{ name: 'cpu', current: 98, target: 70 }]);
    assert.equal(decide(input({ spec: { ...cpu70, max: 2 }, tasks: [use(0.5), use(0.5)] })).status.desired, 2);
    assert.match(decide(input({ spec: { ...cpu70, max: 2 }, tasks: [use(0.5), use(0.5)] })).status.reason, /at max 2/);
  });

  it('within the 10% tolerance nothing changes', () => {
    const d = decide(input({ tasks: [use(0.37), use(0.37)] })); // 74% vs 70%: ratio 1.06
    assert.equal(d.status.desired, 2);
    assert.match(d.status.reason, /within tolerance/);
  });

  it('scale-down waits for the highest proposal of its window, scale-up for the lowest of its own', () => {
    const idle = [use(0.01), use(0.01)];
    const waiting = decide(input({ tasks: idle, history: [{ atMs: NOW - 100_000, replicas: 2 }] }));
    assert.equal(waiting.status.desired, 2, 'a proposal of 2 within the last 300 s holds the size');
    assert.match(waiting.status.reason, /waiting: scale-down stabilization 300s/);
    const later = decide(input({ tasks: idle, history: [{ atMs: NOW - 301_000, replicas: 2 }] }));
    assert.equal(later.status.desired, 1, 'min 1');
    const upSlow = { ...cpu70, scaleUpStabilizationSeconds: 60 };
    assert.equal(decide(input({ spec: upSlow, tasks: [use(0.5), use(0.5)], history: [{ atMs: NOW - 30_000, replicas: 2 }] })).status.desired, 2);
    assert.equal(decide(input({ spec: upSlow, tasks: [use(0.5), use(0.5)], history: [{ atMs: NOW - 30_000, replicas: 3 }] })).status.desired, 3);
  });

  it('the largest proposal of several metrics wins; a metric without data proposes nothing', () => {
    const spec: AutoscaleSpec = { ...cpu70, metrics: [{ cpu: { targetUtilization: 70 } }, { memory: { targetUtilization: 50 } }, { custom: { name: 'queue', target: 10 } }] };
    const d = decide(input({ spec, tasks: [use(0.35, 100e6), use(0.35, 100e6)] })); // cpu 70% ok; memory 100% vs 50% -> 4
    assert.equal(d.status.desired, 4);
    assert.match(d.status.reason, /^memory 100% of request/);
    assert.deepEqual(d.status.metrics.map((m) => m.name), ['cpu', 'memory', 'queue']);
    assert.equal(d.status.metrics[2]?.current, undefined);
    const none = decide(input({ spec, tasks: [] }));
    assert.equal(none.status.desired, 2);
    assert.equal(none.proposal, undefined);
    assert.match(none.status.reason, /cpu: no samples yet; memory: no samples yet; queue: no value yet: keeping 2/);
  });

  it('a custom value is the service\'s total: desired = ceil(total / target per task)', () => {
    const spec: AutoscaleSpec = { ...cpu70, metrics: [{ custom: { name: 'queue', target: 10 } }] };
    assert.equal(decide(input({ spec, current: 1, custom: new Map([['queue', 45]]) })).status.desired, 5);
    assert.equal(decide(input({ spec, current: 5, custom: new Map([['queue', 45]]) })).status.desired, 5, 'within tolerance at 9 per task');
  });
});

describe('replicas of an autoscaled service', () => {
  const spec = (replicas: number, autoscale?: Partial<AutoscaleSpec>): ServiceSpec => ({ mode: 'replicated', replicas, ...(autoscale !== undefined ? { autoscale: { ...cpu70, ...autoscale } } : {}) }) as ServiceSpec;
  it('stay the autoscaler\'s on a re-apply, start within range, come back to the user without autoscale', () => {
    assert.equal(withAutoscaledReplicas(spec(7, {}), spec(1, {})).replicas, 7);
    assert.equal(withAutoscaledReplicas(spec(7, {}), spec(1, { max: 5 })).replicas, 5);
    assert.equal(withAutoscaledReplicas(undefined, spec(0, { min: 2 })).replicas, 2);
    assert.equal(withAutoscaledReplicas(spec(7, {}), spec(3)).replicas, 3);
  });
});

describe('autoscale validation', () => {
  const svc = (autoscale: unknown, resources: unknown = { requests: { cpu: '100m' } }, mode = 'replicated'): unknown => ({ kind: 'Service', metadata: { name: 'web' }, spec: { image: 'busybox:1', mode, resources, autoscale } });
  it('accepts the CONTRACT example and fills the defaults', () => {
    const o = validateObject(svc({ min: 1, max: 10, metrics: [{ cpu: { targetUtilization: 70 } }, { custom: { name: 'queue', target: 100 } }] }));
    assert.deepEqual((o.spec as ServiceSpec).autoscale, { min: 1, max: 10, metrics: [{ cpu: { targetUtilization: 70 } }, { custom: { name: 'queue', target: 100 } }], scaleUpStabilizationSeconds: 0, scaleDownStabilizationSeconds: 300 });
  });
  it('refuses what cannot work, naming the field', () => {
    assert.deepEqual(issuesOf(svc({ min: 3, max: 2, metrics: [{ cpu: { targetUtilization: 70 } }] })).map((i) => i.path), ['spec.autoscale.max']);
    assert.deepEqual(issuesOf(svc({ max: 2, metrics: [] })).map((i) => i.path), ['spec.autoscale.metrics']);
    assert.deepEqual(issuesOf(svc({ max: 2, metrics: [{ cpu: { targetUtilization: 70 }, memory: { targetUtilization: 70 } }] }, { requests: { cpu: '100m', memory: '32Mi' } })).map((i) => i.path), ['spec.autoscale.metrics[0]']);
    const noReq = issuesOf(svc({ max: 2, metrics: [{ memory: { targetUtilization: 70 } }] }));
    assert.deepEqual(noReq.map((i) => i.path), ['spec.autoscale.metrics[0].memory']);
    assert.match(noReq[0]?.expected ?? '', /resources\.requests\.memory/);
    assert.deepEqual(issuesOf(svc({ max: 2, metrics: [{ cpu: { targetUtilization: 70 } }] }, { requests: { cpu: '1' } }, 'global')).map((i) => i.path), ['spec.autoscale']);
  });
});
