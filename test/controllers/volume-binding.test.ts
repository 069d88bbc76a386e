/**
 * Volume binding by the scheduler loop on SQLite with the real controllers: the first task of a
 * service mounting an unbound Volume binds it (Volume.status.node, in the same pass) and every
 * task of every service mounting it follows to that node; a lost race on the binding write is
 * retried without splitting the tasks; a missing volume keeps tasks pending with the reason until
 * the Volume is created; the volume's node down says so.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NodeObject, Task, Volume, VolumeRef } from '../../src/api/kinds.js';
import { startControllers, type RunningControllers } from '../../src/controllers/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/store.js';
import { eventually, node, service } from './fixtures.js';
import { FlakyStore } from './flaky-store.js';

const volumeObj = (name: string): Volume => ({
  kind: 'Volume',
  metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: {}, revision: 0, generation: 1, creationTimestamp: new Date().toISOString() },
  spec: { driver: 'local' },
});
const mount = (source: string): VolumeRef => ({ type: 'volume', source, target: `/${source}`, readOnly: false });

void describe('volume binding in the scheduler loop', { timeout: 60_000 }, () => {
  let dir: string;
  let sqlite: Store;
  let store: FlakyStore;
  let controllers: RunningControllers | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-volbind-'));
    sqlite = openSqliteStore({ path: join(dir, 'store.db'), synchronous: 'normal' });
    store = new FlakyStore(sqlite);
    for (const n of ['n1', 'n2', 'n3']) {
      const obj = node(n);
      await store.create({ ...obj, status: { ...(obj.status as NodeObject['status'] & object), volumesDir: `/data/${n}/volumes` } } as NodeObject);
    }
    controllers = startControllers(store, { eventRefreshMs: 0 });
    await controllers.ready;
  });

  after(async () => {
    await controllers?.stop();
    await sqlite?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const tasksOf = async (svc: string): Promise<Task[]> => ((await store.list('Task', { namespace: 'default' })).items as Task[]).filter((t) => t.spec.service === svc && t.spec.desiredState === 'running');
  const volumeOf = async (name: string): Promise<Volume> => (await store.get({ kind: 'Volume', namespace: 'default', name })) as Volume;
  const placed = (svc: string, n: number): Promise<Task[]> => eventually(`${n} tasks of ${svc} placed`, 20_000, async () => {
    const ts = await tasksOf(svc);
    assert.equal(ts.filter((t) => t.spec.node !== '').length, n);
    return ts;
  });

  void it('binds on the first placement; every task of every service using it follows', async () => {
    await store.create(volumeObj('data'));
    store.failNext = (o) => o.kind === 'Volume'; // the first binding write loses a race
    await store.create(service('db', { replicas: 3, volumes: [mount('data')] }));
    const ts = await placed('db', 3);
    const at = new Set(ts.map((t) => t.spec.node));
    assert.equal(at.size, 1, `one node for all: ${[...at].join(', ')}`);
    const [nodeName] = [...at];
    const v = await volumeOf('data');
    assert.equal(v.status?.node, nodeName);
    assert.equal(v.status?.state, 'bound');
    assert.equal(v.status?.path, `/data/${nodeName as string}/volumes/default/data`);
    assert.equal(store.failures, 1, 'the lost race was retried');
    await store.create(service('reader', { replicas: 2, volumes: [{ ...mount('data'), readOnly: true }] }));
    const readers = await placed('reader', 2);
    assert.deepEqual(readers.map((t) => t.spec.node), [nodeName, nodeName]);
  });

  void it('a missing volume: pending with the reason, placed once the Volume exists', async () => {
    await store.create(service('late', { replicas: 1, volumes: [mount('later')] }));
    await eventually('the reason', 20_000, async () => {
      const [t] = await tasksOf('late');
      assert.equal(t?.status?.message, 'volume later does not exist');
    });
    await store.create(volumeObj('later'));
    const [t] = await placed('late', 1);
    assert.equal((await volumeOf('later')).status?.node, t?.spec.node);
  });

  void it('the volume node down: replacements wait and say so', async () => {
    const v = await volumeOf('data');
    const name = v.status?.node as string;
    const n = (await store.get({ kind: 'Node', namespace: '', name })) as NodeObject;
    await store.update({ ...n, status: { ...(n.status as NodeObject['status'] & object), state: 'down' } } as NodeObject, n.metadata.revision);
    await store.create(service('more', { replicas: 1, volumes: [mount('data')] }));
    await eventually('the reason', 20_000, async () => {
      const [t] = await tasksOf('more');
      assert.equal(t?.status?.message, `volume data lives on node ${name}, which is down`);
    });
  });
});
