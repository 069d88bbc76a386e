/**
 * Heartbeats by Lease: the tracker of the node loop (first sight is not a beat; either source
 * counts), the pure decision that makes a down node ready again once a beat is seen, and the
 * real controllers on SQLite with a node that renews only its Lease (its Node status heartbeat
 * goes stale): it stays ready, goes down within the grace period when the renewals stop, comes
 * back when they resume, and a deleted node's expired Lease is deleted. Every wait is bounded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NotFoundError } from '../../src/api/errors.js';
import type { NodeObject } from '../../src/api/kinds.js';
import { leaseOf } from '../../src/agent/node/registration.js';
import { startControllers, type RunningControllers } from '../../src/controllers/index.js';
import { computeNodeActions } from '../../src/controllers/node/compute.js';
import { HeartbeatTracker } from '../../src/controllers/node/controller.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/store.js';
import { delay, eventually, node, service, T0, task } from './fixtures.js';


void describe('HeartbeatTracker', () => {
  void it('first sight of a source is not a beat happening; a change is', () => {
    const b = new HeartbeatTracker();
    assert.equal(b.observe('n1', 'node', 'h1', 100), false);
    assert.equal(b.observe('n1', 'lease', 'r1', 200), false);
    assert.equal(b.lastMs('n1'), 200);
    assert.equal(b.liveMs('n1'), undefined);
    assert.equal(b.observe('n1', 'lease', 'r1', 300), false, 'same value: no beat');
    assert.equal(b.observe('n1', 'lease', 'r2', 400), true);
    assert.equal(b.lastMs('n1'), 400);
    assert.equal(b.liveMs('n1'), 400);
  });

  void it('either source keeps a node alive; expiry needs both stale', () => {
    const b = new HeartbeatTracker();
    b.observe('n1', 'node', 'h1', 0);
    b.observe('n1', 'lease', 'r1', 0);
    b.observe('n1', 'lease', 'r2', 5_000);
    assert.deepEqual(b.expired(6_000, 3_000), []);
    assert.deepEqual(b.expired(9_000, 3_000), ['n1']);
  });

  void it('a node whose Node and Lease are both gone is forgotten', () => {
    const b = new HeartbeatTracker();
    b.observe('n1', 'node', 'h1', 0);
    b.observe('n1', 'lease', 'r1', 0);
    b.observe('n1', 'node', undefined, 10);
    assert.equal(b.lastMs('n1'), 0, 'the Lease still counts');
    b.observe('n1', 'lease', undefined, 20);
    assert.equal(b.lastMs('n1'), undefined);
    assert.deepEqual(b.expired(100_000, 1), []);
  });
});

void describe('a down node whose heartbeat resumes', () => {
  const svc = service('web', { replicas: 2 });
  const base = { nowMs: T0 + 100_000, gracePeriodMs: 6_000, moveTimeoutMs: 60_000, serviceOf: () => svc, slotTasks: () => [] };
  const down = node('n1', { state: 'down' });
  const live = task(svc, 1, 'running', { node: 'n1' });
  const cases: Array<{ name: string; last: number; resumed: number | undefined; want: string[] }> = [
    { name: 'beat seen within the grace period: ready again, nothing else', last: T0 + 99_000, resumed: T0 + 99_000, want: ['Node n1 heartbeat resumed ready'] },
    { name: 'no beat seen since the restart of the loop: stays down, late tasks orphaned', last: T0 + 99_000, resumed: undefined, want: ['Task web-1-x1run node down orphaned'] },
    { name: 'the last beat seen is older than the grace period: stays down', last: T0 + 90_000, resumed: T0 + 90_000, want: ['Task web-1-x1run node down orphaned'] },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const plan = computeNodeActions({ ...base, node: down, tasks: [live], lastHeartbeatMs: c.last, heartbeatResumedMs: c.resumed });
      const got = plan.actions.map((a) => {
        assert.ok(a.type === 'update');
        const o = a.object as NodeObject;
        return `${o.kind} ${o.metadata.name} ${a.reason} ${(o.status as { state: string }).state}`;
      });
      assert.deepEqual(got, c.want);
    });
  }

  void it('a ready node is never revived twice (nothing to do)', () => {
    const plan = computeNodeActions({ ...base, node: node('n1'), tasks: [], lastHeartbeatMs: T0 + 99_000, heartbeatResumedMs: T0 + 99_000 });
    assert.deepEqual(plan.actions, []);
  });
});

void describe('Lease heartbeats with the real controllers on SQLite', () => {
  const GRACE = 1_500;
  let dir: string;
  let store: Store;
  let controllers: RunningControllers | undefined;
  let renewing = true;
  let renewer: NodeJS.Timeout | undefined;

  const nodeState = async (): Promise<string | undefined> => ((await store.get({ kind: 'Node', namespace: '', name: 'n1' })) as NodeObject | undefined)?.status?.state;
  const renew = async (): Promise<void> => {
    const lease = leaseOf('n1', 300);
    try {
      await store.update(lease);
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
      await store.create(lease);
    }
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-lease-'));
    store = openSqliteStore({ path: join(dir, 'store.db'), synchronous: 'normal' });
    const n = node('n1');
    await store.create({ ...n, status: { ...(n.status as NonNullable<NodeObject['status']>), heartbeat: new Date().toISOString() } });
    await renew();
    renewer = setInterval(() => { if (renewing) void renew().catch(() => undefined); }, 300);
    controllers = startControllers(store, { nodeGracePeriodMs: GRACE });
    await controllers.ready;
  });

  after(async () => {
    clearInterval(renewer);
    await controllers?.stop();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  void it('a node that renews only its Lease stays ready long past the grace period', { timeout: 10_000 }, async () => {
    await delay(3 * GRACE);
    assert.equal(await nodeState(), 'ready');
  });

  void it('renewals stop: down within the grace period (+ sweep); they resume: ready again', { timeout: 15_000 }, async () => {
    renewing = false;
    const stopped = Date.now();
    await eventually('node down', 3 * GRACE, async () => assert.equal(await nodeState(), 'down'));
    const tookMs = Date.now() - stopped;
    assert.ok(tookMs >= GRACE - 400 && tookMs <= GRACE + 1_500, `down after ${tookMs} ms (grace ${GRACE} ms)`);
    renewing = true;
    await eventually('node ready again', 3 * GRACE, async () => assert.equal(await nodeState(), 'ready'));
  });

  void it('a deleted node: its Lease is deleted once expired', { timeout: 15_000 }, async () => {
    renewing = false;
    await store.delete({ kind: 'Node', namespace: '', name: 'n1' });
    await eventually('lease deleted', 4 * GRACE, async () => assert.equal(await store.get({ kind: 'Lease', namespace: '', name: 'n1' }), undefined));
  });
});
