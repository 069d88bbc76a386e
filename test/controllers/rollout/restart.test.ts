/**
 * A rolling update survives a restart of the controllers (as after a server restart or a
 * leader change): all rollout state is in the Service's status on the real SQLite store, so new
 * controllers carry on from the batch where the old ones stopped. The agent is played through
 * the store (pretend-agent.ts). Also `rollout restart` (spec.restartedAt) makes new tasks.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Service, Task } from '../../../src/api/kinds.js';
import { applyRolloutAction } from '../../../src/api/rollout-actions.js';
import { startControllers, type RunningControllers } from '../../../src/controllers/index.js';
import { openSqliteStore } from '../../../src/store/sqlite/index.js';
import type { Store } from '../../../src/store/store.js';
import { node, service, serviceSpec } from '../fixtures.js';
import { eventually } from '../pretend-agent.js';

const KEY = { kind: 'Service' as const, namespace: 'default', name: 'web' };

void describe('rollouts across a controller restart (SQLite)', () => {
  let dir: string;
  let store: Store;
  let controllers: RunningControllers | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-rollout-'));
    store = openSqliteStore({ path: join(dir, 'store.db'), synchronous: 'normal' });
    for (const n of [node('n1'), node('n2')]) await store.create(n);
    controllers = startControllers(store);
    await controllers.ready;
  });

  after(async () => {
    await controllers?.stop();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (): Promise<Service> => (await store.get(KEY)) as Service;
  const live = async (): Promise<Task[]> => ((await store.list('Task', { namespace: 'default', labelSelector: { service: 'web' } })).items as Task[]).filter((t) => t.spec.desiredState === 'running');

  /** Writes `change(current)` with the read revision, again on a conflict (the controllers write too). */
  async function write(change: (s: Service) => Service): Promise<void> {
    for (let i = 0; ; i++) {
      const cur = await get();
      try {
        await store.update(change(cur), cur.metadata.revision);
        return;
      } catch (e) {
        if (i > 20) throw e;
      }
    }
  }

  void it('picks the rollout up where it was and completes it', { timeout: 60_000 }, async () => {
    const update = { ...serviceSpec().update, parallelism: 1, monitorSeconds: 1 };
    await store.create(service('web', { replicas: 4, image: 'registry.local/web:1', update }));
    await eventually(store, '4 ready tasks of revision 1', async () => {
      assert.equal((await get()).status?.revision, 1);
      const ts = await live();
      assert.equal(ts.length, 4);
      assert.ok(ts.every((t) => t.status?.state === 'running' && t.status.ready));
    });
    await write((s) => ({ ...s, metadata: { ...s.metadata, generation: s.metadata.generation + 1 }, spec: { ...s.spec, image: 'registry.local/web:2' } }));
    await eventually(store, 'the second batch', async () => assert.ok(((await get()).status?.rollout?.updated ?? 0) >= 2));
    await controllers?.stop();
    const at = (await get()).status?.rollout;
    controllers = startControllers(store);
    await controllers.ready;
    await eventually(store, 'the rollout complete', async () => {
      const s = await get();
      assert.equal(s.status?.rollout?.state, 'complete', s.status?.rollout?.message);
      assert.equal(s.status?.revision, 2);
      const ts = await live();
      assert.deepEqual(ts.map((t) => t.spec.image), Array(4).fill('registry.local/web:2'));
    }, 30_000);
    assert.equal((await get()).status?.rollout?.startedAt, at?.startedAt, 'the same rollout, not a new one');
  });

  void it('rollout restart makes new tasks of the same spec, as a new revision', { timeout: 60_000 }, async () => {
    const before = new Set((await live()).map((t) => t.metadata.name));
    await write((s) => applyRolloutAction(s, 'restart', { nowMs: Date.now() }));
    await eventually(store, 'new tasks', async () => {
      const s = await get();
      assert.equal(s.status?.rollout?.state, 'complete');
      assert.equal(s.status?.revision, 3);
      assert.equal(s.status?.history?.find((h) => h.revision === 3)?.cause, 'restart');
      const ts = await live();
      assert.equal(ts.length, 4);
      assert.ok(ts.every((t) => !before.has(t.metadata.name)), 'every task replaced');
    }, 30_000);
  });
});
