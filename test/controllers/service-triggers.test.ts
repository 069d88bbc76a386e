/**
 * Table tests of which task and node changes wake the service controller and the reaper
 * (src/controllers/service/triggers.ts), and a property test that a change the service loop
 * ignores never changes its decision.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MOVING_ANNOTATION, TASK_STATES, type Task, type TaskState } from '../../src/api/kinds.js';
import { computeServiceActions } from '../../src/controllers/service/compute.js';
import { nodeFactsChanged, reaperCaresAboutTaskUpdate, serviceCaresAboutTaskUpdate } from '../../src/controllers/service/triggers.js';
import { counterIdentity, node, service, summarize, T0, task } from './fixtures.js';

const svc = service('web', { replicas: 3 });
const exists = (n: string): boolean => n === 'n1' || n === 'n2';
const withStatus = (t: Task, over: Partial<NonNullable<Task['status']>>): Task => ({ ...t, status: { ...(t.status as NonNullable<Task['status']>), ...over } });

void describe('service controller triggers', () => {
  const base = task(svc, 1, 'preparing', { node: 'n1' });
  const cases: Array<{ name: string; next: Task; service: boolean; reaper: boolean }> = [
    { name: 'preparing -> starting', next: withStatus(base, { state: 'starting' }), service: false, reaper: false },
    { name: 'a new status message', next: withStatus(base, { message: 'pulling 50%' }), service: false, reaper: false },
    { name: 'starting -> running', next: withStatus(base, { state: 'running' }), service: true, reaper: false },
    { name: 'ready', next: withStatus(base, { state: 'running', ready: true }), service: true, reaper: false },
    { name: 'failed', next: withStatus(base, { state: 'failed' }), service: true, reaper: true },
    { name: 'desired shutdown', next: { ...base, spec: { ...base.spec, desiredState: 'shutdown' } }, service: true, reaper: true },
    { name: 'annotated moving', next: { ...base, metadata: { ...base.metadata, annotations: { ...base.metadata.annotations, [MOVING_ANNOTATION]: 'now' } } }, service: true, reaper: false },
    { name: 'placed on an existing node', next: { ...base, spec: { ...base.spec, node: 'n2' } }, service: false, reaper: true },
    { name: 'placed on a node that does not exist', next: { ...base, spec: { ...base.spec, node: 'gone' } }, service: true, reaper: true },
  ];
  for (const c of cases) {
    void it(`${c.name}: service ${c.service ? 'wakes' : 'sleeps'}, reaper ${c.reaper ? 'wakes' : 'sleeps'}`, () => {
      assert.equal(serviceCaresAboutTaskUpdate(base, c.next, exists), c.service);
      assert.equal(reaperCaresAboutTaskUpdate(base, c.next), c.reaper);
    });
  }

  void it('an ended task that ends again (new state or time) wakes both', () => {
    const ended = task(svc, 1, 'failed', { node: 'n1', endedMs: T0 + 1000 });
    assert.equal(serviceCaresAboutTaskUpdate(ended, withStatus(ended, { state: 'orphaned' }), exists), true);
    assert.equal(serviceCaresAboutTaskUpdate(ended, withStatus(ended, { timestamp: new Date(T0 + 2000).toISOString() }), exists), true);
    assert.equal(reaperCaresAboutTaskUpdate(ended, withStatus(ended, { timestamp: new Date(T0 + 2000).toISOString() })), true);
  });

  void it('a heartbeat does not change node facts; labels, availability, taints and state do', () => {
    const n = node('n1');
    const beat = { ...n, status: { ...(n.status as NonNullable<typeof n.status>), heartbeat: new Date(T0).toISOString() } };
    assert.equal(nodeFactsChanged(n, beat), false);
    assert.equal(nodeFactsChanged(n, node('n1', { labels: { ssd: 'true' } })), true);
    assert.equal(nodeFactsChanged(n, node('n1', { availability: 'drain' })), true);
    assert.equal(nodeFactsChanged(n, node('n1', { state: 'down' })), true);
    assert.equal(nodeFactsChanged(n, { ...n, spec: { ...n.spec, taints: [{ key: 'k', effect: 'NoExecute' }] } }), true);
  });
});

void describe('ignored task changes never change the decision (property)', () => {
  const states = TASK_STATES.filter((s) => s !== 'new') as TaskState[];
  void it('whenever serviceCaresAboutTaskUpdate says no, compute decides the same before and after', () => {
    const nodes = [node('n1'), node('n2')];
    const decide = (tasks: Task[]): string[] =>
      summarize(computeServiceActions({ namespace: 'default', name: 'web', service: svc, tasks, nodes, nowMs: T0 + 60_000, identity: counterIdentity() }).actions);
    fc.assert(fc.property(
      fc.array(fc.record({ slot: fc.integer({ min: 1, max: 4 }), state: fc.constantFrom(...states), node: fc.constantFrom('', 'n1', 'n2', 'gone'), ready: fc.boolean(), desired: fc.constantFrom('running' as const, 'shutdown' as const) }), { minLength: 1, maxLength: 6 }),
      fc.nat(), fc.constantFrom(...states), fc.constantFrom('', 'n1', 'n2', 'gone'), fc.boolean(), fc.string({ maxLength: 3 }),
      (specs, which, state, nodeName, ready, message) => {
        const tasks = specs.map((s, i) => {
          const t = task(svc, s.slot, s.state, { node: s.node, ready: s.ready, desired: s.desired, name: `t${i}`, createdMs: T0 + i });
          return s.state === 'pending' ? { ...t, spec: { ...t.spec, node: '' } } : t;
        });
        // The sync of the last add ran: only look at states the loop had settled.
        const settled = decide(tasks);
        if (settled.some((a) => !a.startsWith('status'))) return;
        const i = which % tasks.length;
        const old = tasks[i] as Task;
        const next: Task = { ...old, spec: { ...old.spec, node: nodeName }, status: { ...(old.status as NonNullable<Task['status']>), state, ready, message } };
        if (serviceCaresAboutTaskUpdate(old, next, (n) => n === 'n1' || n === 'n2')) return;
        const after = [...tasks];
        after[i] = next;
        assert.deepEqual(decide(after), settled);
      },
    ), { numRuns: 2000 });
  });
});
