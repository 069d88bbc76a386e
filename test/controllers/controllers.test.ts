/**
 * startControllers on the in-memory fake store, for the failure paths the real store does not
 * produce on demand: a ConflictError on apply just re-queues the key; a watch that fails with
 * GoneError (history compacted) is re-listed and the controllers carry on.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConflictError, GoneError } from '../../src/api/errors.js';
import type { Task } from '../../src/api/kinds.js';
import { startControllers } from '../../src/controllers/index.js';
import { MemoryStore } from '../helpers/memory-store.js';
import { node, service } from './fixtures.js';

async function eventually(what: string, check: () => void, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return check();
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

const desiredRunning = (store: MemoryStore, svc: string): Task[] =>
  (store.snapshot('Task') as Task[]).filter((t) => t.spec.service === svc && t.spec.desiredState === 'running');

void describe('startControllers on the fake store', () => {
  void it('retries after a conflict and after the watch history was compacted', { timeout: 20_000 }, async () => {
    const store = new MemoryStore();
    const log: string[] = [];
    await store.create(node('n1'));
    const ctl = startControllers(store, { log: (m) => log.push(m) });
    try {
      await ctl.ready;
      store.failNext = { error: new ConflictError('moved under us'), when: (ops) => ops.some((o) => o.op === 'create' && o.object.kind === 'Task') };
      await store.create(service('web', { replicas: 2 }));
      await eventually('2 tasks after a conflict', () => {
        assert.equal(desiredRunning(store, 'web').length, 2);
        assert.ok(desiredRunning(store, 'web').every((t) => t.spec.node === 'n1'), 'placed on n1');
      });
      assert.ok(log.some((l) => l.includes('conflict, retrying')), `a conflict was logged: ${log.join('\n')}`);

      // Lose the watches with GoneError and change things while nobody watches.
      store.breakWatches(new GoneError('compacted'));
      await store.create(service('api', { replicas: 3 }));
      store.compact(await store.revision());
      await eventually('api tasks after re-list', () => assert.equal(desiredRunning(store, 'api').length, 3));
      assert.ok(log.some((l) => l.includes('re-listing')), 'the informers re-listed');
    } finally {
      await ctl.stop();
    }
    const rev = await store.revision();
    await store.create(service('late'));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await store.revision(), rev + 1, 'no controller writes after stop');
  });
});
