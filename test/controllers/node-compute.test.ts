/**
 * Table tests of the node lifecycle decision (node/compute.ts, pure, clock injected), of the
 * service controller's side of it (moving tasks get replacements; global tasks respect taints)
 * and of the agent's side (a returning node stops the containers of its orphaned tasks).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MOVING_ANNOTATION, type NodeObject, type Service, type Task, type Taint } from '../../src/api/kinds.js';
import { planTask } from '../../src/agent/tasks/plan.js';
import { registerNode } from '../../src/agent/node/registration.js';
import type { ApiObject } from '../../src/api/object.js';
import type { Action } from '../../src/controllers/framework/apply.js';
import { computeNodeActions, type NodeLifecyclePlan } from '../../src/controllers/node/compute.js';
import { computeServiceActions } from '../../src/controllers/service/compute.js';
import { counterIdentity, node, service, T0, task, taskActions } from './fixtures.js';

const GRACE = 6_000;
const MOVE = 60_000;
const web = service('web', { replicas: 3 });

interface Case {
  node?: NodeObject;
  tasks?: Task[];
  lastMs?: number | undefined;
  nowMs?: number;
  services?: Service[];
}

function decide(c: Case): NodeLifecyclePlan {
  const all = c.tasks ?? [];
  const services = c.services ?? [web];
  return computeNodeActions({
    node: c.node ?? beating('n1'),
    tasks: all.filter((t) => t.spec.node === (c.node ?? beating('n1')).metadata.name),
    lastHeartbeatMs: 'lastMs' in c ? c.lastMs : T0,
    nowMs: c.nowMs ?? T0 + 1_000,
    gracePeriodMs: GRACE,
    moveTimeoutMs: MOVE,
    serviceOf: (_ns, name) => services.find((s) => s.metadata.name === name),
    slotTasks: (_ns, svc, slot) => all.filter((t) => t.spec.service === svc && t.spec.slot === slot),
  });
}

function beating(name: string, over: { availability?: 'active' | 'pause' | 'drain'; state?: 'ready' | 'down'; labels?: Record<string, string>; taints?: Taint[] } = {}): NodeObject {
  const n = node(name, over);
  n.status = { ...(n.status as NonNullable<NodeObject['status']>), heartbeat: new Date(T0).toISOString() };
  n.spec = { ...n.spec, taints: over.taints ?? [] };
  return n;
}

/** `kind name field=value ...` per action, for the fields these decisions change. */
function show(actions: readonly Action[]): string[] {
  return actions.map((a) => {
    if (a.type === 'delete') return `delete ${a.key.name}`;
    if (a.object.kind === 'Node') return `node ${a.object.metadata.name} state=${(a.object as NodeObject).status?.state}`;
    const t = a.object as Task;
    const moving = t.metadata.annotations?.[MOVING_ANNOTATION] !== undefined ? ' moving' : '';
    return `task ${t.metadata.name} desired=${t.spec.desiredState} state=${t.status?.state}${moving}`;
  });
}

const on = (slot: number, state: Task['status'] extends infer S ? S extends { state: infer X } ? X : never : never, opts: Parameters<typeof task>[3] = {}, svc = web): Task =>
  task(svc, slot, state, { node: 'n1', name: `s${slot}${state}`, ...opts });

void describe('node lifecycle: heartbeats', () => {
  void it('a fresh heartbeat: nothing to do, look again when the grace period ends', () => {
    const plan = decide({ tasks: [on(1, 'running')], lastMs: T0, nowMs: T0 + 1_000 });
    assert.deepEqual(plan.actions, []);
    assert.equal(plan.requeueAfterMs, GRACE - 1_000 + 1);
  });

  void it('exactly at the grace period the node is still up; one ms later it is down', () => {
    assert.deepEqual(decide({ lastMs: T0, nowMs: T0 + GRACE }).actions, []);
    assert.deepEqual(show(decide({ lastMs: T0, nowMs: T0 + GRACE + 1 }).actions), ['node n1 state=down']);
  });

  void it('down: the node says since when; its live tasks are orphaned and desired shutdown, ended ones stay', () => {
    const tasks = [on(1, 'running'), on(2, 'assigned'), on(3, 'failed', { desired: 'shutdown' }), task(service('mon', { mode: 'global' }), 0, 'running', { node: 'n1', name: 'g' })];
    const plan = decide({ tasks, lastMs: T0, nowMs: T0 + 10_000 });
    assert.deepEqual(show(plan.actions), [
      'node n1 state=down',
      'task web-1-s1running desired=shutdown state=orphaned',
      'task web-2-s2assigned desired=shutdown state=orphaned',
      'task mon-n1-g desired=shutdown state=orphaned',
    ]);
    const n = plan.actions[0]?.type === 'update' ? (plan.actions[0].object as NodeObject) : undefined;
    assert.equal(n?.status?.message, `no heartbeat since ${new Date(T0).toISOString()} (grace period 6s)`);
    const t = plan.actions[1]?.type === 'update' ? (plan.actions[1].object as Task) : undefined;
    assert.equal(t?.status?.message, 'node n1 is down');
    assert.equal(t?.status?.desiredState, 'shutdown');
    assert.equal(plan.actions[1]?.type === 'update' ? plan.actions[1].expectedRevision : -1, 20, 'written with the read revision');
  });

  void it('a node that never sent a heartbeat is left alone (not managed by an agent)', () => {
    assert.deepEqual(decide({ lastMs: undefined, nowMs: T0 + 3_600_000, tasks: [on(1, 'running')] }), { actions: [], requeueAfterMs: undefined });
  });

  void it('a node already down: tasks that still arrive on it are orphaned, the node is not rewritten', () => {
    const plan = decide({ node: beating('n1', { state: 'down' }), tasks: [on(1, 'assigned')], nowMs: T0 + 60_000 });
    assert.deepEqual(show(plan.actions), ['task web-1-s1assigned desired=shutdown state=orphaned']);
  });
});

void describe('node lifecycle: drain, labels, taints', () => {
  void it('drain: running replicated tasks move (replacement first), not-yet-running ones stop, global ones are left to the service controller', () => {
    const tasks = [on(1, 'running'), on(2, 'starting'), on(3, 'running', { desired: 'shutdown' }), task(service('mon', { mode: 'global' }), 0, 'running', { node: 'n1', name: 'g' })];
    const plan = decide({ node: beating('n1', { availability: 'drain' }), tasks, lastMs: undefined });
    assert.deepEqual(show(plan.actions), ['task web-1-s1running desired=running state=running moving', 'task web-2-s2starting desired=shutdown state=starting']);
    assert.equal(plan.requeueAfterMs, MOVE, 'woken at the move deadline');
    assert.equal(decide({ node: beating('n1', { availability: 'drain' }), tasks }).requeueAfterMs, GRACE - 1_000 + 1, 'or at the heartbeat deadline when sooner');
  });

  void it('cordon (pause) moves nothing', () => {
    assert.deepEqual(decide({ node: beating('n1', { availability: 'pause' }), tasks: [on(1, 'running')] }).actions, []);
  });

  const movingTask = (sinceMs = T0): Task => {
    const t = on(1, 'running');
    t.metadata.annotations = { ...t.metadata.annotations, [MOVING_ANNOTATION]: new Date(sinceMs).toISOString() };
    return t;
  };
  const cases: Array<{ name: string; other?: Task; nowMs?: number; services?: Service[]; moving?: Task; want: string[] }> = [
    { name: 'replacement still pending: wait', other: task(web, 1, 'pending', { name: 'r' }), want: [] },
    { name: 'replacement running: the moving task is shut down', other: task(web, 1, 'running', { node: 'n2', name: 'r' }), want: ['task web-1-s1running desired=shutdown state=running moving'] },
    { name: 'deadline passed without a running replacement: shut down anyway', other: task(web, 1, 'pending', { name: 'r' }), nowMs: T0 + MOVE, want: ['task web-1-s1running desired=shutdown state=running moving'] },
    { name: 'service scaled below its slot: shut down', services: [service('web', { replicas: 0 })], want: ['task web-1-s1running desired=shutdown state=running moving'] },
    { name: 'service deleted: shut down', services: [], want: ['task web-1-s1running desired=shutdown state=running moving'] },
  ];
  for (const c of cases) {
    void it(`moving task: ${c.name}`, () => {
      const tasks = [c.moving ?? movingTask(), ...(c.other === undefined ? [] : [c.other])];
      // The node is active again (uncordoned): a move once started still finishes.
      const nowMs = c.nowMs ?? T0 + 1_000;
      assert.deepEqual(show(decide({ tasks, nowMs, lastMs: nowMs, services: c.services }).actions), c.want);
    });
  }

  void it('moving task: the message names the replacement', () => {
    const plan = decide({ tasks: [movingTask(), task(web, 1, 'running', { node: 'n2', name: 'r' })] });
    const t = plan.actions[0]?.type === 'update' ? (plan.actions[0].object as Task) : undefined;
    assert.equal(t?.status?.message, 'moved off node n1: replaced by web-1-r on node n2');
  });

  void it('labels no longer matching a constraint: the task moves; still matching: it stays', () => {
    const ssd = service('db', { replicas: 1, placement: { constraints: ['node.labels.ssd == true'], spread: [], tolerations: [] } });
    const t = on(1, 'running', {}, ssd);
    assert.deepEqual(show(decide({ node: beating('n1', { labels: { ssd: 'true' } }), tasks: [t], services: [ssd] }).actions), []);
    assert.deepEqual(show(decide({ node: beating('n1', { labels: { ssd: 'false' } }), tasks: [t], services: [ssd] }).actions), ['task db-1-s1running desired=running state=running moving']);
  });

  void it('NoExecute taints evict replicated tasks without a toleration at once; NoSchedule does not', () => {
    const tolerant = service('tol', { replicas: 1, placement: { constraints: [], spread: [], tolerations: [{ key: 'gpu', operator: 'Exists' }] } });
    const tasks = [on(1, 'running'), on(1, 'running', { name: 'tol' }, tolerant)];
    const tainted = (effect: Taint['effect']): NodeObject => beating('n1', { taints: [{ key: 'gpu', value: 'a100', effect }] });
    assert.deepEqual(show(decide({ node: tainted('NoSchedule'), tasks }).actions), []);
    const plan = decide({ node: tainted('NoExecute'), tasks });
    assert.deepEqual(show(plan.actions), ['task web-1-s1running desired=shutdown state=running']);
    const t = plan.actions[0]?.type === 'update' ? (plan.actions[0].object as Task) : undefined;
    assert.equal(t?.status?.message, 'evicted: node n1 has taint gpu=a100:NoExecute');
  });
});

void describe("the service controller's side", () => {
  const run = (svc: Service, tasks: Task[], nodes: NodeObject[]): string[] =>
    taskActions(computeServiceActions({ namespace: 'default', name: svc.metadata.name, service: svc, tasks, nodes, nowMs: T0 + 60_000, identity: counterIdentity() }).actions);

  void it('a moving task no longer holds its slot: a replacement is created and the moving one is kept running', () => {
    const one = service('web', { replicas: 1 });
    const t = task(one, 1, 'running', { node: 'n1' });
    t.metadata.annotations = { ...t.metadata.annotations, [MOVING_ANNOTATION]: new Date(T0).toISOString() };
    assert.deepEqual(run(one, [t], [node('n1', { availability: 'drain' }), node('n2')]), ['create slot=1 pending']);
  });

  void it('orphaned tasks (desired shutdown) are replaced at once, whatever the restart condition', () => {
    for (const condition of ['any', 'on-failure', 'none'] as const) {
      const svc = service('web', { replicas: 1, restart: { condition, delaySeconds: 5, maxDelaySeconds: 60 } });
      const t = task(svc, 1, 'orphaned', { node: 'n1', desired: 'shutdown', endedMs: T0 + 59_000 });
      assert.deepEqual(run(svc, [t], [node('n1', { state: 'down' }), node('n2')]), ['create slot=1 pending'], condition);
    }
  });

  void it('global services: no task on a NoSchedule node, eviction from a NoExecute node, unless tolerated', () => {
    const mon = service('mon', { mode: 'global' });
    const tainted = (effect: Taint['effect']): NodeObject => ({ ...node('n1'), spec: { availability: 'active', role: 'worker', taints: [{ key: 'k', effect }] } });
    assert.deepEqual(run(mon, [], [tainted('NoSchedule'), node('n2')]), ['create node=n2 assigned']);
    assert.deepEqual(run(mon, [task(mon, 0, 'running', { node: 'n1' })], [tainted('NoSchedule')]), [], 'NoSchedule keeps what runs');
    assert.deepEqual(run(mon, [task(mon, 0, 'running', { node: 'n1' })], [tainted('NoExecute')]), ['update node=n1 desired=shutdown state=running']);
    const tol = service('mon', { mode: 'global', placement: { constraints: [], spread: [], tolerations: [{ key: 'k', operator: 'Exists' }] } });
    assert.deepEqual(run(tol, [], [tainted('NoExecute')]), ['create node=n1 assigned']);
  });
});

void describe("the agent's side: a node that comes back", () => {
  const container = (status: 'running' | 'stopped'): Parameters<typeof planTask>[1] => ({ id: 'c1', status, pid: status === 'running' ? 42 : undefined, annotations: {}, ...(status === 'stopped' ? { exit: { exitCode: 137 } } : {}) } as Parameters<typeof planTask>[1]);
  const orphaned = (desired: 'running' | 'shutdown'): Task => task(web, 1, 'orphaned', { node: 'n1', desired });

  void it('stops the container of an orphaned task, then removes it without rewriting its state', () => {
    for (const desired of ['shutdown', 'running'] as const) {
      assert.deepEqual(planTask(orphaned(desired), container('running')), { do: 'stop' }, desired);
      assert.deepEqual(planTask(orphaned(desired), container('stopped')), { do: 'cleanup' }, desired);
      assert.deepEqual(planTask(orphaned(desired), undefined), { do: 'idle' }, desired);
    }
  });

  void it("the agent's heartbeat after registration sets a down node ready again (and clears the down message)", async () => {
    const down = beating('n1', { state: 'down' });
    down.status = { ...(down.status as NonNullable<NodeObject['status']>), message: 'no heartbeat since ...' };
    const written: NodeObject[] = [];
    const api = {
      get: (): Promise<ApiObject | undefined> => Promise.resolve(down),
      create: (o: ApiObject): Promise<ApiObject> => Promise.resolve(o),
      updateStatus: (o: ApiObject): Promise<ApiObject> => { written.push(o as NodeObject); return Promise.resolve(o); },
    };
    await registerNode(api, { name: 'n1', labels: {} }, 'test');
    assert.equal(written.length, 1);
    assert.equal(written[0]?.status?.state, 'ready');
    assert.equal(written[0]?.status?.message, undefined);
    assert.equal(written[0]?.spec.availability, 'active', 'spec untouched');
  });
});
