/**
 * startControllers on the real SQLite store (temp dir): services scale up and down, tasks get
 * nodes, a failed task is replaced after its backoff, a deleted service's tasks go away. There
 * is no agent yet, so the test plays the agent's part through the store: assigned tasks
 * become running and ready, tasks desired shutdown become shutdown. Every wait is bounded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConflictError } from '../../src/api/errors.js';
import type { NodeObject, Service, Task } from '../../src/api/kinds.js';
import { startControllers, type RunningControllers } from '../../src/controllers/index.js';
import { RESTARTS_ANNOTATION } from '../../src/controllers/service/tasks.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/store.js';
import { node, service } from './fixtures.js';
import { eventually, report } from './pretend-agent.js';

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function tasksOf(store: Store, svc: string): Promise<Task[]> {
  return ((await store.list('Task', { namespace: 'default', labelSelector: { service: svc } })).items as Task[]);
}

const running = (ts: Task[]): Task[] => ts.filter((t) => t.spec.desiredState === 'running');

void describe('controllers on the SQLite store', () => {
  let dir: string;
  let store: Store;
  let controllers: RunningControllers | undefined;
  const log: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-ctrl-'));
    store = openSqliteStore({ path: join(dir, 'store.db'), synchronous: 'normal' });
    for (const n of [node('n1'), node('n2')]) await store.create(n);
    controllers = startControllers(store, { log: (m) => { log.push(m); if (process.env.CTRL_LOG) console.log(new Date().toISOString(), m.slice(0, 400)); } });
    await controllers.ready;
  });

  after(async () => {
    await controllers?.stop();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Creates or updates the spec (bumping generation, as the API does), retrying on conflicts with status writes. */
  async function applyService(svc: Service): Promise<Service> {
    for (let attempt = 0; ; attempt++) {
      const cur = (await store.get({ kind: 'Service', namespace: 'default', name: svc.metadata.name })) as Service | undefined;
      try {
        if (cur === undefined) return (await store.create(svc)) as Service;
        const next: Service = { ...cur, spec: svc.spec, metadata: { ...cur.metadata, generation: cur.metadata.generation + 1 } };
        return (await store.update(next, cur.metadata.revision)) as Service;
      } catch (e) {
        if (!(e instanceof ConflictError) || attempt >= 20) throw e;
      }
    }
  }

  void it('runs 3 replicas spread over the nodes, then scales to 5 and to 1', { timeout: 30_000 }, async () => {
    await applyService(service('web', { replicas: 3 }));
    await eventually(store, '3 running tasks', async () => {
      const live = running(await tasksOf(store, 'web'));
      assert.deepEqual(live.map((t) => t.spec.slot).sort(), [1, 2, 3]);
      assert.ok(live.every((t) => t.status?.state === 'running'), 'all running');
      assert.deepEqual(new Set(live.map((t) => t.spec.node)), new Set(['n1', 'n2']), 'spread over both nodes');
      assert.ok(live.every((t) => /^web-[1-3]-[a-z0-9]{5}$/.test(t.metadata.name)), live.map((t) => t.metadata.name).join());
      const svc = (await store.get({ kind: 'Service', namespace: 'default', name: 'web' })) as Service;
      assert.deepEqual([svc.status?.replicas, svc.status?.readyReplicas], [3, 3]);
    });
    const first = new Set((await tasksOf(store, 'web')).map((t) => t.metadata.name));

    await applyService(service('web', { replicas: 5 }));
    await eventually(store, '5 running tasks', async () => {
      const live = running(await tasksOf(store, 'web'));
      assert.deepEqual(live.map((t) => t.spec.slot).sort(), [1, 2, 3, 4, 5]);
      assert.ok(live.every((t) => t.status?.state === 'running'), 'all running');
    });
    const all = await tasksOf(store, 'web');
    assert.ok([...first].every((n) => all.some((t) => t.metadata.name === n && t.spec.desiredState === 'running')), 'scaling kept the first tasks');

    await applyService(service('web', { replicas: 1 }));
    await eventually(store, 'scale down to 1', async () => {
      const ts = await tasksOf(store, 'web');
      assert.deepEqual(running(ts).map((t) => t.spec.slot), [1]);
      const stopped = ts.filter((t) => t.spec.desiredState === 'shutdown');
      assert.deepEqual(stopped.map((t) => t.spec.slot).sort(), [2, 3, 4, 5]);
      assert.ok(stopped.every((t) => t.status?.state === 'shutdown'), 'stopped tasks reported shutdown');
      const svc = (await store.get({ kind: 'Service', namespace: 'default', name: 'web' })) as Service;
      assert.deepEqual([svc.status?.replicas, svc.status?.readyReplicas], [1, 1]);
    });
  });

  void it('replaces a failed task after its backoff, keeping the failed one as history', { timeout: 30_000 }, async () => {
    await applyService(service('crash', { replicas: 1, restart: { condition: 'on-failure', delaySeconds: 1, maxDelaySeconds: 4 } }));
    let victim: Task | undefined;
    await eventually(store, 'crash running', async () => {
      victim = running(await tasksOf(store, 'crash')).find((t) => t.status?.state === 'running');
      assert.ok(victim, 'a running crash task');
    });
    const failedAt = Date.now();
    await report(store, victim as Task, { state: 'failed', ready: false, exitCode: 1, message: 'exit 1' });
    await delay(500);
    assert.equal((await tasksOf(store, 'crash')).length, 1, 'no replacement before the 1 s backoff');
    let replacement: Task | undefined;
    await eventually(store, 'replacement', async () => {
      const ts = await tasksOf(store, 'crash');
      replacement = running(ts).find((t) => t.metadata.name !== victim?.metadata.name);
      assert.ok(replacement, 'a new task');
      const old = ts.find((t) => t.metadata.name === victim?.metadata.name);
      assert.equal(old?.spec.desiredState, 'shutdown');
      assert.equal(old?.status?.state, 'failed');
    });
    assert.ok(Date.now() - failedAt >= 900, `replaced after ${Date.now() - failedAt} ms`);
    assert.equal(replacement?.spec.slot, 1);
    assert.equal(replacement?.metadata.annotations?.[RESTARTS_ANNOTATION], '1');
  });

  void it('a global service follows nodes; pending tasks wait with a reason and are placed when a node comes', { timeout: 30_000 }, async () => {
    await applyService(service('agentd', { mode: 'global' }));
    await eventually(store, 'one per node', async () => {
      assert.deepEqual(running(await tasksOf(store, 'agentd')).map((t) => t.spec.node).sort(), ['n1', 'n2']);
    });
    await store.create(node('n3', { labels: { ssd: 'true' } }));
    await eventually(store, 'n3 joins', async () => {
      assert.deepEqual(running(await tasksOf(store, 'agentd')).map((t) => t.spec.node).sort(), ['n1', 'n2', 'n3']);
    });
    await applyService(service('db', { replicas: 1, placement: { constraints: ['node.labels.zone == z9'], spread: [], tolerations: [] } }));
    await eventually(store, 'db pending with a reason', async () => {
      const [t] = await tasksOf(store, 'db');
      assert.equal(t?.status?.state, 'pending');
      assert.equal(t?.status?.message, '0/3 nodes: 3 did not match node.labels.zone == z9');
    });
    const n3 = (await store.get({ kind: 'Node', namespace: '', name: 'n3' })) as NodeObject;
    await store.update({ ...n3, metadata: { ...n3.metadata, labels: { zone: 'z9' } } }, n3.metadata.revision);
    await eventually(store, 'db placed on n3', async () => {
      const [t] = await tasksOf(store, 'db');
      assert.equal(t?.spec.node, 'n3');
      assert.equal(t?.status?.state, 'running');
    });
  });

  void it('deleting a service shuts its tasks down and deletes them once ended', { timeout: 30_000 }, async () => {
    const svc = (await store.get({ kind: 'Service', namespace: 'default', name: 'web' })) as Service;
    await store.delete({ kind: 'Service', namespace: 'default', name: 'web' }, svc.metadata.revision);
    await eventually(store, 'web tasks gone', async () => {
      assert.deepEqual((await tasksOf(store, 'web')).map((t) => `${t.metadata.name} ${t.spec.desiredState} ${t.status?.state}`), []);
    });
  });

  void it('stops cleanly: no writes after stop()', { timeout: 30_000 }, async () => {
    await controllers?.stop();
    await controllers?.stop();
    const rev = await store.revision();
    await store.create(service('late', { replicas: 2 }));
    await delay(300);
    assert.equal(await store.revision(), rev + 1, 'nothing but our own write');
  });
});
