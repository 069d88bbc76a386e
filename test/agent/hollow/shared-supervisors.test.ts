/**
 * Many TaskSupervisors over one SharedTaskInformer (the hollow agent's shape): one watch for
 * all nodes, each supervisor runs only its node's tasks in its own HollowRuntime, and status
 * writes reach the store. The real agent's shape (an informer per supervisor) still works.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Task } from '../../../src/api/kinds.js';
import type { ApiObject } from '../../../src/api/object.js';
import { HollowRuntime } from '../../../src/agent/hollow/hollow-runtime.js';
import { HollowTaskImages } from '../../../src/agent/hollow/hollow-images.js';
import { SharedTaskInformer } from '../../../src/agent/hollow/shared-tasks.js';
import { TaskSupervisor, type TaskStatusWriter } from '../../../src/agent/tasks/supervisor.js';
import type { Store, WatchHandlers, WatchOptions } from '../../../src/store/store.js';
import { MemoryStore } from '../../helpers/memory-store.js';
import { service, task } from '../../controllers/fixtures.js';

/** Counts watches opened on the store. */
class CountingStore extends MemoryStore {
  watches = 0;
  override watch(opts: WatchOptions, handlers: WatchHandlers): ReturnType<Store['watch']> {
    this.watches++;
    return super.watch(opts, handlers);
  }
}

function writer(store: Store): TaskStatusWriter {
  return { updateStatus: (o: ApiObject) => store.update(o, o.metadata.revision), get: (k) => store.get(k) };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The fixtures name tasks `<service>-<slot>-<suffix>`. */
const full = (svc: string, slot: number, suffix: string): string => `${svc}-${slot}-${suffix}`;

async function tasksIn(store: Store): Promise<Task[]> {
  return (await store.list('Task')).items as Task[];
}

describe('supervisors sharing one task informer', { timeout: 20_000 }, () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('run each node its own tasks, over one watch', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hollow-sup-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const store = new CountingStore();
    const svc = service('web');
    for (let i = 0; i < 6; i++) await store.create(task(svc, i + 1, 'assigned', { node: `n${i % 3}`, name: `t${i}`, revision: 0 }));
    const shared = new SharedTaskInformer(store);
    cleanups.push(() => shared.stop());
    await shared.start();
    const runtimes = new Map<string, HollowRuntime>();
    for (const n of ['n0', 'n1', 'n2']) {
      const runtime = new HollowRuntime({ startDelayMs: 5 });
      runtimes.set(n, runtime);
      const sup = new TaskSupervisor({ nodeName: n, store, status: writer(store), runtime, images: new HollowTaskImages(), logDir: path.join(dir, n), sharedTasks: shared, workers: 2 });
      cleanups.push(() => sup.stop());
      await sup.start();
    }
    const running = await until('6 running', async () => {
      const ts = await tasksIn(store);
      return ts.filter((t) => t.status?.state === 'running').length === 6 ? ts : undefined;
    });
    assert.equal(store.watches, 1, 'one watch for every node');
    for (const t of running) {
      const rt = runtimes.get(t.spec.node) as HollowRuntime;
      const c = await rt.state(`default_${t.metadata.name}`);
      assert.equal(c?.status, 'running', `${t.metadata.name} runs on ${t.spec.node}`);
      assert.equal(t.status?.pid, c?.pid);
    }
    for (const rt of runtimes.values()) assert.equal(rt.size, 2);

    // A task assigned later is picked up by its node only.
    await store.create(task(svc, 7, 'assigned', { node: 'n2', name: 't6', revision: 0 }));
    await until('t6 running', async () => ((await tasksIn(store)).find((t) => t.metadata.name === full('web', 7, 't6'))?.status?.state === 'running' ? true : undefined));
    assert.equal(runtimes.get('n2')?.size, 3);
    assert.equal(runtimes.get('n0')?.size, 2);

    // Desired shutdown stops and removes the fake container; a crash is reported failed.
    const t0 = running.find((t) => t.metadata.name === full('web', 1, 't0')) as Task;
    const fresh0 = (await store.get({ kind: 'Task', namespace: 'default', name: t0.metadata.name })) as Task;
    await store.update({ ...fresh0, spec: { ...fresh0.spec, desiredState: 'shutdown' } }, fresh0.metadata.revision);
    await until('t0 shutdown and removed', async () => {
      const t = (await store.get({ kind: 'Task', namespace: 'default', name: t0.metadata.name })) as Task;
      return t.status?.state === 'shutdown' && (await runtimes.get(t0.spec.node)?.state(`default_${t0.metadata.name}`)) === undefined ? true : undefined;
    });
    const t1 = running.find((t) => t.metadata.name === full('web', 2, 't1')) as Task;
    runtimes.get(t1.spec.node)?.crash(`default_${t1.metadata.name}`, 3);
    const failed = await until('t1 failed', async () => {
      const t = (await store.get({ kind: 'Task', namespace: 'default', name: t1.metadata.name })) as Task;
      return t.status?.state === 'failed' ? t : undefined;
    });
    assert.equal(failed.status?.exitCode, 3);
    assert.match(failed.status?.message ?? '', /exited with code 3/);
  });

  it('a supervisor without a shared view still runs its own informer (the real agent)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hollow-sup-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const store = new CountingStore();
    const svc = service('api');
    await store.create(task(svc, 1, 'assigned', { node: 'solo', name: 'a1', revision: 0 }));
    await store.create(task(svc, 2, 'assigned', { node: 'other', name: 'a2', revision: 0 }));
    const runtime = new HollowRuntime({ startDelayMs: 0 });
    const sup = new TaskSupervisor({ nodeName: 'solo', store, status: writer(store), runtime, images: new HollowTaskImages(), logDir: dir });
    cleanups.push(() => sup.stop());
    await sup.start();
    await until('a1 running', async () => ((await tasksIn(store)).find((t) => t.metadata.name === full('api', 1, 'a1'))?.status?.state === 'running' ? true : undefined));
    assert.equal(store.watches, 1);
    assert.equal(runtime.size, 1);
    assert.equal((await tasksIn(store)).find((t) => t.metadata.name === full('api', 2, 'a2'))?.status?.state, 'assigned');
  });
});
