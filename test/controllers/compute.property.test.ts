/**
 * Property tests (fast-check) of the service controller's decision: for random sequences of
 * task state changes, replica counts, spec changes and time steps, applying each decision
 * keeps at most `replicas` tasks desired running, one per slot, within 1..replicas; and a
 * decision applied once leaves nothing more to do at the same instant (idempotence).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TASK_STATES, type Service, type Task, type TaskState } from '../../src/api/kinds.js';
import type { Action } from '../../src/controllers/framework/apply.js';
import { computeServiceActions } from '../../src/controllers/service/compute.js';
import { computeReap, HISTORY_LIMIT } from '../../src/controllers/service/reaper.js';
import { counterIdentity, node, service, T0 } from './fixtures.js';

type Step =
  | { op: 'scale'; replicas: number }
  | { op: 'state'; pick: number; state: TaskState; ready: boolean }
  | { op: 'spec'; condition: 'any' | 'on-failure' | 'none' }
  | { op: 'time'; ms: number }
  | { op: 'image'; tag: number; parallelism: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('scale' as const), replicas: fc.integer({ min: 0, max: 6 }) }),
  fc.record({ op: fc.constant('state' as const), pick: fc.nat(), state: fc.constantFrom(...TASK_STATES), ready: fc.boolean() }),
  fc.record({ op: fc.constant('spec' as const), condition: fc.constantFrom('any' as const, 'on-failure' as const, 'none' as const) }),
  fc.record({ op: fc.constant('time' as const), ms: fc.integer({ min: 0, max: 70_000 }) }),
  fc.record({ op: fc.constant('image' as const), tag: fc.integer({ min: 1, max: 3 }), parallelism: fc.integer({ min: 0, max: 2 }) }),
);

/** A tiny store model: applies actions with expected revisions like the real one. */
class Model {
  rev = 100;
  tasks = new Map<string, Task>();
  constructor(public svc: Service) {}

  apply(actions: Action[]): void {
    for (const a of actions) {
      const r = ++this.rev;
      if (a.type === 'delete') {
        assert.equal(this.tasks.get(a.key.name)?.metadata.revision, a.expectedRevision);
        this.tasks.delete(a.key.name);
      } else if (a.object.kind === 'Service') {
        assert.equal(a.type === 'update' && a.expectedRevision, this.svc.metadata.revision);
        this.svc = { ...(a.object as Service), metadata: { ...a.object.metadata, revision: r } };
      } else {
        const t = a.object as Task;
        if (a.type === 'create') assert.equal(this.tasks.has(t.metadata.name), false, 'unique names');
        else assert.equal(this.tasks.get(t.metadata.name)?.metadata.revision, a.expectedRevision);
        this.tasks.set(t.metadata.name, { ...t, metadata: { ...t.metadata, revision: r } });
      }
    }
  }

  specChange(over: Partial<Service['spec']>): void {
    const m = this.svc.metadata;
    this.svc = { ...this.svc, spec: { ...this.svc.spec, ...over }, metadata: { ...m, generation: m.generation + 1, revision: ++this.rev } };
  }
}

function checkInvariants(m: Model): void {
  const running = [...m.tasks.values()].filter((t) => t.spec.desiredState === 'running');
  assert.ok(running.length <= m.svc.spec.replicas, `${running.length} desired running > replicas ${m.svc.spec.replicas}`);
  const slots = running.map((t) => t.spec.slot);
  assert.equal(new Set(slots).size, slots.length, `slots unique: ${slots.join(',')}`);
  for (const s of slots) assert.ok(s >= 1 && s <= m.svc.spec.replicas, `slot ${s} within 1..${m.svc.spec.replicas}`);
  const perSlot = new Map<number, number>();
  for (const t of m.tasks.values()) if (t.spec.desiredState === 'shutdown' && ['complete', 'failed', 'shutdown', 'rejected', 'orphaned'].includes(t.status?.state ?? '')) perSlot.set(t.spec.slot, (perSlot.get(t.spec.slot) ?? 0) + 1);
  for (const [slot, n] of perSlot) assert.ok(n <= HISTORY_LIMIT, `slot ${slot} keeps ${n} ended tasks`);
}

void describe('service controller properties', () => {
  void it('never more than replicas desired running, unique slots, history bounded, idempotent', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), fc.array(stepArb, { maxLength: 40 }), (replicas, steps) => {
        const m = new Model(service('web', { replicas }));
        const identity = counterIdentity();
        const nodes = [node('n1'), node('n2')];
        let now = T0;
        const decide = (): Action[] => computeServiceActions({ namespace: 'default', name: 'web', service: m.svc, tasks: [...m.tasks.values()], nodes, nowMs: now, identity }).actions;
        for (const step of steps) {
          if (step.op === 'scale') m.specChange({ replicas: step.replicas });
          if (step.op === 'spec') m.specChange({ restart: { condition: step.condition, delaySeconds: 1, maxDelaySeconds: 30 } });
          if (step.op === 'time') now += step.ms;
          if (step.op === 'image') m.specChange({ image: `registry.local/demo:${step.tag}`, update: { ...m.svc.spec.update, parallelism: step.parallelism } });
          if (step.op === 'state' && m.tasks.size > 0) {
            const all = [...m.tasks.values()];
            const t = all[step.pick % all.length] as Task;
            const node = t.spec.node === '' && step.state !== 'pending' && step.state !== 'new' ? 'n1' : t.spec.node;
            m.tasks.set(t.metadata.name, { ...t, spec: { ...t.spec, node }, status: { ...(t.status as Task['status'] & object), state: step.state, ready: step.ready, timestamp: new Date(now).toISOString() }, metadata: { ...t.metadata, revision: ++m.rev } });
          }
          m.apply(decide());
          m.apply(computeReap(m.svc, [...m.tasks.values()]));
          checkInvariants(m);
          assert.deepEqual(decide().map((a) => `${a.type} ${a.reason}`), [], 'a second decision at the same instant has nothing to do');
        }
      }),
      { numRuns: 300 },
    );
  });
});
