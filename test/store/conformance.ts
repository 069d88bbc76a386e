/**
 * The Store conformance suite (STYLE.md 10): one set of tests that every Store backend must
 * pass, SQLite and etcd alike. A backend's test file calls `runStoreConformance(name, harness)`.
 *
 * Each test gets a fresh empty store from `harness.open()` and ends with `harness.cleanup()`.
 * Revisions are checked relative to `store.revision()` at the start of a test, so a backend may
 * start at any revision; but with no other writer, each write must take exactly the next one.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../../src/api/errors.js';
import type { ApiObject } from '../../src/api/object.js';
import type { Store } from '../../src/store/store.js';
import { makeObject, rejectsWith, WatchCollector } from './conformance-helpers.js';
import { defineCrashTests, defineScaleTests, defineWatchTests } from './conformance-watch.js';

/** One write the crash writer saw acknowledged before it was killed. */
export interface CrashAck {
  name: string;
  revision: number;
}

/** Options handed to the crash writer. */
export interface CrashWriterOptions {
  /** Namespace to write into. Objects are kind `Config`, named `crash-<i>` (i = 0, 1, ...). */
  namespace: string;
  /** Total creates the writer would make if not killed (large enough to be killed mid-stream). */
  count: number;
  /** Kill with SIGKILL once at least this many writes were acknowledged. */
  killAfterAcks: number;
}

/** What a backend provides to run the suite against it. */
export interface StoreHarness {
  /** A fresh, empty store (new data dir, or a fresh key prefix / wiped etcd). */
  open(): Promise<Store>;
  /**
   * Closes the current process-level handle (if still open) and opens the SAME data again:
   * a server restart. For etcd this may also restart the etcd process.
   */
  reopen(): Promise<Store>;
  /** Closes whatever is open and removes the test's data. Called after every test. */
  cleanup(): Promise<void>;
  /**
   * Discards history so that a watch from any revision below `revision` fails with GoneError
   * (etcd: compact(revision)). Current objects stay readable.
   */
  compact(revision: number): Promise<void>;
  /**
   * Optional kill -9 test: runs a separate process that creates objects in the SAME data as the
   * current store, one acknowledged write at a time, reporting each acknowledged revision, and
   * SIGKILLs it mid-stream. May close the current store first; the suite calls reopen() next.
   */
  crashWriter?(opts: CrashWriterOptions): Promise<CrashAck[]>;
}

/** Registers the whole conformance suite under `describe(name)`. */
export function runStoreConformance(name: string, h: StoreHarness): void {
  void describe(`Store conformance: ${name}`, { timeout: 180_000 }, () => {
    const ctx: { store: Store } = { store: undefined as unknown as Store };
    beforeEach(async () => {
      ctx.store = await h.open();
    });
    afterEach(async () => {
      await h.cleanup();
    });
    defineCrudTests(ctx);
    defineRevisionTests(ctx);
    defineConcurrencyTests(ctx);
    defineListTests(ctx);
    defineWatchTests(ctx, h);
    defineScaleTests(ctx);
    defineCrashTests(ctx, h);
  });
}

/** Mutable holder: the current store of the running test (reopen() replaces it). */
export interface SuiteContext {
  store: Store;
}

function defineCrudTests(ctx: SuiteContext): void {
  void describe('create/get/update/delete', () => {
    void it('creates, gets, updates and deletes an object', async () => {
      const s = ctx.store;
      const created = await s.create(makeObject('Service', 'default', 'web', { app: 'web' }, { replicas: 1 }));
      assert.equal(created.metadata.name, 'web');
      assert.deepEqual(created.spec, { replicas: 1 });
      assert.ok(created.metadata.revision > 0);
      const got = await s.get({ kind: 'Service', namespace: 'default', name: 'web' });
      assert.deepEqual(got, created);
      const updated = await s.update({ ...created, spec: { replicas: 3 } });
      assert.deepEqual(updated.spec, { replicas: 3 });
      assert.ok(updated.metadata.revision > created.metadata.revision);
      assert.deepEqual(await s.get({ kind: 'Service', namespace: 'default', name: 'web' }), updated);
      const deleted = await s.delete({ kind: 'Service', namespace: 'default', name: 'web' });
      assert.deepEqual(deleted, updated, 'delete returns the object as it was');
      assert.equal(await s.get({ kind: 'Service', namespace: 'default', name: 'web' }), undefined);
    });

    void it('keys by kind, namespace and name; cluster-scoped kinds use namespace ""', async () => {
      const s = ctx.store;
      await s.create(makeObject('Service', 'a', 'x', {}, { n: 1 }));
      await s.create(makeObject('Service', 'b', 'x', {}, { n: 2 }));
      await s.create(makeObject('Config', 'a', 'x', {}, { n: 3 }));
      await s.create(makeObject('Node', '', 'x', {}, { n: 4 }));
      assert.deepEqual((await s.get({ kind: 'Service', namespace: 'a', name: 'x' }))?.spec, { n: 1 });
      assert.deepEqual((await s.get({ kind: 'Service', namespace: 'b', name: 'x' }))?.spec, { n: 2 });
      assert.deepEqual((await s.get({ kind: 'Config', namespace: 'a', name: 'x' }))?.spec, { n: 3 });
      assert.deepEqual((await s.get({ kind: 'Node', namespace: '', name: 'x' }))?.spec, { n: 4 });
      assert.equal(await s.get({ kind: 'Task', namespace: 'a', name: 'x' }), undefined);
    });

    void it('keeps status and annotations, and hands out copies', async () => {
      const s = ctx.store;
      const o = makeObject('Task', 'default', 't1', { a: 'b' }, { image: 'x' });
      o.status = { state: 'running', nested: { list: [1, 2, 3] } };
      o.metadata.annotations = { note: 'é ✓ "quoted"' };
      const created = await s.create(o);
      assert.deepEqual(created.status, o.status);
      (created.spec as { image: string }).image = 'mutated';
      const got = await s.get({ kind: 'Task', namespace: 'default', name: 't1' });
      assert.deepEqual(got?.spec, { image: 'x' }, 'mutating a returned object must not change the store');
      assert.deepEqual(got?.metadata.annotations, { note: 'é ✓ "quoted"' });
    });

    void it('create of an existing key fails with AlreadyExistsError and changes nothing', async () => {
      const s = ctx.store;
      await s.create(makeObject('Service', 'default', 'web', {}, { v: 1 }));
      const rev = await s.revision();
      await rejectsWith(s.create(makeObject('Service', 'default', 'web', {}, { v: 2 })), AlreadyExistsError, 'create existing');
      assert.equal(await s.revision(), rev);
      assert.deepEqual((await s.get({ kind: 'Service', namespace: 'default', name: 'web' }))?.spec, { v: 1 });
    });

    void it('update and delete of a missing key fail with NotFoundError', async () => {
      const s = ctx.store;
      const rev = await s.revision();
      await rejectsWith(s.update(makeObject('Service', 'default', 'nope')), NotFoundError, 'update missing');
      await rejectsWith(s.update(makeObject('Service', 'default', 'nope'), 5), NotFoundError, 'update missing with rev');
      await rejectsWith(s.delete({ kind: 'Service', namespace: 'default', name: 'nope' }), NotFoundError, 'delete missing');
      await rejectsWith(s.delete({ kind: 'Service', namespace: 'default', name: 'nope' }, 5), NotFoundError, 'delete missing with rev');
      assert.equal(await s.revision(), rev);
      assert.equal(await s.get({ kind: 'Service', namespace: 'default', name: 'nope' }), undefined);
    });

    void it('a deleted key can be created again', async () => {
      const s = ctx.store;
      await s.create(makeObject('Config', 'default', 'c'));
      await s.delete({ kind: 'Config', namespace: 'default', name: 'c' });
      const again = await s.create(makeObject('Config', 'default', 'c', {}, { again: true }));
      assert.deepEqual(again.spec, { again: true });
    });
  });
}

function defineRevisionTests(ctx: SuiteContext): void {
  void describe('revisions and transactions', () => {
    void it('every write takes the next global revision and stamps it into metadata.revision', async () => {
      const s = ctx.store;
      const r0 = await s.revision();
      const a = await s.create(makeObject('Service', 'default', 'a'));
      assert.equal(a.metadata.revision, r0 + 1);
      assert.equal(await s.revision(), r0 + 1);
      const b = await s.create(makeObject('Task', 'other', 'b'));
      assert.equal(b.metadata.revision, r0 + 2);
      const a2 = await s.update(a);
      assert.equal(a2.metadata.revision, r0 + 3);
      assert.equal((await s.get({ kind: 'Service', namespace: 'default', name: 'a' }))?.metadata.revision, r0 + 3);
      await s.delete({ kind: 'Task', namespace: 'other', name: 'b' });
      assert.equal(await s.revision(), r0 + 4);
    });

    void it('the revision a caller sends in metadata is ignored: the store stamps its own', async () => {
      const s = ctx.store;
      const r0 = await s.revision();
      const o = makeObject('Config', 'default', 'x');
      o.metadata.revision = 999_999;
      const c = await s.create(o);
      assert.equal(c.metadata.revision, r0 + 1);
    });

    void it('a txn is all-or-nothing and all its objects get ONE revision', async () => {
      const s = ctx.store;
      const existing = await s.create(makeObject('Service', 'default', 'old'));
      const gone = await s.create(makeObject('Config', 'default', 'gone'));
      const r0 = await s.revision();
      const results = await s.txn([
        { op: 'create', object: makeObject('Task', 'default', 't1') },
        { op: 'create', object: makeObject('Task', 'default', 't2') },
        { op: 'update', object: { ...existing, spec: { v: 2 } }, expectedRevision: existing.metadata.revision },
        { op: 'delete', key: { kind: 'Config', namespace: 'default', name: 'gone' } },
      ]);
      assert.equal(await s.revision(), r0 + 1);
      assert.equal(results.length, 4);
      assert.deepEqual(results.slice(0, 3).map((o) => o.metadata.revision), [r0 + 1, r0 + 1, r0 + 1]);
      assert.deepEqual(results.map((o) => o.metadata.name), ['t1', 't2', 'old', 'gone']);
      assert.deepEqual(results[2]?.spec, { v: 2 });
      assert.deepEqual(results[3], gone, 'a deleted object comes back as it was');
      assert.equal((await s.get({ kind: 'Task', namespace: 'default', name: 't2' }))?.metadata.revision, r0 + 1);
      assert.equal(await s.get({ kind: 'Config', namespace: 'default', name: 'gone' }), undefined);
    });

    void it('a txn with a failing op (conflict) writes nothing', async () => {
      const s = ctx.store;
      const a = await s.create(makeObject('Service', 'default', 'a', {}, { v: 1 }));
      const b = await s.create(makeObject('Config', 'default', 'b', {}, { v: 1 }));
      const r0 = await s.revision();
      const watch = await WatchCollector.start(s, { fromRevision: r0 });
      await rejectsWith(
        s.txn([
          { op: 'create', object: makeObject('Task', 'default', 'new') },
          { op: 'update', object: { ...a, spec: { v: 2 } }, expectedRevision: a.metadata.revision },
          { op: 'delete', key: { kind: 'Config', namespace: 'default', name: 'b' }, expectedRevision: b.metadata.revision - 1 },
        ]),
        ConflictError,
        'txn with stale expected revision',
      );
      await rejectsWith(s.txn([{ op: 'create', object: makeObject('Task', 'default', 'new2') }, { op: 'create', object: makeObject('Service', 'default', 'a') }]), AlreadyExistsError, 'txn create existing');
      await rejectsWith(s.txn([{ op: 'create', object: makeObject('Task', 'default', 'new3') }, { op: 'delete', key: { kind: 'Task', namespace: 'default', name: 'missing' } }]), NotFoundError, 'txn delete missing');
      assert.equal(await s.revision(), r0);
      assert.equal(await s.get({ kind: 'Task', namespace: 'default', name: 'new' }), undefined);
      assert.equal(await s.get({ kind: 'Task', namespace: 'default', name: 'new2' }), undefined);
      assert.equal(await s.get({ kind: 'Task', namespace: 'default', name: 'new3' }), undefined);
      assert.deepEqual(await s.get({ kind: 'Service', namespace: 'default', name: 'a' }), a);
      assert.deepEqual(await s.get({ kind: 'Config', namespace: 'default', name: 'b' }), b);
      const marker = await s.create(makeObject('Config', 'default', 'marker'));
      assert.equal(marker.metadata.revision, r0 + 1);
      const evs = await watch.waitForEvents(1);
      await watch.stop();
      assert.equal(evs.length, 1, 'a failed txn emits no events');
    });
  });
}

function defineConcurrencyTests(ctx: SuiteContext): void {
  void describe('optimistic concurrency', () => {
    void it('update and delete with a moved expected revision fail with ConflictError', async () => {
      const s = ctx.store;
      const v1 = await s.create(makeObject('Service', 'default', 'web', {}, { v: 1 }));
      const v2 = await s.update({ ...v1, spec: { v: 2 } }, v1.metadata.revision);
      await rejectsWith(s.update({ ...v1, spec: { v: 3 } }, v1.metadata.revision), ConflictError, 'stale update');
      await rejectsWith(s.delete({ kind: 'Service', namespace: 'default', name: 'web' }, v1.metadata.revision), ConflictError, 'stale delete');
      assert.deepEqual(await s.get({ kind: 'Service', namespace: 'default', name: 'web' }), v2);
      const deleted = await s.delete({ kind: 'Service', namespace: 'default', name: 'web' }, v2.metadata.revision);
      assert.deepEqual(deleted, v2);
    });

    void it('20 parallel updates with the same expected revision: exactly one wins', async () => {
      const s = ctx.store;
      const base = await s.create(makeObject('Service', 'default', 'race', {}, { writer: -1 }));
      const attempts = Array.from({ length: 20 }, (_, i) => s.update({ ...base, spec: { writer: i } }, base.metadata.revision));
      const settled = await Promise.allSettled(attempts);
      const wins = settled.filter((r): r is PromiseFulfilledResult<ApiObject> => r.status === 'fulfilled');
      const losses = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(wins.length, 1, 'exactly one writer wins');
      assert.equal(losses.length, 19);
      for (const l of losses) assert.ok(l.reason instanceof ConflictError, `loser got ${String(l.reason)}`);
      const stored = await s.get({ kind: 'Service', namespace: 'default', name: 'race' });
      assert.deepEqual(stored, wins[0]?.value, 'the winner is what is stored');
      assert.equal(await s.revision(), base.metadata.revision + 1);
    });

    void it('20 parallel deletes with the same expected revision: exactly one wins', async () => {
      const s = ctx.store;
      const base = await s.create(makeObject('Config', 'default', 'race'));
      const settled = await Promise.allSettled(Array.from({ length: 20 }, () => s.delete({ kind: 'Config', namespace: 'default', name: 'race' }, base.metadata.revision)));
      assert.equal(settled.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of settled) if (r.status === 'rejected') assert.ok(r.reason instanceof NotFoundError || r.reason instanceof ConflictError, String(r.reason));
    });
  });
}

function defineListTests(ctx: SuiteContext): void {
  void describe('list', () => {
    async function seed(s: Store): Promise<void> {
      await s.txn([
        { op: 'create', object: makeObject('Service', 'default', 'web', { app: 'web', tier: 'front' }) },
        { op: 'create', object: makeObject('Service', 'default', 'api', { app: 'api', tier: 'back' }) },
        { op: 'create', object: makeObject('Service', 'prod', 'web', { app: 'web', tier: 'front' }) },
        { op: 'create', object: makeObject('Service', 'prod', 'db', { app: 'db', tier: 'back' }) },
        { op: 'create', object: makeObject('Task', 'default', 'web-1', { app: 'web' }) },
        { op: 'create', object: makeObject('Node', '', 'n1', { zone: 'w1' }) },
      ]);
    }
    const names = (items: ApiObject[]): string[] => items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort();

    void it('lists by kind, across all namespaces or in one', async () => {
      const s = ctx.store;
      await seed(s);
      assert.deepEqual(names((await s.list('Service')).items), ['default/api', 'default/web', 'prod/db', 'prod/web']);
      assert.deepEqual(names((await s.list('Service', { namespace: 'prod' })).items), ['prod/db', 'prod/web']);
      assert.deepEqual(names((await s.list('Service', { namespace: 'empty' })).items), []);
      assert.deepEqual(names((await s.list('Task')).items), ['default/web-1']);
      assert.deepEqual(names((await s.list('Node')).items), ['/n1']);
      assert.deepEqual(names((await s.list('Secret')).items), []);
    });

    void it('lists by label selector (every pair must match)', async () => {
      const s = ctx.store;
      await seed(s);
      assert.deepEqual(names((await s.list('Service', { labelSelector: { app: 'web' } })).items), ['default/web', 'prod/web']);
      assert.deepEqual(names((await s.list('Service', { labelSelector: { tier: 'back' }, namespace: 'prod' })).items), ['prod/db']);
      assert.deepEqual(names((await s.list('Service', { labelSelector: { app: 'web', tier: 'back' } })).items), []);
      assert.deepEqual(names((await s.list('Service', { labelSelector: {} })).items).length, 4);
    });

    void it('list items carry their revisions and list.revision is the store revision', async () => {
      const s = ctx.store;
      await seed(s);
      const upd = await s.update(makeObject('Service', 'prod', 'db', { app: 'db', tier: 'back' }, { v: 2 }));
      const l = await s.list('Service', { namespace: 'prod' });
      assert.equal(l.revision, await s.revision());
      assert.equal(l.items.find((o) => o.metadata.name === 'db')?.metadata.revision, upd.metadata.revision);
      assert.ok(l.items.every((o) => o.metadata.revision <= l.revision));
    });

    void it('a watch from list.revision misses nothing and repeats nothing', async () => {
      const s = ctx.store;
      await seed(s);
      const l = await s.list('Service');
      await s.create(makeObject('Service', 'default', 'late'));
      await s.delete({ kind: 'Service', namespace: 'prod', name: 'db' });
      const w = await WatchCollector.start(s, { kind: 'Service', fromRevision: l.revision });
      const evs = await w.waitForEvents(2);
      await w.stop();
      assert.deepEqual(evs.map((e) => `${e.type}:${e.object.metadata.name}`), ['added:late', 'deleted:db']);
    });
  });
}
