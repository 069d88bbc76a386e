/**
 * Content trust at the API (real server, SQLite, real registry): with an enforcing TrustPolicy a
 * Service whose image has no signature by a trusted key is refused (403, the reason names the
 * policy and rule), a signed one is admitted; an unreachable registry refuses (fail closed);
 * with enforce: false the Service is admitted and a Warning Event says it would have been
 * refused. Without any policy the verifier is never asked. Nodes may read TrustPolicies.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ForbiddenError } from '../../src/api/errors.js';
import type { EventObject, Service } from '../../src/api/kinds.js';
import type { ApiObject } from '../../src/api/object.js';
import { signImage } from '../../src/cli/commands/image.js';
import { UNTRUSTED_IMAGE_REASON } from '../../src/image-trust/index.js';
import { ImageTrustAdmission } from '../../src/server/admission/trust.js';
import { BuiltinAuthorizer } from '../../src/server/auth/identity.js';
import { buildBusyboxImage, type PushedImage } from '../helpers/images.js';
import { MemoryStore } from '../helpers/memory-store.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { opensslKeyPair, trustPolicy, type KeyPairFiles } from '../helpers/trust-keys.js';
import { service, startTestServer, type TestServer } from './helpers.js';

const T = { timeout: 120_000 };
const policyObject = (name: string, enforce: boolean, images: string, keys: string[]): ApiObject =>
  ({ kind: 'TrustPolicy', metadata: { name, labels: {} }, spec: { enforce, rules: [{ images, keys }] } } as unknown as ApiObject);

void describe('image trust admission on the API', T, () => {
  let reg: TestRegistry;
  let ts: TestServer;
  let dir: string;
  let key: KeyPairFiles;
  let signed: PushedImage;
  let unsigned: PushedImage;

  before(async () => {
    reg = await startRegistry();
    ts = await startTestServer();
    dir = await mkdtemp(path.join(tmpdir(), 'trust-admission-'));
    key = opensslKeyPair(dir, 'k');
    signed = await buildBusyboxImage(reg.host, 'demo/signed', '1');
    unsigned = await buildBusyboxImage(reg.host, 'demo/unsigned', '1', { env: { U: '1' } });
    await signImage(signed.ref, key.privateFile);
  });
  after(async () => {
    await ts?.cleanup();
    await reg?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  void it('without a policy an unsigned image is admitted', T, async () => {
    assert.equal((await ts.client.create(service('before', unsigned.ref))).metadata.name, 'before');
  });

  void it('enforce: true refuses an unsigned image with the reason; admits a signed one', T, async () => {
    await ts.client.create(policyObject('default', true, `${reg.host}/demo/*`, [key.publicPem]));
    await assert.rejects(ts.client.create(service('web', unsigned.ref)), (e: unknown) => {
      assert.ok(e instanceof ForbiddenError, String(e));
      assert.equal(e.message, `image ${unsigned.ref} has no signature by a trusted key (TrustPolicy default rules[0]: no signatures found)`);
      return true;
    });
    assert.equal((await ts.client.get({ kind: 'Service', namespace: 'default', name: 'web' })), undefined, 'nothing written');
    const ok = await ts.client.create(service('web', signed.ref));
    assert.equal((ok as Service).spec.image, signed.ref);
  });

  void it('an update to an unsigned image is refused; one that keeps the image is not verified again', T, async () => {
    const cur = await ts.client.get({ kind: 'Service', namespace: 'default', name: 'web' }) as Service;
    await assert.rejects(ts.client.update({ ...cur, spec: { ...cur.spec, image: unsigned.ref } }), /has no signature by a trusted key/);
    const scaled = await ts.client.update({ ...cur, spec: { ...cur.spec, replicas: 3 } }) as Service;
    assert.equal(scaled.spec.replicas, 3);
  });

  void it('an image from elsewhere that no rule covers is refused', T, async () => {
    await assert.rejects(ts.client.create(service('hub', 'busybox:1')), /image busybox:1 matches no rule of TrustPolicy default: it cannot be trusted/);
  });

  void it('enforce: false admits, and a Warning Event says it would have been refused', T, async () => {
    await ts.client.delete({ kind: 'TrustPolicy', namespace: '', name: 'default' });
    await ts.client.create(policyObject('audit', false, `${reg.host}/**`, [key.publicPem]));
    await ts.client.create(service('audited', unsigned.ref));
    const events = (await ts.client.list('Event', { namespace: 'default' })).items as EventObject[];
    const e = events.find((x) => x.spec.involved === 'Service/default/audited');
    assert.ok(e !== undefined, JSON.stringify(events.map((x) => x.spec)));
    assert.equal(e.spec.reason, UNTRUSTED_IMAGE_REASON);
    assert.equal(e.spec.type, 'Warning');
    assert.match(e.spec.message, /has no signature by a trusted key \(TrustPolicy audit rules\[0\]: no signatures found\): it would have been refused/);
  });

  void it('registry unreachable: refused, saying so (fail closed)', T, async () => {
    await ts.client.delete({ kind: 'TrustPolicy', namespace: '', name: 'audit' });
    await ts.client.create(policyObject('default', true, `${reg.host}/**`, [key.publicPem]));
    await reg.stop();
    await assert.rejects(ts.client.create(service('down', signed.ref)), (e: unknown) => {
      assert.ok(e instanceof ForbiddenError, String(e));
      assert.match(e.message, /^cannot verify the signature of image 127\.0\.0\.1:\d+\/demo\/signed:1: .*unreachable.*\(refused: a TrustPolicy enforces signatures and the registry could not be asked\)$/);
      return true;
    });
  });
});

void describe('image trust admission (unit)', () => {
  const svc = (name: string, image: string): Service => ({ kind: 'Service', metadata: { name, namespace: 'default', uid: name, labels: {}, revision: 1, generation: 1, creationTimestamp: '' }, spec: { image } } as unknown as Service);
  const admin = { kind: 'admin' as const, name: 'admin', via: 'token' as const };

  void it('no TrustPolicy: the verifier (and so the registry) is never asked', async () => {
    let calls = 0;
    const hook = new ImageTrustAdmission(new MemoryStore(), { verify: () => { calls++; return Promise.resolve(undefined); } });
    await hook.admit({ operation: 'create', identity: admin, object: svc('a', 'r:5000/x:1') });
    assert.equal(calls, 0);
  });

  void it('only Service creates and image changes are verified', async () => {
    const store = new MemoryStore();
    await store.create(trustPolicy('p', { enforce: true, rules: [{ images: '**', keys: [] }] }));
    const seen: string[] = [];
    const hook = new ImageTrustAdmission(store, { verify: (image) => { seen.push(image); return Promise.resolve(undefined); } });
    await hook.admit({ operation: 'create', identity: admin, object: svc('a', 'r:5000/x:1') });
    await hook.admit({ operation: 'update', identity: admin, object: svc('a', 'r:5000/x:1'), old: svc('a', 'r:5000/x:1') });
    await hook.admit({ operation: 'update', identity: admin, object: svc('a', 'r:5000/x:2'), old: svc('a', 'r:5000/x:1') });
    await hook.admit({ operation: 'status', identity: admin, object: svc('a', 'r:5000/x:3'), old: svc('a', 'r:5000/x:1') });
    assert.deepEqual(seen, ['r:5000/x:1', 'r:5000/x:2']);
  });

  void it('nodes may get, list and watch TrustPolicies (the agent verifies too)', async () => {
    const authz = new BuiltinAuthorizer();
    for (const verb of ['get', 'list', 'watch'] as const) {
      await authz.authorize({ kind: 'node', name: 'n1', via: 'certificate' }, { verb, kind: 'TrustPolicy', ...(verb === 'get' ? { name: 'default' } : {}) });
    }
    await assert.rejects(async () => authz.authorize({ kind: 'node', name: 'n1', via: 'certificate' }, { verb: 'create', kind: 'TrustPolicy', name: 'x' }), ForbiddenError);
  });
});
