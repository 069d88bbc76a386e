/**
 * The rollout route against a real server on SQLite in a temp dir (no controllers): a
 * service's status is set through the status route as the rollout controller would, then
 * `POST /api/v1/services/NAME/rollout` acts on it. The written object (spec, status,
 * generation), the 409 wording, 400 on bad bodies, 404 for an unknown service, 403 for a node.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConflictError, ForbiddenError, NotFoundError } from '../../src/api/errors.js';
import type { RolloutStatus, Service, ServiceRevision, ServiceSpec, ServiceStatus } from '../../src/api/kinds.js';
import type { ApiObject } from '../../src/api/object.js';
import { templateHash } from '../../src/api/rollout.js';
import { ApiClient } from '../../src/client/index.js';
import { createNodeCsr } from '../../src/server/pki/index.js';
import { rawRequest, startTestServer, type TestServer } from './helpers.js';

function entry(revision: number, template: ServiceSpec, createdAt: string): ServiceRevision {
  return { revision, hash: templateHash(template), template, createdAt, image: template.image };
}

function rolloutOf(over: Partial<RolloutStatus>): RolloutStatus {
  const t = new Date(Date.now() - 60_000).toISOString();
  return { state: 'progressing', strategy: 'rolling', revision: 2, from: 1, since: t, failuresSince: t, startedAt: t, message: '1/2 new tasks ready', ...over };
}

void describe('rollout actions over the API', { timeout: 60_000 }, () => {
  let t: TestServer;
  let auth: Record<string, string>;
  before(async () => {
    t = await startTestServer();
    auth = { authorization: `Bearer ${t.client.config.token ?? ''}`, 'content-type': 'application/json' };
  });
  after(async () => {
    await t?.cleanup();
  });

  /** Creates NAME at image :1, moves its spec to :2, and writes the status a rollout controller would. */
  async function serviceAt2(name: string, update: Record<string, unknown>, status: (h: ServiceRevision[]) => ServiceStatus, namespace?: string): Promise<Service> {
    const base = { kind: 'Service', metadata: { name, ...(namespace !== undefined ? { namespace } : {}) }, spec: { image: 'busybox:1', replicas: 2, update } };
    const v1 = await t.client.create(base as unknown as ApiObject);
    const v2 = await t.client.updateSpec({ ...v1, spec: { ...base.spec, image: 'busybox:2' } });
    const history = [entry(1, v1.spec as ServiceSpec, new Date(Date.now() - 3_600_000).toISOString()), entry(2, v2.spec as ServiceSpec, new Date(Date.now() - 120_000).toISOString())];
    return (await t.client.updateStatus({ ...v2, status: status(history) })) as Service;
  }

  function post(name: string, body: string, query = ''): Promise<{ status: number; body: unknown }> {
    return rawRequest(`${t.server.url}/api/v1/services/${name}/rollout${query}`, { ca: t.client.config.ca, method: 'POST', headers: auth, body });
  }

  void it('promotes a blue-green service waiting for promotion, then undoes it by switching back', async () => {
    const before = await serviceAt2('bg', { strategy: 'blue-green', scaleDownDelaySeconds: 600 }, (history) => ({
      replicas: 4, readyReplicas: 4, revision: 1, history, rollout: rolloutOf({ state: 'waiting-promotion', strategy: 'blue-green' }),
    }));
    const t0 = Date.now();
    const promoted = await t.client.rolloutAction({ name: 'bg' }, { action: 'promote' });
    assert.equal(promoted.status?.revision, 2, 'the name serves the new revision');
    const r = promoted.status?.rollout as RolloutStatus;
    assert.equal(r.state, 'complete');
    const scaleDownAt = Date.parse(r.scaleDownAt ?? '');
    assert.ok(scaleDownAt >= t0 + 600_000 - 1000 && scaleDownAt <= Date.now() + 600_000 + 1000, r.scaleDownAt);
    assert.equal(r.message, `promoted: revision 2 serves bg; revision 1 kept until ${r.scaleDownAt ?? ''} for undo`);
    assert.equal(promoted.metadata.generation, before.metadata.generation, 'status only: generation unchanged');
    assert.ok(promoted.metadata.revision > before.metadata.revision);
    assert.deepEqual(promoted.spec, before.spec);
    assert.deepEqual(await t.client.get({ kind: 'Service', namespace: 'default', name: 'bg' }), promoted, 'the answer is what was stored');

    await assert.rejects(t.client.rolloutAction({ name: 'bg' }, { action: 'promote' }), (err: unknown) =>
      err instanceof ConflictError && err.message === 'service bg is not waiting for promotion (rollout: complete)');

    const undone = await t.client.rolloutAction({ name: 'bg' }, { action: 'undo' });
    assert.equal((undone.spec as ServiceSpec).image, 'busybox:1', 'spec <- the template of revision 1');
    assert.equal((undone.spec as ServiceSpec).update.strategy, 'blue-green', 'update kept');
    assert.equal(undone.metadata.generation, before.metadata.generation + 1, 'spec changed: generation + 1');
    assert.equal(undone.status?.revision, 1, 'switched back in the same write');
    assert.deepEqual({ ...undone.status?.rollout, since: 0, startedAt: 0, finishedAt: 0, failuresSince: 0, scaleDownAt: 0 }, {
      state: 'complete', strategy: 'blue-green', revision: 1, from: 2, message: 'undone: switched back to revision 1', since: 0, startedAt: 0, finishedAt: 0, failuresSince: 0, scaleDownAt: 0,
    });
    assert.equal(undone.status?.history?.length, 2, 'history kept');
  });

  void it('pauses and resumes a rolling rollout; refuses the wrong states with 409', async () => {
    await serviceAt2('roll', {}, (history) => ({ revision: 1, history, rollout: rolloutOf({}) }));
    const paused = await t.client.rolloutAction({ name: 'roll' }, { action: 'pause' });
    assert.equal(paused.status?.rollout?.state, 'paused');
    assert.equal(paused.status?.rollout?.userPaused, true);
    assert.equal(paused.status?.rollout?.message, 'paused by flotilla rollout pause');
    await assert.rejects(t.client.rolloutAction({ name: 'roll' }, { action: 'pause' }), /service roll has no rollout in progress \(rollout: paused\)/);
    const t0 = Date.now();
    const resumed = await t.client.rolloutAction({ name: 'roll' }, { action: 'resume' });
    assert.equal(resumed.status?.rollout?.state, 'progressing');
    assert.equal(resumed.status?.rollout?.userPaused, false);
    assert.ok(Date.parse(resumed.status?.rollout?.failuresSince ?? '') >= t0 - 1000, 'failures counted from now');
    const res = await post('roll', JSON.stringify({ action: 'promote' }));
    assert.equal(res.status, 409);
    assert.deepEqual(res.body, { code: 'Conflict', status: 409, message: 'service roll is not waiting for promotion (rollout: progressing)' });
  });

  void it('undoes to a given revision, restarts, and names unknown revisions', async () => {
    const before = await serviceAt2('ns-web', {}, (history) => ({ revision: 2, history, rollout: rolloutOf({ state: 'complete' }) }), 'prod');
    await assert.rejects(t.client.rolloutAction({ name: 'ns-web', namespace: 'prod' }, { action: 'undo', toRevision: 9 }), (err: unknown) =>
      err instanceof NotFoundError && err.message === 'service prod/ns-web has no revision 9 (revisions: 1, 2)');
    const undone = await t.client.rolloutAction({ name: 'ns-web', namespace: 'prod' }, { action: 'undo', toRevision: 1 });
    assert.equal((undone.spec as ServiceSpec).image, 'busybox:1');
    assert.deepEqual(undone.status, before.status, 'rolling: the controller rolls revision 1 out again');
    const t0 = Date.now();
    const restarted = await t.client.rolloutAction({ name: 'ns-web', namespace: 'prod' }, { action: 'restart' });
    const at = Date.parse((restarted.spec as ServiceSpec).restartedAt ?? '');
    assert.ok(at >= t0 - 1000 && at <= Date.now() + 1000);
    assert.equal(restarted.metadata.generation, undone.metadata.generation + 1);
    assert.equal(await t.client.get({ kind: 'Service', namespace: 'default', name: 'ns-web' }), undefined, 'namespace respected');
  });

  void it('answers 400 naming the field on a bad body, 404 for an unknown service, 405 for GET', async () => {
    await serviceAt2('bodies', {}, (history) => ({ revision: 1, history, rollout: rolloutOf({}) }));
    const cases: [string, RegExp][] = [
      ['{}', /^action: expected one of pause, resume, promote, undo, restart, found nothing$/],
      ['{"action":"jump"}', /^action: expected one of .*, found "jump"$/],
      ['{"action":"undo","toRevision":"2"}', /^toRevision: expected an integer >= 1, found "2"$/],
      ['{"action":"undo","toRevision":0}', /^toRevision: expected an integer >= 1, found 0$/],
      ['{"action":"undo","toRevision":1.5}', /^toRevision: expected an integer >= 1/],
      ['{"action":"pause","toRevision":1}', /^toRevision: only undo takes a revision, not pause$/],
      ['{"action":"pause","force":true}', /^force: unknown field/],
      ['[]', /^body must be a JSON object/],
      ['{"action":', /^request body is not valid JSON/],
    ];
    for (const [body, re] of cases) {
      const res = await post('bodies', body);
      assert.equal(res.status, 400, body);
      assert.match((res.body as { message: string }).message, re, body);
    }
    const current = await t.client.get({ kind: 'Service', namespace: 'default', name: 'bodies' });
    assert.equal(current?.status && (current.status as ServiceStatus).rollout?.state, 'progressing', 'nothing written');

    const missing = await post('nope', '{"action":"pause"}');
    assert.equal(missing.status, 404);
    assert.equal((missing.body as { message: string }).message, 'Service default/nope not found');
    await assert.rejects(t.client.rolloutAction({ name: 'nope' }, { action: 'restart' }), NotFoundError);
    const node = await rawRequest(`${t.server.url}/api/v1/nodes/n1/rollout`, { ca: t.client.config.ca, method: 'POST', headers: auth, body: '{"action":"pause"}' });
    assert.equal(node.status, 404);
    const get = await rawRequest(`${t.server.url}/api/v1/services/bodies/rollout`, { ca: t.client.config.ca, headers: auth });
    assert.equal(get.status, 405);
  });

  void it('honours ?revision= as the expected revision, and needs update on the service', async () => {
    const svc = await serviceAt2('guarded', {}, (history) => ({ revision: 1, history, rollout: rolloutOf({}) }));
    const stale = await post('guarded', '{"action":"pause"}', `?revision=${svc.metadata.revision - 1}`);
    assert.equal(stale.status, 409);
    assert.match((stale.body as { message: string }).message, /is at revision \d+, not \d+/);
    const ok = await post('guarded', '{"action":"pause"}', `?revision=${svc.metadata.revision}`);
    assert.equal(ok.status, 200);

    const csr = await createNodeCsr('n1');
    const cert = await t.server.pki.signNodeCsr(csr.csrPem, 'n1', 3_600_000);
    const node = new ApiClient({ server: t.server.url, ca: t.client.config.ca, cert, key: csr.keyPem });
    try {
      await assert.rejects(node.rolloutAction({ name: 'guarded' }, { action: 'resume' }), ForbiddenError);
    } finally {
      await node.close();
    }
  });
});
