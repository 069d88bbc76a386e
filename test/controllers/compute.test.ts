/**
 * Table tests of the service controller's pure decision (compute.ts) and of the reaper's.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeObject, Service, Task } from '../../src/api/kinds.js';
import type { Action } from '../../src/controllers/framework/apply.js';
import { computeServiceActions, type ServicePlan } from '../../src/controllers/service/compute.js';
import { computeReap } from '../../src/controllers/service/reaper.js';
import { RESTARTS_ANNOTATION } from '../../src/controllers/service/tasks.js';
import { counterIdentity, node, service, summarize, T0, task, taskActions } from './fixtures.js';

function run(svc: Service | undefined, tasks: Task[], nodes: NodeObject[] = [], nowMs = T0 + 60_000): ServicePlan {
  return computeServiceActions({ namespace: 'default', name: 'web', service: svc, tasks, nodes, nowMs, identity: counterIdentity() });
}

/** The object a create/update action writes. */
function objectOf(a: Action | undefined): Task {
  assert.ok(a !== undefined && a.type !== 'delete', 'a create or update action');
  return a.object as Task;
}

const ready = (over: Partial<Service['status']> = {}): Service['status'] => ({ replicas: 3, readyReplicas: 0, observedGeneration: 1, ...over });

void describe('replicated services', () => {
  void it('creates one pending task per missing slot and writes the status', () => {
    const plan = run(service('web', { replicas: 3 }), []);
    assert.deepEqual(summarize(plan.actions), [
      'create slot=1 pending', 'create slot=2 pending', 'create slot=3 pending',
      'status {"replicas":3,"readyReplicas":0,"observedGeneration":1}',
    ]);
    const created = objectOf(plan.actions[0]);
    assert.equal(created.metadata.name, 'web-1-t0001');
    assert.deepEqual(created.metadata.labels, { service: 'web' });
    assert.equal(created.spec.image, 'registry.local/demo:1');
    assert.equal(created.spec.serviceGeneration, 1);
    assert.equal(created.status?.desiredState, 'running');
    assert.equal(created.status?.ready, false);
  });

  const cases: Array<{ name: string; replicas: number; tasks: (s: Service) => Task[]; want: string[] }> = [
    { name: 'steady state: nothing to do', replicas: 3, tasks: (s) => [1, 2, 3].map((i) => task(s, i, 'running', { node: 'n1' })), want: [] },
    { name: 'scale up 2 -> 4', replicas: 4, tasks: (s) => [1, 2].map((i) => task(s, i, 'running', { node: 'n1' })), want: ['create slot=3 pending', 'create slot=4 pending'] },
    {
      name: 'scale down 5 -> 2 shuts down the highest slots',
      replicas: 2,
      tasks: (s) => [1, 2, 3, 4, 5].map((i) => task(s, i, 'running', { node: 'n1' })),
      want: ['update slot=3 desired=shutdown state=running', 'update slot=4 desired=shutdown state=running', 'update slot=5 desired=shutdown state=running'],
    },
    {
      name: 'scale down of tasks no node holds marks them shutdown at once',
      replicas: 1,
      tasks: (s) => [1, 2].map((i) => task(s, i, 'pending')),
      want: ['update slot=2 desired=shutdown state=shutdown'],
    },
    {
      name: 'a duplicate in a slot is shut down, the running one kept',
      replicas: 1,
      tasks: (s) => [task(s, 1, 'running', { node: 'n1', name: 'old' }), task(s, 1, 'pending', { name: 'dup', createdMs: T0 + 1 })],
      want: ['update slot=1 desired=shutdown state=shutdown'],
    },
    { name: 'history (desired shutdown) does not fill a slot', replicas: 1, tasks: (s) => [task(s, 1, 'failed', { node: 'n1', desired: 'shutdown' })], want: ['create slot=1 pending'] },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const s = service('web', { replicas: c.replicas });
      assert.deepEqual(taskActions(run(s, c.tasks(s), [node('n1')]).actions), c.want);
    });
  }

  void it('status counts desired-running tasks and the ready running ones; unchanged status is not written', () => {
    const s = service('web', { replicas: 3 });
    const tasks = [task(s, 1, 'running', { node: 'n1', ready: true }), task(s, 2, 'running', { node: 'n1', ready: true }), task(s, 3, 'starting', { node: 'n1' })];
    assert.deepEqual(summarize(run(s, tasks, [node('n1')]).actions), ['status {"replicas":3,"readyReplicas":2,"observedGeneration":1}']);
    s.status = ready({ readyReplicas: 2 });
    assert.deepEqual(run(s, tasks, [node('n1')]).actions, []);
  });
});

void describe('restart policy and backoff', () => {
  const ended = T0 + 1_000; // created at T0: ran 1 s, a quick failure
  const failed = (s: Service, state: 'failed' | 'complete' | 'rejected' = 'failed', restarts = 0, createdMs = T0, endedMs = ended): Task =>
    task(s, 1, state, { node: 'n1', createdMs, endedMs, restarts });
  const decide = (s: Service, t: Task, now: number): ServicePlan => run(s, [t], [node('n1')], now);
  const restartCases: Array<{ name: string; condition: 'any' | 'on-failure' | 'none'; state: 'failed' | 'complete' | 'rejected'; replaced: boolean }> = [
    { name: 'any restarts a complete task', condition: 'any', state: 'complete', replaced: true },
    { name: 'any restarts a failed task', condition: 'any', state: 'failed', replaced: true },
    { name: 'on-failure restarts a failed task', condition: 'on-failure', state: 'failed', replaced: true },
    { name: 'on-failure restarts a rejected task', condition: 'on-failure', state: 'rejected', replaced: true },
    { name: 'on-failure keeps a complete task', condition: 'on-failure', state: 'complete', replaced: false },
    { name: 'none keeps a failed task', condition: 'none', state: 'failed', replaced: false },
  ];
  for (const c of restartCases) {
    void it(c.name, () => {
      const s = service('web', { restart: { condition: c.condition, delaySeconds: 1, maxDelaySeconds: 60 } });
      s.status = ready({ replicas: 1 });
      const plan = decide(s, failed(s, c.state), ended + 60_000);
      const want = c.replaced ? [`update slot=1 desired=shutdown state=${c.state}`, 'create slot=1 pending'] : [];
      assert.deepEqual(taskActions(plan.actions).sort(), want.sort());
      if (!c.replaced) assert.equal(plan.requeueAfterMs, undefined);
    });
  }

  void it('waits delaySeconds after a first quick failure, then replaces with restarts=1', () => {
    const s = service('web');
    s.status = ready({ replicas: 1 });
    const early = decide(s, failed(s), ended + 400);
    assert.deepEqual(early.actions, []);
    assert.equal(early.requeueAfterMs, 600);
    const due = decide(s, failed(s), ended + 1_000);
    const created = due.actions.find((a) => a.type === 'create')?.object as Task;
    assert.equal(created.metadata.annotations?.[RESTARTS_ANNOTATION], '1');
  });

  void it('doubles the delay per consecutive quick failure of the slot', () => {
    const s = service('web');
    s.status = ready({ replicas: 1 });
    const t = failed(s, 'failed', 2); // third quick failure: 1 s * 2^2
    assert.equal(decide(s, t, ended + 3_999).requeueAfterMs, 1);
    const plan = decide(s, t, ended + 4_000);
    const created = plan.actions.find((a) => a.type === 'create')?.object as Task;
    assert.equal(created.metadata.annotations?.[RESTARTS_ANNOTATION], '3');
  });

  void it('caps the delay at maxDelaySeconds', () => {
    const s = service('web', { restart: { condition: 'any', delaySeconds: 1, maxDelaySeconds: 8 } });
    s.status = ready({ replicas: 1 });
    const t = failed(s, 'failed', 12);
    assert.equal(decide(s, t, ended).requeueAfterMs, 8_000);
    assert.equal(taskActions(decide(s, t, ended + 8_000).actions).length, 2);
  });

  void it('resets the backoff after a task ran for 10 s', () => {
    const s = service('web');
    s.status = ready({ replicas: 1 });
    const t = failed(s, 'failed', 6, T0, T0 + 20_000);
    assert.equal(decide(s, t, T0 + 20_000).requeueAfterMs, 1_000);
    const plan = decide(s, t, T0 + 21_000);
    const created = plan.actions.find((a) => a.type === 'create')?.object as Task;
    assert.equal(created.metadata.annotations?.[RESTARTS_ANNOTATION], '1');
  });
});

void describe('service spec changes (generation)', () => {
  const gen2 = (parallelism: number): Service => {
    const s = service('web', { replicas: 3, image: 'registry.local/demo:2', update: { strategy: 'rolling', parallelism, delaySeconds: 0, failureAction: 'pause', order: 'stop-first', monitorSeconds: 0, maxFailureRatio: 0, progressDeadlineSeconds: 300, scaleDownDelaySeconds: 30, steps: [] } }, 2);
    s.status = ready({ observedGeneration: 2 });
    return s;
  };
  void it('replaces one outdated task at a time with parallelism 1', () => {
    const s = gen2(1);
    const old = [1, 2, 3].map((i) => task(service('web', { replicas: 3 }), i, 'running', { node: 'n1', gen: 1 }));
    const plan = run(s, old, [node('n1')]);
    assert.deepEqual(taskActions(plan.actions), ['create slot=1 pending', 'update slot=1 desired=shutdown state=running']);
    assert.equal((objectOf(plan.actions[0])).spec.image, 'registry.local/demo:2');
    // The new slot-1 task is not running yet: nothing more.
    const inFlight = [task(s, 1, 'assigned', { node: 'n1', gen: 2 }), ...old.slice(1)];
    assert.deepEqual(taskActions(run(s, inFlight, [node('n1')]).actions), []);
    // Once it runs, slot 2 follows.
    const next = [task(s, 1, 'running', { node: 'n1', gen: 2 }), ...old.slice(1)];
    assert.deepEqual(taskActions(run(s, next, [node('n1')]).actions), ['create slot=2 pending', 'update slot=2 desired=shutdown state=running']);
  });
  void it('a new generation that only scaled (or changed update/restart policy) replaces nothing', () => {
    const s = service('web', { replicas: 4, restart: { condition: 'none', delaySeconds: 3, maxDelaySeconds: 9 } }, 3);
    const old = service('web', { replicas: 3 });
    const tasks = [1, 2, 3].map((i) => task(old, i, 'running', { node: 'n1' }));
    assert.deepEqual(taskActions(run(s, tasks, [node('n1')]).actions), ['create slot=4 pending']);
  });
  void it('replaces two at a time with parallelism 2', () => {
    const s = gen2(2);
    const old = [1, 2, 3].map((i) => task(service('web', { replicas: 3 }), i, 'running', { node: 'n1', gen: 1 }));
    assert.equal(run(s, old, [node('n1')]).actions.filter((a) => a.type === 'create').length, 2);
  });
});

void describe('global services', () => {
  const glob = (constraints: string[] = []): Service => service('agent', { mode: 'global', placement: { constraints, spread: [], tolerations: [] } });
  const on = (s: Service, n: string, state: 'running' | 'failed' = 'running'): Task => task(s, 0, state, { node: n, name: `z${n}` });
  const cases: Array<{ name: string; constraints?: string[]; nodes: NodeObject[]; tasks: (s: Service) => Task[]; want: string[] }> = [
    { name: 'one task per ready active node', nodes: [node('n1'), node('n2')], tasks: () => [], want: ['create node=n1 assigned', 'create node=n2 assigned'] },
    { name: 'a joining node gets a task', nodes: [node('n1'), node('n2')], tasks: (s) => [on(s, 'n1')], want: ['create node=n2 assigned'] },
    { name: 'a node that left: its task is orphaned and shut down', nodes: [node('n1')], tasks: (s) => [on(s, 'n1'), on(s, 'gone')], want: ['update node=gone desired=shutdown state=orphaned'] },
    { name: 'constraints pick the nodes', constraints: ['node.labels.ssd == true'], nodes: [node('n1', { labels: { ssd: 'true' } }), node('n2')], tasks: () => [], want: ['create node=n1 assigned'] },
    { name: 'a node whose labels no longer match loses its task', constraints: ['node.labels.ssd == true'], nodes: [node('n1')], tasks: (s) => [on(s, 'n1')], want: ['update node=n1 desired=shutdown state=running'] },
    { name: 'a down or paused node keeps its task but gets no new one', nodes: [node('n1', { state: 'down' }), node('n2', { availability: 'pause' }), node('n3', { state: 'down' })], tasks: (s) => [on(s, 'n1'), on(s, 'n2')], want: [] },
    { name: 'a draining node loses its task', nodes: [node('n1', { availability: 'drain' })], tasks: (s) => [on(s, 'n1')], want: ['update node=n1 desired=shutdown state=running'] },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const s = glob(c.constraints);
      assert.deepEqual(taskActions(run(s, c.tasks(s), c.nodes).actions), c.want);
    });
  }
  void it('names global tasks after the node, as a DNS label of at most 63 chars', () => {
    const long = 'node-' + 'x'.repeat(80);
    const plan = run(glob(), [], [node(long)]);
    const name = (objectOf(plan.actions[0])).metadata.name;
    assert.ok(name.length <= 63, name);
    assert.match(name, /^agent-node-x+-t0001$/);
  });
});

void describe('service deletion', () => {
  void it('sets every task desired shutdown; a task no node holds is shut down at once', () => {
    const s = service('web', { replicas: 2 });
    const plan = run(undefined, [task(s, 1, 'running', { node: 'n1' }), task(s, 2, 'pending')], [node('n1')]);
    assert.deepEqual(summarize(plan.actions), ['update slot=1 desired=shutdown state=running', 'update slot=2 desired=shutdown state=shutdown']);
  });
  void it('the reaper deletes ended and never-assigned tasks of a deleted service, and keeps the others', () => {
    const s = service('web', { replicas: 3 });
    const tasks = [task(s, 1, 'running', { node: 'n1', desired: 'shutdown' }), task(s, 2, 'shutdown', { node: 'n1', desired: 'shutdown' }), task(s, 3, 'pending')];
    assert.deepEqual(summarize(computeReap(undefined, tasks)).sort(), ['delete web-2-x2shu', 'delete web-3-x3pen']);
  });
  void it('tasks of an earlier incarnation (same name, new uid) are shut down and reaped', () => {
    const old = service('web');
    const fresh = { ...service('web'), metadata: { ...service('web').metadata, uid: 'uid-web-2' } };
    fresh.status = ready({ replicas: 1 });
    const plan = run(fresh, [task(old, 1, 'running', { node: 'n1' })], [node('n1')]);
    assert.deepEqual(taskActions(plan.actions).sort(), ['create slot=1 pending', 'update slot=1 desired=shutdown state=running']);
    assert.deepEqual(summarize(computeReap(fresh, [task(old, 1, 'shutdown', { node: 'n1', desired: 'shutdown' })])), ['delete web-1-x1shu']);
  });
});

void describe('history', () => {
  void it('keeps the 5 newest ended tasks per slot and deletes older ones', () => {
    const s = service('web', { replicas: 2 });
    const history = Array.from({ length: 7 }, (_, i) => task(s, 1, 'failed', { node: 'n1', desired: 'shutdown', endedMs: T0 + i * 1000, name: `h${i}` }));
    const slot2 = Array.from({ length: 5 }, (_, i) => task(s, 2, 'failed', { node: 'n1', desired: 'shutdown', name: `k${i}` }));
    const live = task(s, 1, 'running', { node: 'n1' });
    assert.deepEqual(summarize(computeReap(s, [...history, ...slot2, live])), ['delete web-1-h1', 'delete web-1-h0']);
  });
  void it('keeps 5 per node for global services', () => {
    const s = service('agent', { mode: 'global' });
    const h = (n: string, i: number): Task => task(s, 0, 'failed', { node: n, desired: 'shutdown', endedMs: T0 + i, name: `${n}h${i}` });
    const tasks = [...Array.from({ length: 6 }, (_, i) => h('n1', i)), ...Array.from({ length: 5 }, (_, i) => h('n2', i))];
    assert.deepEqual(summarize(computeReap(s, tasks)), ['delete agent-n1-n1h0']);
  });
});
