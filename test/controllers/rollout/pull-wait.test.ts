/**
 * A rollout whose new tasks cannot pull their image (registry down, docs/reliability.md fault 4),
 * in the pure simulation: it waits with a "waiting: image ... cannot be pulled" message far past
 * its progress deadline, neither fails nor rolls back, and completes once pulls work again.
 * Plus the pure helpers of src/api/pull-wait.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPullWaiting, pullRetryDelayMs, pullWaitMessage, pullWaitReason, pullWaitSummary } from '../../../src/api/pull-wait.js';
import { serviceSpec } from '../fixtures.js';
import { Simulation } from './simulate.js';

const V1 = 'registry.local/web:1';
const V2 = 'registry.local/web:2';

void describe('rollout: registry down', () => {
  for (const order of ['start-first', 'stop-first'] as const) {
    it(`${order}: waits past the progress deadline, no rollback, completes when pulls work`, () => {
      const sim = new Simulation({ replicas: 2, image: V1, update: { ...serviceSpec().update, parallelism: 1, order, monitorSeconds: 1, progressDeadlineSeconds: 5, failureAction: 'rollback' } });
      assert.ok(sim.run((s) => s.svc.status?.revision === 1 && s.live().length === 2 && s.live().every((t) => t.status?.ready)));
      sim.registryDown.add(V2);
      sim.applySpec({ image: V2 });
      sim.run(() => false, 120); // 60 s of ticks, 12 times the deadline
      const r = sim.svc.status?.rollout;
      assert.equal(r?.state, 'progressing', r?.message);
      assert.match(r?.message ?? '', /^waiting: image registry\.local\/web:2 cannot be pulled: registry unreachable \(1\/\d new tasks retrying\); /);
      assert.equal(sim.svc.status?.revision, 1);
      assert.equal(sim.svc.spec.image, V2, 'the spec was not rolled back');
      const v1Live = sim.live().filter((t) => t.spec.image === V1 && t.status?.state === 'running').length;
      assert.equal(v1Live, order === 'start-first' ? 2 : 1, 'start-first keeps every v1 task; stop-first one batch less');
      sim.registryDown.delete(V2);
      assert.ok(sim.run((s) => s.svc.status?.rollout?.state === 'complete', 100), sim.svc.status?.rollout?.message);
      assert.equal(sim.svc.status?.revision, 2);
    });
  }
});

void describe('pull-wait helpers', () => {
  it('backoff doubles from 1 s and is capped at 20 s', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 30].map((n) => pullRetryDelayMs(n)), [1000, 2000, 4000, 8000, 16000, 20000, 20000]);
  });

  it('reasons and messages', () => {
    assert.equal(pullWaitReason('GET manifest x: registry 127.0.0.1:5000 unreachable: connect ECONNREFUSED 127.0.0.1:5000'), 'registry unreachable');
    assert.equal(pullWaitReason('GET blob: registry answered 503 (Service Unavailable)'), 'registry answered 503');
    const m = pullWaitMessage('127.0.0.1:5000/web:2', 'GET manifest: registry 127.0.0.1:5000 unreachable: connect ECONNREFUSED', 3, 4000);
    assert.equal(m, 'waiting: image 127.0.0.1:5000/web:2 cannot be pulled: registry unreachable (attempt 3, next try in 4s): GET manifest: registry 127.0.0.1:5000 unreachable: connect ECONNREFUSED');
    assert.equal(pullWaitSummary(m), 'waiting: image 127.0.0.1:5000/web:2 cannot be pulled: registry unreachable');
    assert.ok(isPullWaiting({ status: { state: 'preparing', desiredState: 'running', ready: false, timestamp: '', message: m } }));
    assert.ok(!isPullWaiting({ status: { state: 'preparing', desiredState: 'running', ready: false, timestamp: '', message: 'pulling x' } }));
  });
});
