/**
 * The node lifecycle on the real SQLite store with the real controllers (default 6 s grace) and
 * fake agents (node-fake-agents.ts: heartbeats every 2 s, the real planTask over pretend
 * containers): tasks spread over nodes; a node that stops heartbeating is down within the grace
 * period and its tasks run elsewhere within 10 s; when it comes back its old containers are
 * stopped and its old tasks stay shut down; drain moves tasks (replacement running before the
 * old stops); cordon stops new placements; a label change reschedules. Every wait is bounded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConflictError } from '../../src/api/errors.js';
import type { NodeObject, Service, Task } from '../../src/api/kinds.js';
import { startControllers, type RunningControllers } from '../../src/controllers/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/store.js';
import { delay, eventually, service } from './fixtures.js';
import { startFakeAgents, type FakeAgent, type AgentEvent } from './node-fake-agents.js';


void describe('node lifecycle with fake agents on SQLite', () => {
  let dir: string;
  let store: Store;
  let controllers: RunningControllers | undefined;
  let agents: Map<string, FakeAgent>;
  let journal: AgentEvent[];
  let stopAgents: (() => Promise<void>) | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-node-'));
    store = openSqliteStore({ path: join(dir, 'store.db'), synchronous: 'normal' });
    const started = await startFakeAgents(store, [
      { name: 'n1', labels: { dc: 'a' } }, { name: 'n2', labels: { dc: 'a' } }, { name: 'n3', labels: { dc: 'b' } }, { name: 'n4', labels: { dc: 'b', ssd: 'true' } },
    ]);
    ({ agents, journal } = started);
    stopAgents = started.stopAll;
    controllers = startControllers(store, { log: (m) => { if (process.env.CTRL_LOG) console.log(new Date().toISOString(), m.slice(0, 300)); } });
    await controllers.ready;
  });

  after(async () => {
    await stopAgents?.();
    await controllers?.stop();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const tasksOf = async (svc: string): Promise<Task[]> => (await store.list('Task', { namespace: 'default', labelSelector: { service: svc } })).items as Task[];
  const live = (ts: Task[]): Task[] => ts.filter((t) => t.spec.desiredState === 'running');
  const nodeOf = async (name: string): Promise<NodeObject> => (await store.get({ kind: 'Node', namespace: '', name })) as NodeObject;

  async function applyService(svc: Service): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const cur = (await store.get({ kind: 'Service', namespace: 'default', name: svc.metadata.name })) as Service | undefined;
      try {
        if (cur === undefined) await store.create(svc);
        else await store.update({ ...cur, spec: svc.spec, metadata: { ...cur.metadata, generation: cur.metadata.generation + 1 } }, cur.metadata.revision);
        return;
      } catch (e) {
        if (!(e instanceof ConflictError) || attempt >= 20) throw e;
      }
    }
  }

  /** Read-modify-write of a node's spec or labels (as `flotilla node ...` does), retrying heartbeat races. */
  async function changeNode(name: string, change: (n: NodeObject) => NodeObject): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const n = await nodeOf(name);
      try {
        await store.update(change(n), n.metadata.revision);
        return;
      } catch (e) {
        if (!(e instanceof ConflictError) || attempt >= 20) throw e;
      }
    }
  }

  const runningOn = async (svc: string): Promise<string[]> => {
    const ts = live(await tasksOf(svc));
    assert.ok(ts.every((t) => t.status?.state === 'running'), ts.map((t) => `${t.metadata.name}:${t.status?.state}:${t.status?.message}`).join(' '));
    return ts.map((t) => t.spec.node).sort();
  };

  void it('spreads a service over the nodes, then fails over a dead node within 10 s and keeps it stopped when it returns', { timeout: 40_000 }, async () => {
    await applyService(service('web', { replicas: 4 }));
    assert.deepEqual(await eventually('4 running, one per node', 10_000, async () => {
      const on = await runningOn('web');
      assert.equal(on.length, 4);
      return on;
    }), ['n1', 'n2', 'n3', 'n4']);
    const victim = live(await tasksOf('web')).find((t) => t.spec.node === 'n1') as Task;

    const n1 = agents.get('n1') as FakeAgent;
    await n1.beat();
    const killedAt = Date.now();
    n1.alive = false; // no heartbeats, no reports; its "containers" keep running
    const down = await eventually('n1 down', 10_000, async () => {
      const n = await nodeOf('n1');
      assert.equal(n.status?.state, 'down');
      return Date.now() - killedAt;
    });
    assert.ok(down >= 6_000 && down < 8_000, `down after ${down} ms (grace 6 s, sweep <= 1 s)`);
    assert.match((await nodeOf('n1')).status?.message ?? '', /^no heartbeat since \d{4}-.*\(grace period 6s\)$/);
    const orphan = (await tasksOf('web')).find((t) => t.metadata.name === victim.metadata.name);
    assert.equal(orphan?.status?.state, 'orphaned');
    assert.equal(orphan?.status?.message, 'node n1 is down');
    assert.equal(orphan?.spec.desiredState, 'shutdown');
    await eventually('a replacement running elsewhere', 10_000 - (Date.now() - killedAt), async () => {
      const on = await runningOn('web');
      assert.equal(on.length, 4);
      assert.ok(!on.includes('n1'), on.join());
    });
    const failover = Date.now() - killedAt;
    assert.ok(failover < 10_000, `replaced after ${failover} ms`);

    n1.alive = true;
    await n1.beat();
    await eventually('n1 ready again and its old container stopped', 5_000, async () => {
      assert.equal((await nodeOf('n1')).status?.state, 'ready');
      assert.ok(journal.some((e) => e.node === 'n1' && e.task === victim.metadata.name && e.what === 'stopped'), 'stopped');
      assert.equal(n1.containers.has(victim.metadata.name), false, 'and removed');
    });
    await delay(300);
    const old = (await tasksOf('web')).find((t) => t.metadata.name === victim.metadata.name);
    assert.equal(old?.status?.state, 'orphaned', 'the old task stays ended');
    assert.equal(old?.spec.desiredState, 'shutdown');
    assert.equal((await runningOn('web')).length, 4, 'still exactly 4 running');
  });

  void it('drain moves the tasks off a node, each replacement running before the old one stops', { timeout: 30_000 }, async () => {
    const before = live(await tasksOf('web')).filter((t) => t.spec.node === 'n2' && t.status?.state === 'running');
    assert.ok(before.length >= 1, 'n2 has tasks');
    await changeNode('n2', (n) => ({ ...n, spec: { ...n.spec, availability: 'drain' } }));
    const on = await eventually('n2 empty, 4 running elsewhere', 15_000, async () => {
      const nodes = await runningOn('web');
      assert.equal(nodes.length, 4);
      assert.ok(!nodes.includes('n2'), nodes.join());
      return nodes;
    });
    assert.ok(!on.includes('n2'), on.join());
    for (const old of before) {
      const stoppedAt = await eventually(`${old.metadata.name} stopped`, 5_000, async () => {
        const e = journal.find((x) => x.task === old.metadata.name && x.what === 'stopped');
        assert.ok(e, 'stopped');
        return e.atMs;
      });
      const t = (await tasksOf('web')).find((x) => x.metadata.name === old.metadata.name);
      assert.match(t?.status?.message ?? '', /^moved off node n2: replaced by web-\d-\w+ on node n\d$/);
      const replacement = (t?.status?.message ?? '').split(' ')[6] ?? '';
      const startedAt = journal.find((x) => x.task === replacement && x.what === 'started')?.atMs;
      assert.ok(startedAt !== undefined && startedAt <= stoppedAt, `replacement ${replacement} started (${startedAt}) before the old stopped (${stoppedAt})`);
    }
    await changeNode('n2', (n) => ({ ...n, spec: { ...n.spec, availability: 'active' } }));
  });

  void it('cordon stops new placements on a node; uncordon resumes them', { timeout: 30_000 }, async () => {
    await changeNode('n3', (n) => ({ ...n, spec: { ...n.spec, availability: 'pause' } }));
    await applyService(service('api', { replicas: 6 }));
    const on = await eventually('6 api tasks running', 10_000, async () => {
      const nodes = await runningOn('api');
      assert.equal(nodes.length, 6);
      return nodes;
    });
    assert.ok(!on.includes('n3'), `nothing on the cordoned node: ${on.join()}`);
    await changeNode('n3', (n) => ({ ...n, spec: { ...n.spec, availability: 'active' } }));
    await applyService(service('api', { replicas: 8 }));
    const after2 = await eventually('8 api tasks running', 10_000, async () => {
      const nodes = await runningOn('api');
      assert.equal(nodes.length, 8);
      return nodes;
    });
    assert.ok(after2.includes('n3'), `n3 takes tasks again: ${after2.join()}`);
  });

  void it('a label change reschedules tasks whose constraints no longer match', { timeout: 30_000 }, async () => {
    await applyService(service('db', { replicas: 1, placement: { constraints: ['node.labels.ssd == true'], spread: [], tolerations: [] } }));
    assert.deepEqual(await eventually('db on n4', 10_000, async () => {
      const nodes = await runningOn('db');
      assert.equal(nodes.length, 1);
      return nodes;
    }), ['n4']);
    await changeNode('n3', (n) => ({ ...n, metadata: { ...n.metadata, labels: { ...n.metadata.labels, ssd: 'true' } } }));
    await changeNode('n4', (n) => ({ ...n, metadata: { ...n.metadata, labels: { dc: 'b' } } }));
    assert.deepEqual(await eventually('db moved to n3', 10_000, async () => {
      const nodes = await runningOn('db');
      assert.deepEqual(nodes, ['n3']);
      return nodes;
    }), ['n3']);
    const old = (await tasksOf('db')).find((t) => t.spec.node === 'n4');
    assert.equal(old?.spec.desiredState, 'shutdown');
    assert.match(old?.status?.message ?? '', /^moved off node n4: replaced by /);
  });

  void it('the fake agents met no errors', () => {
    assert.deepEqual([...agents.values()].flatMap((a) => a.errors), []);
  });
});
