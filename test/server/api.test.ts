/**
 * End to end: a real runServer on SQLite, ApiClient and raw HTTPS. Authentication, CRUD,
 * conflicts, validation, apply, the status subresource, error shapes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AlreadyExistsError, ConflictError, ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from '../../src/api/errors.js';
import type { ApiObject } from '../../src/api/object.js';
import type { ServiceSpec } from '../../src/api/kinds.js';
import { ApiClient } from '../../src/client/index.js';
import { ClusterPki, createNodeCsr } from '../../src/server/pki/index.js';
import { rawRequest, service, startTestServer, tempDir, type TestServer } from './helpers.js';

describe('API server', { timeout: 60_000 }, () => {
  let t: TestServer;
  let ca: string;
  before(async () => {
    t = await startTestServer();
    ca = t.client.config.ca;
  });
  after(async () => {
    await t?.cleanup();
  });

  it('answers 401 JSON without a credential or with a wrong token; health endpoints are public', async () => {
    const none = await rawRequest(`${t.server.url}/api/v1/services`, { ca });
    assert.equal(none.status, 401);
    assert.deepEqual({ ...(none.body as object), message: undefined }, { code: 'Unauthorized', status: 401, message: undefined });
    const wrong = await rawRequest(`${t.server.url}/api/v1/services`, { ca, headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
    const bad = new ApiClient({ ...t.client.config, token: 'not-the-token' });
    await assert.rejects(bad.list('Service'), UnauthorizedError);
    await bad.close();
    for (const p of ['/healthz', '/readyz', '/version']) assert.equal((await rawRequest(`${t.server.url}${p}`, { ca })).status, 200, p);
    assert.equal((await t.client.version()).version, '0.1.0');
  });

  it('creates, reads, lists, updates and deletes a Service', async () => {
    const c = t.client;
    const created = await c.create(service('web', 'busybox:1', { app: 'web', tier: 'front' }));
    assert.match(created.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.equal(created.metadata.generation, 1);
    assert.ok(created.metadata.revision > 0);
    assert.ok(!Number.isNaN(Date.parse(created.metadata.creationTimestamp)));
    assert.equal(created.metadata.namespace, 'default');
    assert.equal((created.spec as ServiceSpec).mode, 'replicated', 'defaults filled by validation');
    await assert.rejects(c.create(service('web')), AlreadyExistsError);
    await c.create(service('db', 'busybox:1', { app: 'db' }));
    await c.create(service('web', 'busybox:1', { app: 'web' }, 'prod'));

    assert.deepEqual(await c.get({ kind: 'Service', namespace: 'default', name: 'web' }), created);
    assert.equal(await c.get({ kind: 'Service', namespace: 'default', name: 'nope' }), undefined);
    const all = await c.list('Service');
    assert.equal(all.items.length, 3);
    assert.ok(all.revision >= created.metadata.revision);
    assert.deepEqual((await c.list('Service', { namespace: 'default' })).items.map((o) => o.metadata.name).sort(), ['db', 'web']);
    const sel = await c.list('Service', { labelSelector: { app: 'web', tier: 'front' } });
    assert.deepEqual(sel.items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`), ['default/web']);

    const withStatus = await c.updateStatus({ ...created, status: { replicas: 1 } });
    const updated = await c.updateSpec({ ...withStatus, metadata: { ...withStatus.metadata, labels: { app: 'web' } }, spec: { ...(created.spec as object), image: 'busybox:2' } });
    assert.equal(updated.metadata.generation, 2, 'spec changed: generation +1');
    assert.equal(updated.metadata.uid, created.metadata.uid);
    assert.equal(updated.metadata.creationTimestamp, created.metadata.creationTimestamp);
    assert.deepEqual(updated.status, { replicas: 1 }, 'status preserved by a spec update');
    assert.deepEqual(updated.metadata.labels, { app: 'web' });
    const relabeled = await c.updateSpec({ ...updated, metadata: { ...updated.metadata, labels: { app: 'web', x: 'y' } } });
    assert.equal(relabeled.metadata.generation, 2, 'labels only: generation unchanged');

    const gone = await c.delete({ kind: 'Service', namespace: 'default', name: 'web' });
    assert.equal(gone.metadata.uid, created.metadata.uid);
    assert.equal(await c.get({ kind: 'Service', namespace: 'default', name: 'web' }), undefined);
    await assert.rejects(c.delete({ kind: 'Service', namespace: 'default', name: 'web' }), NotFoundError);
  });

  it('refuses a write with a stale revision with 409 ConflictError', async () => {
    const c = t.client;
    const v1 = await c.create(service('conf'));
    const v2 = await c.updateSpec({ ...v1, spec: { image: 'busybox:2' } });
    await assert.rejects(c.updateSpec({ ...v1, spec: { image: 'busybox:3' } }), (err: unknown) => err instanceof ConflictError && err.status === 409);
    await assert.rejects(c.update({ ...v1, spec: { image: 'busybox:3' } }, v1.metadata.revision), ConflictError);
    await assert.rejects(c.updateStatus({ ...v1, status: { replicas: 3 } }), ConflictError);
    await assert.rejects(c.delete({ kind: 'Service', namespace: 'default', name: 'conf' }, v1.metadata.revision), ConflictError);
    const raw = await rawRequest(`${t.server.url}/api/v1/services/conf`, { ca, method: 'PUT', headers: { authorization: `Bearer ${c.config.token}` }, body: JSON.stringify({ ...v1, spec: { image: 'busybox:4' } }) });
    assert.equal(raw.status, 409);
    assert.equal((raw.body as { code: string }).code, 'Conflict');
    const v3 = await c.updateSpec({ ...v2, spec: { image: 'busybox:3' } });
    assert.equal(v3.metadata.generation, 3);
    await c.delete({ kind: 'Service', namespace: 'default', name: 'conf' }, v3.metadata.revision);
  });

  it('returns a ValidationError with the field path, and never stores the invalid object', async () => {
    const bad = { kind: 'Service', metadata: { name: 'bad' }, spec: { image: 'busybox:1', replicas: -1 } } as unknown as ApiObject;
    await assert.rejects(t.client.create(bad), (err: unknown) => {
      assert.ok(err instanceof ValidationError, String(err));
      assert.equal(err.status, 422);
      assert.ok(err.issues.some((i) => i.path === 'spec.replicas'), JSON.stringify(err.issues));
      return true;
    });
    assert.equal(await t.client.get({ kind: 'Service', namespace: 'default', name: 'bad' }), undefined);
    const ok = await t.client.create(service('val'));
    await assert.rejects(t.client.updateSpec({ ...ok, spec: { image: 'Not An Image' } }), (err: unknown) => err instanceof ValidationError && err.issues.some((i) => i.path === 'spec.image'));
  });

  it('applies: created, configured, unchanged; a bad document writes nothing', async () => {
    const c = t.client;
    const docs = [service('a1', 'busybox:1'), service('a2', 'busybox:1'), { kind: 'Config', metadata: { name: 'cfg' }, spec: { data: { k: 'v' } } }];
    assert.deepEqual((await c.apply(docs)).map((r) => r.action), ['created', 'created', 'created']);
    const rev = await c.revision();
    assert.deepEqual((await c.apply(docs)).map((r) => r.action), ['unchanged', 'unchanged', 'unchanged']);
    assert.equal(await c.revision(), rev, 'unchanged apply writes nothing');
    const changed = [service('a1', 'busybox:2'), service('a2', 'busybox:1', { new: 'label' }), docs[2], service('a3')];
    const res = await c.apply(changed);
    assert.deepEqual(res, [
      { kind: 'Service', namespace: 'default', name: 'a1', action: 'configured' },
      { kind: 'Service', namespace: 'default', name: 'a2', action: 'configured' },
      { kind: 'Config', namespace: 'default', name: 'cfg', action: 'unchanged' },
      { kind: 'Service', namespace: 'default', name: 'a3', action: 'created' },
    ]);
    assert.equal(await c.revision(), rev + 1, 'one transaction');
    const a1 = await c.get({ kind: 'Service', namespace: 'default', name: 'a1' });
    assert.equal(a1?.metadata.generation, 2);

    const before = await c.revision();
    const batch = [service('b1'), service('a1', 'busybox:9'), { kind: 'Service', metadata: { name: 'b2' }, spec: { image: 'busybox:1', replicas: 'many' } }];
    await assert.rejects(c.apply(batch), (err: unknown) => {
      assert.ok(err instanceof ValidationError, String(err));
      assert.deepEqual(err.issues.map((i) => [i.document, i.path]), [[3, 'spec.replicas']]);
      return true;
    });
    assert.equal(await c.revision(), before, 'nothing written');
    assert.equal(await c.get({ kind: 'Service', namespace: 'default', name: 'b1' }), undefined);
    const stale = { ...a1, spec: { image: 'busybox:7' } } as ApiObject;
    await c.apply([service('a1', 'busybox:8')]);
    await assert.rejects(c.apply([service('b3'), stale]), ConflictError, 'a stale revision in a batch conflicts');
    assert.equal(await c.get({ kind: 'Service', namespace: 'default', name: 'b3' }), undefined, 'nothing written on conflict');
  });

  it('updates status through the status subresource only', async () => {
    const c = t.client;
    const svc = await c.create(service('st'));
    const s1 = await c.updateStatus({ ...svc, spec: { image: 'ignored:1' }, status: { replicas: 2, readyReplicas: 1 } });
    assert.deepEqual(s1.status, { replicas: 2, readyReplicas: 1 });
    assert.deepEqual(s1.spec, svc.spec, 'spec untouched by a status write');
    assert.equal(s1.metadata.generation, 1, 'status does not bump generation');
    assert.ok(s1.metadata.revision > svc.metadata.revision);
    await assert.rejects(c.updateStatus({ ...svc, status: { replicas: 5 } }), ConflictError);
    await assert.rejects(c.updateStatus({ ...s1, status: { replicas: 'x' } }), ValidationError);
    await assert.rejects(c.updateStatus({ ...s1, metadata: { ...s1.metadata, name: 'missing' } }), NotFoundError);
    const created = await c.create({ ...service('plain'), status: { replicas: 9 } } as ApiObject);
    assert.deepEqual(created.status, { replicas: 9 }, 'Store-semantics create keeps a valid status');
  });

  it('maps errors: unknown route 404, wrong method 405, bad JSON 400, big body 413', async () => {
    const auth = { authorization: `Bearer ${t.client.config.token}` };
    assert.equal((await rawRequest(`${t.server.url}/api/v1/widgets`, { ca, headers: auth })).status, 404);
    assert.equal((await rawRequest(`${t.server.url}/nope`, { ca, headers: auth })).status, 404);
    assert.equal((await rawRequest(`${t.server.url}/api/v1/services`, { ca, method: 'DELETE', headers: auth })).status, 405);
    const badJson = await rawRequest(`${t.server.url}/api/v1/services`, { ca, method: 'POST', headers: auth, body: '{"kind":' });
    assert.equal(badJson.status, 400);
    assert.equal((badJson.body as { code: string }).code, 'BadRequest');
    const big = Buffer.alloc(6 * 1024 * 1024, 0x20);
    const tooBig = await rawRequest(`${t.server.url}/api/v1/services`, { ca, method: 'POST', headers: auth, body: big });
    assert.equal(tooBig.status, 413);
    const kindMismatch = await rawRequest(`${t.server.url}/api/v1/configs`, { ca, method: 'POST', headers: auth, body: JSON.stringify(service('x')) });
    assert.equal(kindMismatch.status, 400);
  });

  it('authenticates nodes by CA-signed client certificates and applies the node policy', async () => {
    const csr = await createNodeCsr('n1');
    const cert = await t.server.pki.signNodeCsr(csr.csrPem, 'n1', 3_600_000);
    const node = new ApiClient({ server: t.server.url, ca, cert, key: csr.keyPem });
    try {
      assert.ok(Array.isArray((await node.list('Service')).items), 'a node may read');
      await assert.rejects(node.create(service('from-node')), ForbiddenError);
      const n = await node.create({ kind: 'Node', metadata: { name: 'n1' }, spec: {} } as unknown as ApiObject);
      assert.equal(n.metadata.namespace, '');
      await assert.rejects(node.create({ kind: 'Node', metadata: { name: 'n2' }, spec: {} } as unknown as ApiObject), ForbiddenError);
    } finally {
      await node.close();
    }
    const otherDir = tempDir();
    try {
      const other = await ClusterPki.loadOrCreate(otherDir);
      const foreign = await other.signNodeCsr(csr.csrPem, 'n1', 3_600_000);
      const res = await rawRequest(`${t.server.url}/api/v1/services`, { ca, cert: foreign, key: csr.keyPem });
      assert.equal(res.status, 401, 'a certificate from another CA is no credential');
      assert.notEqual(other.caFingerprint(), t.server.pki.caFingerprint());
    } finally {
      const { rmSync } = await import('node:fs');
      rmSync(otherDir, { recursive: true, force: true });
    }
  });
});
