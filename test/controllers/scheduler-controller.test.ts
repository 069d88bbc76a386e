/**
 * The scheduler loop (controllers/placement/) on the real SQLite store with the real
 * controllers: a pending task says why ("0/3 nodes: ..."), carries one FailedScheduling Event
 * whose count grows with retries, is placed as soon as a node change makes it fit, and a failed
 * placement write gives its resources back (taskEnded). An Event goes with its task. No agents:
 * these nodes never heartbeat, so the node controller leaves them alone.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EventObject, NodeObject, Service, ServiceSpec, Task } from '../../src/api/kinds.js';
import { startControllers, type RunningControllers } from '../../src/controllers/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/store.js';
import { delay, eventually, node, service } from './fixtures.js';
import { FlakyStore } from './flaky-store.js';


void describe('scheduler loop on SQLite', () => {
  let dir: string;
  let sqlite: Store;
  let store: FlakyStore;
  let controllers: RunningControllers | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-sched-'));
    sqlite = openSqliteStore({ path: join(dir, 'store.db'), synchronous: 'normal' });
    store = new FlakyStore(sqlite);
    await store.create(node('n1', { memory: '1Gi' }));
    await store.create(node('n2', { memory: '1Gi' }));
    await store.create(node('n3', { memory: '16Gi', labels: { ssd: 'false' } }));
    controllers = startControllers(store, { eventRefreshMs: 0, log: (m) => { if (process.env.CTRL_LOG) console.log(new Date().toISOString(), m.slice(0, 300)); } });
    await controllers.ready;
  });

  after(async () => {
    await controllers?.stop();
    await sqlite?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const tasksOf = async (svc: string): Promise<Task[]> => (await store.list('Task', { namespace: 'default', labelSelector: { service: svc } })).items as Task[];
  const eventsOf = async (t: Task): Promise<EventObject[]> =>
    ((await store.list('Event', { namespace: 'default' })).items as EventObject[]).filter((e) => e.spec.involved === `Task/default/${t.metadata.name}`);
  const only = async (svc: string): Promise<Task> => {
    const ts = await tasksOf(svc);
    assert.equal(ts.length, 1, `one task of ${svc}`);
    return ts[0] as Task;
  };
  const svc = (name: string, over: Partial<ServiceSpec>): Service => service(name, { replicas: 1, ...over });
  async function relabel(name: string, labels: Record<string, string>): Promise<void> {
    const n = (await store.get({ kind: 'Node', namespace: '', name })) as NodeObject;
    await store.update({ ...n, metadata: { ...n.metadata, labels } }, n.metadata.revision);
  }

  void it('a task no node fits stays pending and says why, with one FailedScheduling Event whose count grows', { timeout: 20_000 }, async () => {
    await store.create(svc('big', {
      resources: { requests: { memory: '4Gi' }, limits: {} },
      placement: { constraints: ['node.labels.ssd == true'], spread: [], tolerations: [] },
    }));
    const t = await eventually('the reason', 5_000, async () => {
      const x = await only('big');
      assert.equal(x.status?.state, 'pending');
      assert.equal(x.status?.message, '0/3 nodes: 2 insufficient memory, 1 did not match node.labels.ssd == true');
      return x;
    });
    const first = await eventually('the Event', 5_000, async () => {
      const evs = await eventsOf(t);
      assert.equal(evs.length, 1, 'one Event');
      return evs[0] as EventObject;
    });
    assert.equal(first.metadata.name, `${t.metadata.name}.failedscheduling`);
    assert.deepEqual([first.spec.type, first.spec.reason, first.spec.source, first.spec.message], ['Warning', 'FailedScheduling', 'scheduler', t.status?.message]);
    // Retries (a node change each) bump the count of the same Event.
    for (const v of ['a', 'b', 'c']) {
      await relabel('n1', { try: v });
      await delay(100);
    }
    await eventually('the count to grow', 5_000, async () => {
      const evs = await eventsOf(t);
      assert.equal(evs.length, 1, 'still one Event');
      assert.ok((evs[0]?.spec.count ?? 0) >= first.spec.count + 3, `count ${evs[0]?.spec.count} after 3 retries (was ${first.spec.count})`);
      assert.ok((evs[0]?.spec.lastTimestamp ?? '') > first.spec.lastTimestamp, 'lastTimestamp moves');
    });
    // A heartbeat alone is not a reason to retry: the count stays.
    const before = (await eventsOf(t))[0]?.spec.count;
    const n2 = (await store.get({ kind: 'Node', namespace: '', name: 'n2' })) as NodeObject;
    await store.update({ ...n2, status: { ...(n2.status as NonNullable<NodeObject['status']>), heartbeat: new Date().toISOString() } }, n2.metadata.revision);
    await delay(300);
    assert.equal((await eventsOf(t))[0]?.spec.count, before, 'no retry on a heartbeat');
  });

  void it('is placed as soon as a change makes it fit', { timeout: 20_000 }, async () => {
    await relabel('n3', { ssd: 'true' });
    const t = await eventually('placed on n3', 5_000, async () => {
      const x = await only('big');
      assert.equal(x.spec.node, 'n3');
      assert.equal(x.status?.state, 'assigned');
      return x;
    });
    assert.equal(t.status?.message, 'assigned to node n3');
  });

  void it('a failed placement write gives the room back (taskEnded), and the retry places it', { timeout: 20_000 }, async () => {
    // n2 has room for exactly one 1Gi task; a leaked hold after the failed write would make it "full".
    await relabel('n2', { only: 'here' });
    store.failNext = (o) => o.kind === 'Task' && (o as Task).spec.service === 'solo' && (o as Task).status?.state === 'assigned';
    await store.create(svc('solo', { resources: { requests: { memory: '1Gi' }, limits: {} }, placement: { constraints: ['node.labels.only == here'], spread: [], tolerations: [] } }));
    await eventually('solo placed on n2 after the retry', 5_000, async () => {
      const x = await only('solo');
      assert.equal(x.spec.node, 'n2', `state ${x.status?.state}: ${x.status?.message}`);
    });
    assert.equal(store.failures, 1, 'the injected failure happened');
  });

  void it("a task's Event is deleted with the task", { timeout: 20_000 }, async () => {
    await store.create(svc('ghost', { placement: { constraints: ['node.name == nowhere'], spread: [], tolerations: [] } }));
    const t = await eventually('ghost pending with an Event', 5_000, async () => {
      const x = await only('ghost');
      assert.equal(x.status?.message, '0/3 nodes: 3 did not match node.name == nowhere');
      assert.equal((await eventsOf(x)).length, 1, 'an Event');
      return x;
    });
    const s = (await store.get({ kind: 'Service', namespace: 'default', name: 'ghost' })) as Service;
    await store.delete({ kind: 'Service', namespace: 'default', name: 'ghost' }, s.metadata.revision);
    await eventually('task and Event gone', 5_000, async () => {
      assert.equal((await tasksOf('ghost')).length, 0, 'task reaped');
      assert.equal((await eventsOf(t)).length, 0, 'Event deleted');
    });
  });
});
