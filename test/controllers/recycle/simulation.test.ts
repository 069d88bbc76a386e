/**
 * Reverse uptime with the real controllers on the real SQLite store, a fake clock (ManualClock)
 * and the agent played through the store (pretend-agent.ts): three nodes joined at T pass
 * `maxNodeAge` 24h; each is recycled in turn (never two at once), a fake provisioner "adds" a
 * replacement node, the service keeps 3 running and ready tasks all along (replacements first),
 * the Nodes are deleted and Revocations written, with the Events of each step. The controllers
 * are restarted mid-drain (as after a server restart or a leader change) and mid-provisioning
 * (the hook is not run twice; the recycle goes on after the hook's bound).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import type { EventObject, NodeObject, Revocation, Task } from '../../../src/api/kinds.js';
import { ManualClock } from '../../../src/controllers/framework/clock.js';
import { startControllers, type RunningControllers } from '../../../src/controllers/index.js';
import { isRecycling } from '../../../src/controllers/recycle/compute.js';
import type { NodeProvisioner } from '../../../src/controllers/recycle/provisioner.js';
import { openSqliteStore } from '../../../src/store/sqlite/index.js';
import type { Store } from '../../../src/store/store.js';
import { delay, node, service } from '../fixtures.js';
import { agentRound } from '../pretend-agent.js';

const H = 3_600_000;

/** A provisioner that records its calls and registers a fresh node `r-NAME` (joined now), or hangs. */
class FakeProvisioner implements NodeProvisioner {
  readonly calls: string[] = [];
  private release: Array<() => void> = [];
  constructor(private readonly store: Store, private readonly clock: ManualClock, private readonly hang = false) {}
  async provision(n: { name: string }): Promise<{ ok: boolean; message: string }> {
    this.calls.push(n.name);
    if (this.hang) {
      await new Promise<void>((r) => this.release.push(r));
      return { ok: false, message: 'stopped' };
    }
    await this.store.create(joined(`r-${n.name}`, this.clock.now()));
    return { ok: true, message: `added r-${n.name}` };
  }
  stop(): void {
    for (const r of this.release.splice(0)) r();
  }
}

function joined(name: string, atMs: number): NodeObject {
  const n = node(name);
  return { ...n, metadata: { ...n.metadata, revision: 0, creationTimestamp: new Date(atMs).toISOString() } };
}

void describe('reverse uptime: recycle controller with a fake clock on SQLite', () => {
  let dir: string;
  let store: Store;
  let controllers: RunningControllers | undefined;
  const dirs: string[] = [];

  afterEach(async () => {
    await controllers?.stop();
    controllers = undefined;
    await store?.close();
  });
  after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

  async function setUp(clock: ManualClock): Promise<void> {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-recycle-'));
    dirs.push(dir);
    store = openSqliteStore({ path: join(dir, 'store.db'), synchronous: 'normal' });
    for (const name of ['n1', 'n2', 'n3']) await store.create(joined(name, clock.now()));
    await store.create(service('web', { replicas: 3 }));
  }

  async function start(clock: ManualClock, provisioner: NodeProvisioner): Promise<void> {
    controllers = startControllers(store, { clock, recycle: { maxNodeAgeMs: 24 * H, provisioner, provisionerTimeoutMs: 60_000, drainTimeoutMs: 600_000 } });
    await controllers.ready;
  }

  const nodes = async (): Promise<NodeObject[]> => (await store.list('Node')).items as NodeObject[];
  const servingTasks = async (): Promise<Task[]> => ((await store.list('Task')).items as Task[])
    .filter((t) => t.status?.state === 'running' && t.status.ready);

  /** Runs agent rounds and moves the clock by `stepMs` until `done`; checks the invariants at each step. */
  async function runUntil(clock: ManualClock, what: string, done: () => Promise<boolean>, opts: { stepMs?: number; maxSteps?: number; minServing?: number } = {}): Promise<void> {
    for (let i = 0; i < (opts.maxSteps ?? 600); i++) {
      await agentRound(store);
      await delay(5);
      const all = await nodes();
      const recycling = all.filter(isRecycling).map((n) => n.metadata.name);
      assert.ok(recycling.length <= 1, `two nodes recycling at once: ${recycling.join(', ')}`);
      if (opts.minServing !== undefined) assert.ok((await servingTasks()).length >= opts.minServing, `fewer than ${opts.minServing} running ready tasks`);
      if (await done()) return;
      clock.advance(opts.stepMs ?? 500);
    }
    assert.fail(`not reached: ${what}`);
  }

  const recycleEvents = async (): Promise<string[]> => ((await store.list('Event')).items as EventObject[])
    .filter((e) => e.spec.source === 'controller/recycle')
    .sort((a, b) => a.metadata.revision - b.metadata.revision)
    .map((e) => `${e.spec.involved.slice('Node//'.length)} ${e.spec.reason}`);

  void it('recycles the three old nodes one at a time, keeping 3 ready tasks, across a restart mid-drain', { timeout: 120_000 }, async () => {
    const clock = new ManualClock(Date.now());
    await setUp(clock);
    const hook = new FakeProvisioner(store, clock);
    await start(clock, hook);
    await runUntil(clock, '3 ready tasks', async () => (await servingTasks()).length === 3);
    clock.advance(24 * H + 1_000);
    let restarted = false;
    await runUntil(clock, 'n1, n2, n3 removed', async () => {
      const all = await nodes();
      if (!restarted && all.find((n) => n.metadata.name === 'n2')?.status?.recycle?.phase === 'draining') {
        restarted = true;
        await controllers?.stop();
        await start(clock, hook);
      }
      return !all.some((n) => ['n1', 'n2', 'n3'].includes(n.metadata.name));
    }, { minServing: 3 });
    assert.ok(restarted, 'the controllers were restarted while n2 drained');
    assert.deepEqual([...hook.calls].sort(), ['n1', 'n2', 'n3'], 'one provisioner call per node');
    assert.deepEqual((await nodes()).map((n) => n.metadata.name).sort(), ['r-n1', 'r-n2', 'r-n3']);
    for (const name of ['n1', 'n2', 'n3']) {
      const rev = (await store.get({ kind: 'Revocation', namespace: '', name: `node.${name}` })) as Revocation | undefined;
      assert.equal(rev?.spec.subject, `node:${name}`);
      assert.equal(rev?.spec.reason, 'recycled: older than 24h');
    }
    await runUntil(clock, 'the last NodeRemoved Event', async () => (await recycleEvents()).filter((e) => e.endsWith('NodeRemoved')).length === 3);
    const events = await recycleEvents();
    const moved = ((await store.list('Task')).items as Task[]).filter((t) => /^moved off node n\d: replaced by /.test(t.status?.message ?? ''));
    assert.ok(moved.length >= 3, `tasks moved replacement first (${moved.length})`);
    const ofN1 = events.filter((e) => e.startsWith('n1 ')).map((e) => e.slice(3));
    assert.deepEqual(ofN1, ['RecycleStarted', 'ProvisionerCalled', 'Cordoned', 'Drained', 'NodeRemoved']);
    // One at a time: n(k+1) starts only after n(k) was removed.
    const starts = events.filter((e) => e.endsWith('RecycleStarted') || e.endsWith('NodeRemoved'));
    for (let i = 0; i + 1 < starts.length; i += 2) assert.ok(starts[i]?.endsWith('RecycleStarted') && starts[i + 1]?.endsWith('NodeRemoved') && starts[i]?.split(' ')[0] === starts[i + 1]?.split(' ')[0], `interleaved: ${starts.join(', ')}`);
  });

  void it('a restart while the provisioner runs: the hook is not run again, the recycle goes on after its bound', { timeout: 120_000 }, async () => {
    const clock = new ManualClock(Date.now());
    await setUp(clock);
    const hanging = new FakeProvisioner(store, clock, true);
    await start(clock, hanging);
    await runUntil(clock, '3 ready tasks', async () => (await servingTasks()).length === 3);
    clock.advance(24 * H + 1_000);
    await runUntil(clock, 'a node provisioning', async () => (await nodes()).some((n) => n.status?.recycle?.phase === 'provisioning'), { stepMs: 100 });
    const first = hanging.calls[0];
    assert.ok(first !== undefined);
    await controllers?.stop();
    const hook = new FakeProvisioner(store, clock);
    await start(clock, hook);
    await runUntil(clock, `${first} removed`, async () => !(await nodes()).some((n) => n.metadata.name === first), { minServing: 3 });
    assert.deepEqual(hanging.calls, [first]);
    assert.ok(!hook.calls.includes(first), 'not run a second time by the new leader');
    const failed = ((await store.list('Event')).items as EventObject[]).find((e) => e.spec.reason === 'ProvisionerFailed');
    assert.match(failed?.spec.message ?? '', /no provisioner result after 1m/);
    assert.equal(failed?.spec.type, 'Warning');
  });
});
