/**
 * The Informer on the in-memory fake store: list then watch, indexes, handlers, re-list after
 * GoneError with a diff of what changed meanwhile, waitFor, and a clean stop.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GoneError } from '../../src/api/errors.js';
import type { ApiObject } from '../../src/api/object.js';
import { Informer } from '../../src/controllers/framework/informer.js';
import { MemoryStore } from '../helpers/memory-store.js';

function obj(name: string, group: string): ApiObject {
  return { kind: 'Config', metadata: { name, namespace: 'default', uid: name, labels: { group }, revision: 0, generation: 1, creationTimestamp: '2025-01-01T00:00:00Z' }, spec: {} };
}

void describe('Informer', () => {
  void it('lists, watches, indexes, and re-lists after GoneError telling handlers what changed', async () => {
    const store = new MemoryStore();
    await store.create(obj('a', 'x'));
    await store.create(obj('b', 'y'));
    const events: string[] = [];
    const inf = new Informer({ store, kind: 'Config', indexers: { group: (o) => [o.metadata.labels['group'] ?? ''] } });
    inf.addHandler({
      onAdd: (o) => events.push(`add ${o.metadata.name}`),
      onUpdate: (_old, o) => events.push(`update ${o.metadata.name}`),
      onDelete: (o) => events.push(`delete ${o.metadata.name}`),
    });
    try {
      await inf.start();
      assert.deepEqual(events, ['add a', 'add b']);
      assert.deepEqual(inf.byIndex('group', 'x').map((o) => o.metadata.name), ['a']);

      const c = await store.create(obj('c', 'x'));
      assert.ok(await inf.waitFor(() => inf.lastRevision() >= c.metadata.revision, 2_000), 'sees c');
      assert.deepEqual(inf.byIndex('group', 'x').map((o) => o.metadata.name).sort(), ['a', 'c']);
      const moved = await store.get({ kind: 'Config', namespace: 'default', name: 'a' });
      await store.update({ ...(moved as ApiObject), metadata: { ...(moved as ApiObject).metadata, labels: { group: 'y' } } });
      assert.ok(await inf.waitFor(() => inf.byIndex('group', 'y').length === 2, 2_000), 'index follows updates');

      // The watch breaks with GoneError; meanwhile b is deleted and d created: the re-list tells.
      events.length = 0;
      store.breakWatches(new GoneError('compacted'));
      await store.delete({ kind: 'Config', namespace: 'default', name: 'b' });
      await store.create(obj('d', 'x'));
      store.compact(await store.revision());
      assert.ok(await inf.waitFor(() => inf.get('Config/default/d') !== undefined && inf.get('Config/default/b') === undefined, 3_000), 're-listed');
      assert.deepEqual(events.sort(), ['add d', 'delete b']);
      // Watching again after the re-list.
      await store.create(obj('e', 'x'));
      assert.ok(await inf.waitFor(() => inf.get('Config/default/e') !== undefined, 2_000), 'watching again');
    } finally {
      await inf.stop();
      await inf.stop();
    }
    const before = events.length;
    await store.create(obj('f', 'x'));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(events.length, before, 'no events after stop');
  });

  void it('waitFor times out with false, and stop() releases waiters', async () => {
    const store = new MemoryStore();
    const inf = new Informer({ store, kind: 'Config' });
    await inf.start();
    assert.equal(await inf.waitFor(() => false, 20), false);
    const w = inf.waitFor(() => false, 60_000);
    await inf.stop();
    assert.equal(await w, false);
  });
});
