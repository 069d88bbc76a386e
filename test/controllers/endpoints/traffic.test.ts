/**
 * The endpoints view during rollouts (pure table tests): what NAME and NAME-preview serve under
 * each traffic plan (all, blue-green, canary), empty groups, tasks made before revisions
 * existed, a real service named like a preview, and servingGroups' share-giving.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RolloutStatus, Service, ServiceStatus, Task } from '../../../src/api/kinds.js';
import { buildEndpointsView, previewedName, servingGroups, type ServiceEndpoints } from '../../../src/controllers/endpoints/endpoints.js';
import { service, task, T0 } from '../fixtures.js';

const NOW = T0 + 3_600_000;

function rollout(strategy: RolloutStatus['strategy'], state: RolloutStatus['state'], revision: number, extra: Partial<RolloutStatus> = {}): RolloutStatus {
  const at = new Date(T0).toISOString();
  return { strategy, state, revision, from: 1, since: at, failuresSince: at, startedAt: at, message: '', ...extra };
}

function web(status: ServiceStatus, name = 'web'): Service {
  const s = service(name, { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'tcp', publish: 30080 }] });
  s.status = { vip: '10.96.0.1', ...status };
  return s;
}

/** A running task of `svc` with address 10.88.0.<slot>, of `revision` (undefined: made before revisions). */
function ready(svc: Service, slot: number, revision: number | undefined, isReady = true): Task {
  const t = task(svc, slot, 'running', { ready: isReady, node: 'n1', name: `r${revision ?? 'x'}s${slot}` });
  t.status = { ...t.status!, ip: `10.88.0.${slot}` };
  if (revision !== undefined) t.spec.revision = revision;
  else delete t.spec.revision;
  return t;
}

const ips = (e: ServiceEndpoints | undefined): string[] => (e?.endpoints ?? []).map((x) => x.ip).sort();

describe('endpoints view and the traffic plan', () => {
  const tasksOf = (s: Service): Task[] => [ready(s, 1, 1), ready(s, 2, 1), ready(s, 3, 2), ready(s, 4, 2, false), ready(s, 5, undefined)];

  const table: Array<{ name: string; status: ServiceStatus; web: string[]; preview?: string[]; groups?: Array<[number, number, string[]]> }> = [
    { name: 'no rollout: every ready task', status: { revision: 1 }, web: ['10.88.0.1', '10.88.0.2', '10.88.0.3', '10.88.0.5'] },
    { name: 'rolling in progress: every ready task', status: { revision: 1, rollout: rollout('rolling', 'progressing', 2) }, web: ['10.88.0.1', '10.88.0.2', '10.88.0.3', '10.88.0.5'] },
    {
      name: 'blue-green waiting for promotion: name = active (and tasks without revision), preview = new',
      status: { revision: 1, previewVip: '10.96.0.2', rollout: rollout('blue-green', 'waiting-promotion', 2) },
      web: ['10.88.0.1', '10.88.0.2', '10.88.0.5'], preview: ['10.88.0.3'],
    },
    {
      name: 'blue-green promoted, previous kept until scaleDownAt: name = new only (a task without revision counts as the stable one, now 2)',
      status: { revision: 2, previewVip: '10.96.0.2', rollout: rollout('blue-green', 'complete', 2, { from: 1, scaleDownAt: new Date(NOW + 60_000).toISOString() }) },
      web: ['10.88.0.3', '10.88.0.5'], preview: ['10.88.0.3', '10.88.0.5'],
    },
    {
      name: 'blue-green after scaleDownAt: still only the active revision (the old tasks may be stopping)',
      status: { revision: 2, previewVip: '10.96.0.2', rollout: rollout('blue-green', 'complete', 2, { scaleDownAt: new Date(NOW - 1).toISOString() }) },
      web: ['10.88.0.3', '10.88.0.5'], preview: ['10.88.0.3', '10.88.0.5'],
    },
    {
      name: 'canary at 20%: both groups, weighted, the union as endpoints',
      status: { revision: 1, rollout: rollout('canary', 'paused', 2, { weight: 20 }) },
      web: ['10.88.0.1', '10.88.0.2', '10.88.0.3', '10.88.0.5'],
      groups: [[1, 80, ['10.88.0.1', '10.88.0.2', '10.88.0.5']], [2, 20, ['10.88.0.3']]],
    },
  ];
  for (const c of table) {
    it(c.name, () => {
      const s = web(c.status);
      const { view, shadowed } = buildEndpointsView([s], tasksOf(s), NOW);
      assert.deepEqual(shadowed, []);
      assert.deepEqual(ips(view.get('default/web')), c.web);
      const p = view.get('default/web-preview');
      assert.deepEqual(p === undefined ? undefined : ips(p), c.preview);
      assert.deepEqual(view.get('default/web')?.groups?.map((g) => [g.revision, g.weight, g.endpoints.map((e) => e.ip)]), c.groups);
    });
  }

  it('the preview entry: previewVip, the ports without node ports, previewOf; none without a blue-green plan or previewVip', () => {
    const s = web({ revision: 1, previewVip: '10.96.0.2', rollout: rollout('blue-green', 'progressing', 2) });
    const p = buildEndpointsView([s], tasksOf(s), NOW).view.get('default/web-preview');
    assert.deepEqual({ ...p, endpoints: undefined }, {
      namespace: 'default', name: 'web-preview', uid: s.metadata.uid, vip: '10.96.0.2', previewOf: 'web',
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'tcp' }], endpoints: undefined,
    });
    const noPreviewVip = web({ revision: 1, rollout: rollout('blue-green', 'progressing', 2) });
    const q = buildEndpointsView([noPreviewVip], tasksOf(noPreviewVip), NOW).view.get('default/web-preview');
    assert.equal(q?.vip, undefined);
    assert.deepEqual(ips(q), ['10.88.0.3']);
    assert.equal(buildEndpointsView([web({ revision: 1 })], [], NOW).view.has('default/web-preview'), false);
  });

  it('canary with an empty canary group: the group is there (empty), endpoints = stable', () => {
    const s = web({ revision: 1, rollout: rollout('canary', 'progressing', 2, { weight: 20 }) });
    const e = buildEndpointsView([s], [ready(s, 1, 1), ready(s, 3, 2, false)], NOW).view.get('default/web');
    assert.deepEqual(e?.groups?.map((g) => [g.revision, g.weight, g.endpoints.length]), [[1, 80, 1], [2, 20, 0]]);
    assert.deepEqual(ips(e), ['10.88.0.1']);
  });

  it('canary leaves tasks of a third revision out; a canary with a previewVip: the preview serves the same groups', () => {
    const s = web({ revision: 1, previewVip: '10.96.0.2', rollout: rollout('canary', 'progressing', 2, { weight: 50 }) });
    const view = buildEndpointsView([s], [ready(s, 1, 1), ready(s, 3, 2), ready(s, 6, 3)], NOW).view;
    assert.deepEqual(ips(view.get('default/web')), ['10.88.0.1', '10.88.0.3']);
    assert.deepEqual(view.get('default/web-preview')?.groups, view.get('default/web')?.groups);
  });

  it('tasks without spec.revision count as the stable revision; without status.revision too, plan all', () => {
    const s = web({ rollout: rollout('blue-green', 'progressing', 2) });
    assert.deepEqual(ips(buildEndpointsView([s], [ready(s, 1, undefined), ready(s, 3, 2)], NOW).view.get('default/web')), ['10.88.0.1', '10.88.0.3']);
  });

  it('a real service named like a preview wins, whatever the order, and is reported', () => {
    const s = web({ revision: 1, previewVip: '10.96.0.2', rollout: rollout('blue-green', 'progressing', 2) });
    const real = web({ vip: '10.96.0.9' }, 'web-preview');
    for (const order of [[s, real], [real, s]]) {
      const { view, shadowed } = buildEndpointsView(order, [...tasksOf(s), ready(real, 9, undefined)], NOW);
      assert.deepEqual(shadowed, ['default/web-preview']);
      assert.equal(view.get('default/web-preview')?.vip, '10.96.0.9');
      assert.equal(view.get('default/web-preview')?.previewOf, undefined);
      assert.deepEqual(ips(view.get('default/web-preview')), ['10.88.0.9']);
    }
  });

  it('previewedName strips the suffix only', () => {
    assert.equal(previewedName('web-preview'), 'web');
    assert.equal(previewedName('-preview'), undefined);
    assert.equal(previewedName('web'), undefined);
  });
});

describe('servingGroups', () => {
  const ep = (ip: string): { task: string; node: string; ip: string } => ({ task: ip, node: 'n1', ip });
  it('no groups: one group of all endpoints, none when nothing is ready', () => {
    assert.deepEqual(servingGroups({ endpoints: [ep('a')] }).map((g) => g.weight), [100]);
    assert.deepEqual(servingGroups({ endpoints: [] }), []);
  });
  it('an empty group gives its share away; weight-0 groups serve only when nothing else can', () => {
    const stable = { revision: 1, weight: 100, endpoints: [ep('a')] };
    const canary0 = { revision: 2, weight: 0, endpoints: [ep('b')] };
    assert.deepEqual(servingGroups({ endpoints: [], groups: [stable, canary0] }).map((g) => g.revision), [1]);
    assert.deepEqual(servingGroups({ endpoints: [], groups: [{ ...stable, endpoints: [] }, canary0] }).map((g) => [g.revision, g.weight]), [[2, 1]]);
    assert.deepEqual(servingGroups({ endpoints: [], groups: [{ ...stable, endpoints: [] }, { ...canary0, endpoints: [] }] }), []);
  });
});
