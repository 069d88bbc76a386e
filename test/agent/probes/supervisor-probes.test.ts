/**
 * Probes through the TaskSupervisor (the level-triggered integration): a HollowRuntime, an
 * in-memory store, the real prober factory on a ManualClock with a scripted checker. Readiness
 * written on transitions only, liveness and startup failures failing the task (the message
 * kept over the exit that follows, the container stopped), Events recorded, adoption keeping a
 * ready task ready without a write, a node without probers, and stop() leaving no timer.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { EventObject, Probe, ServiceSpec, Task } from '../../../src/api/kinds.js';
import type { ApiObject } from '../../../src/api/object.js';
import { ManualClock } from '../../../src/controllers/framework/clock.js';
import { HollowRuntime } from '../../../src/agent/hollow/hollow-runtime.js';
import { HollowTaskImages } from '../../../src/agent/hollow/hollow-images.js';
import { newProberFactory, ProbeEventRecorder } from '../../../src/agent/probes/index.js';
import type { CheckOutcome, ProbeKind } from '../../../src/agent/probes/verdict.js';
import { TaskSupervisor, type TaskStatusWriter } from '../../../src/agent/tasks/supervisor.js';
import type { Store } from '../../../src/store/store.js';
import { MemoryStore } from '../../helpers/memory-store.js';
import { service, task } from '../../controllers/fixtures.js';

const probe = (over: Partial<Probe> = {}): Probe => ({ http: { path: '/ready', port: 8080, scheme: 'http', headers: {} }, initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1, ...over });
const writer = (store: Store): TaskStatusWriter => ({ updateStatus: (o: ApiObject) => store.update(o, o.metadata.revision), get: (k) => store.get(k) });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One node: store, runtime, supervisor with probers whose answers the test sets per task and kind. */
class Harness {
  readonly store = new MemoryStore();
  readonly runtime = new HollowRuntime({ startDelayMs: 0 });
  readonly clock = new ManualClock(Date.parse('2026-01-01T00:00:00.000Z'));
  readonly answers = new Map<string, CheckOutcome>();
  readonly events: EventObject[] = [];
  checks = 0;
  sup: TaskSupervisor | undefined;
  private recorder: ProbeEventRecorder | undefined;

  constructor(readonly dir: string) {}

  async start(probing = true, drainMs?: number): Promise<void> {
    this.recorder = new ProbeEventRecorder({ create: async (o) => { this.events.push(o as EventObject); return o; } }, 'n1');
    const probers = newProberFactory({
      runtime: this.runtime, events: this.recorder, clock: this.clock,
      checker: (t) => ({
        check: async (kind: ProbeKind): Promise<CheckOutcome> => {
          this.checks++;
          return this.answers.get(`${t.metadata.name}/${kind}`) ?? { ok: true, message: kind === 'readiness' ? 'HTTP 200' : 'exit code 0' };
        },
      }),
    });
    this.sup = new TaskSupervisor({ nodeName: 'n1', store: this.store, status: writer(this.store), runtime: this.runtime, images: new HollowTaskImages(), logDir: this.dir, ...(probing ? { probers } : {}), ...(drainMs !== undefined ? { drainMs } : {}) });
    await this.sup.start();
  }

  async stop(): Promise<void> {
    await this.sup?.stop();
    await this.recorder?.stop();
  }

  async add(name: string, probes: ServiceSpec['probes']): Promise<string> {
    const t = task(service('web', { probes }), 1, 'assigned', { node: 'n1', name, revision: 0 });
    await this.store.create(t);
    return t.metadata.name;
  }

  async get(name: string): Promise<Task> {
    return (await this.store.get({ kind: 'Task', namespace: 'default', name })) as Task;
  }

  /** Advances the probe clock in 100 ms steps, giving the supervisor real time to write. */
  async tick(ms: number): Promise<void> {
    for (let i = 0; i < ms / 100; i++) {
      this.clock.advance(100);
      await sleep(5);
    }
  }

  async until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await this.tick(100);
    }
  }
}

describe('TaskSupervisor with probes', { timeout: 60_000 }, () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });
  async function harness(probing = true, drainMs?: number): Promise<Harness> {
    const dir = await mkdtemp(path.join(tmpdir(), 'sup-probes-'));
    const h = new Harness(dir);
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    cleanups.push(() => h.stop());
    await h.start(probing, drainMs);
    return h;
  }

  it('drain: a ready task told to stop keeps running for drainMs (out of rotation first), then stops', async () => {
    const h = await harness(true, 800);
    const name = await h.add('d1', {});
    const up = await h.until('ready', async () => ((await h.get(name)).status?.ready === true ? h.get(name) : undefined));
    const t0 = Date.now();
    await h.store.update({ ...up, spec: { ...up.spec, desiredState: 'shutdown' } }, up.metadata.revision);
    await sleep(300);
    assert.equal((await h.runtime.state(`default_${name}`))?.status, 'running', 'still serving during the drain');
    await h.until('shutdown', async () => ((await h.get(name)).status?.state === 'shutdown' ? true : undefined));
    assert.ok(Date.now() - t0 >= 800, `stopped after ${Date.now() - t0} ms`);
  });

  it('readiness: ready after a pass, not ready after failureThreshold failures, one write per transition', async () => {
    const h = await harness();
    const name = await h.add('r1', { readiness: probe() });
    h.answers.set(`${name}/readiness`, { ok: false, message: 'HTTP 503' });
    const failing = await h.until('not ready with a failure written', async () => {
      const t = await h.get(name);
      return t.status?.probes?.readiness?.result === 'failure' ? t : undefined;
    });
    assert.equal(failing.status?.state, 'running');
    assert.equal(failing.status?.ready, false);
    assert.deepEqual({ ...failing.status?.probes?.readiness, time: '' }, { result: 'failure', message: 'HTTP 503', consecutive: 3, time: '' });
    h.answers.delete(`${name}/readiness`);
    const ready = await h.until('ready', async () => ((await h.get(name)).status?.ready === true ? h.get(name) : undefined));
    assert.equal(ready.status?.readySince, ready.status?.probes?.readiness?.time);
    const checks = h.checks;
    await h.tick(5_000);
    assert.ok(h.checks >= checks + 4, 'probes went on');
    assert.equal((await h.get(name)).metadata.revision, ready.metadata.revision, 'no store write while nothing changes');
    h.answers.set(`${name}/readiness`, { ok: false, message: 'connect ECONNREFUSED 10.88.1.5:8080' });
    const unready = await h.until('unready again', async () => ((await h.get(name)).status?.ready === false ? h.get(name) : undefined));
    assert.equal(unready.status?.readySince, undefined);
    assert.equal(unready.status?.probes?.readiness?.message, 'connect ECONNREFUSED 10.88.1.5:8080');
    const mine = h.events.filter((e) => e.spec.involved === `Task/default/${name}`);
    assert.deepEqual(mine.map((e) => `${e.spec.type} ${e.spec.reason}`), ['Warning ProbeNotReady', 'Normal ProbeReady', 'Warning ProbeNotReady']);
    assert.equal(mine[0]?.spec.source, 'agent/n1');
    assert.match(mine[2]?.spec.message ?? '', /^readiness probe failed \(3 times in a row\): connect ECONNREFUSED/);
  });

  it('liveness: fails the task with the probe message, stops the container, keeps the message', async () => {
    const h = await harness();
    const name = await h.add('l1', { liveness: probe({ exec: { command: ['test', '-f', '/tmp/alive'] }, http: undefined, failureThreshold: 2 }) });
    const up = await h.until('running and ready', async () => ((await h.get(name)).status?.ready === true ? h.get(name) : undefined));
    assert.ok(up.status?.readySince !== undefined, 'a task without readiness probe has readySince');
    h.answers.set(`${name}/liveness`, { ok: false, message: 'exit code 1' });
    const failed = await h.until('failed', async () => ((await h.get(name)).status?.state === 'failed' ? h.get(name) : undefined));
    assert.equal(failed.status?.message, 'liveness probe failed: exit code 1');
    assert.equal(failed.status?.ready, false);
    assert.equal(failed.status?.probes?.liveness?.result, 'failure');
    await h.until('container gone', async () => ((await h.runtime.state(`default_${name}`)) === undefined ? true : undefined));
    assert.equal((await h.get(name)).status?.message, 'liveness probe failed: exit code 1', 'the exit did not overwrite it');
    assert.ok(h.events.some((e) => e.spec.reason === 'LivenessFailed' && e.spec.type === 'Warning'));
  });

  it('startup: never passing fails the task; liveness and readiness never ran', async () => {
    const h = await harness();
    const name = await h.add('s1', { startup: probe({ tcp: { port: 8080 }, http: undefined, failureThreshold: 3 }), readiness: probe() });
    h.answers.set(`${name}/startup`, { ok: false, message: 'connect ECONNREFUSED 10.88.1.5:8080' });
    const failed = await h.until('failed', async () => ((await h.get(name)).status?.state === 'failed' ? h.get(name) : undefined));
    assert.equal(failed.status?.message, 'startup probe failed: connect ECONNREFUSED 10.88.1.5:8080');
    assert.equal(failed.status?.probes?.readiness, undefined);
    assert.deepEqual(h.events.map((e) => e.spec.reason), ['StartupFailed']);
  });

  it('startup passing, then readiness: StartupSucceeded then ProbeReady', async () => {
    const h = await harness();
    const name = await h.add('s2', { startup: probe({ tcp: { port: 8080 }, http: undefined }), readiness: probe() });
    const t = await h.until('ready', async () => ((await h.get(name)).status?.ready === true ? h.get(name) : undefined));
    assert.equal(t.status?.probes?.startup?.result, 'success');
    assert.deepEqual(h.events.map((e) => e.spec.reason), ['StartupSucceeded', 'ProbeReady']);
  });

  it('adoption: a new supervisor keeps a ready task ready without a write, and probes it', async () => {
    const h = await harness();
    const name = await h.add('a1', { readiness: probe() });
    const ready = await h.until('ready', async () => ((await h.get(name)).status?.ready === true ? h.get(name) : undefined));
    await h.stop();
    h.checks = 0;
    await h.start();
    await h.tick(2_000);
    assert.ok(h.checks >= 1, 'the adopted task is probed');
    const after = await h.get(name);
    assert.equal(after.metadata.revision, ready.metadata.revision, 'no write: still ready since then');
    h.answers.set(`${name}/readiness`, { ok: false, message: 'HTTP 500' });
    await h.until('unready', async () => ((await h.get(name)).status?.ready === false ? true : undefined));
  });

  it('a node without probers (hollow) reports a probed task ready once running', async () => {
    const h = await harness(false);
    const name = await h.add('h1', { readiness: probe(), liveness: probe() });
    const t = await h.until('ready', async () => ((await h.get(name)).status?.ready === true ? h.get(name) : undefined));
    assert.equal(t.status?.state, 'running');
    assert.ok(t.status?.readySince !== undefined);
    assert.equal(h.checks, 0);
  });

  it('stop() stops every prober: no timer left, no probe after', async () => {
    const h = await harness();
    await h.add('x1', { readiness: probe(), liveness: probe() });
    await h.until('probing', async () => (h.checks > 0 ? true : undefined));
    await h.stop();
    assert.equal(h.clock.pending(), 0);
    const checks = h.checks;
    await h.tick(3_000);
    assert.equal(h.checks, checks);
  });
});
