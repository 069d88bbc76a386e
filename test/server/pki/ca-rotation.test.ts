/**
 * `flotilla ca rotate` on a real server without agents (SQLite, loopback): the phases in the
 * store, the hot-swapped TLS certificate, the old CA refused after retirement (server identity,
 * client certificates, open connections, join tokens), admin.json, a restart keeping the state;
 * and the pure state transitions of pki/bundle.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { joinCluster } from '../../../src/agent/join/join.js';
import type { CaStatus } from '../../../src/client/api-client.js';
import { bundleFingerprints, caStateProblem, finishRotation, pemFingerprint, retireOldCa, splitPemBundle, startRotation, type CaState } from '../../../src/server/pki/bundle.js';
import { createCa, createNodeCsr } from '../../../src/server/pki/index.js';
import { verifyJoinToken } from '../../../src/server/join/token.js';
import { eventually } from '../../helpers/flotilla.js';
import { rawRequest, startTestServer, type TestServer } from '../helpers.js';

void describe('CA state transitions', () => {
  void it('renewing -> retiring -> idle, one rotation at a time', async () => {
    const a = await createCa('A');
    const b = await createCa('B');
    const fa = pemFingerprint(a.certPem);
    const fb = pemFingerprint(b.certPem);
    const idle: CaState = { cas: [a], signer: fa, serving: fa, retired: [] };
    const renewing = startRotation(idle, b, new Date('2026-01-01T00:00:00Z'), 60_000);
    assert.deepEqual([renewing.signer, renewing.serving, renewing.rotation?.phase, renewing.rotation?.deadline], [fb, fa, 'renewing', '2026-01-01T00:01:00.000Z']);
    assert.deepEqual(bundleFingerprints(renewing.cas.map((c) => c.certPem).join('')), [fa, fb]);
    assert.throws(() => startRotation(renewing, b, new Date(), 1), /already under way/);
    const retiring = retireOldCa(renewing);
    assert.deepEqual([retiring.cas.length, retiring.serving, retiring.retired, retiring.rotation?.phase], [1, fb, [fa], 'retiring']);
    assert.equal(retireOldCa(retiring), retiring, 'retiring twice changes nothing');
    const done = finishRotation(retiring);
    assert.equal(done.rotation, undefined);
    assert.equal(caStateProblem(done), undefined);
    assert.match(caStateProblem({ ...done, signer: fa }) ?? '', /signer/);
    assert.equal(splitPemBundle(`${a.certPem}${b.certPem}`).length, 2);
  });

  void it('join tokens: any trusted CA; a retired one is refused with what to do', () => {
    const stored = { kind: 'JoinToken', metadata: { name: 'abc123' }, spec: { secretSha256: '', role: 'worker', expiresAt: '2999-01-01T00:00:00Z' } } as never;
    assert.throws(() => verifyJoinToken({ caFingerprint: 'a'.repeat(64), id: 'abc123', secret: 'x' }, stored, ['b'.repeat(64)], Date.now(), ['a'.repeat(64)]), /retired: create a new token/);
    assert.throws(() => verifyJoinToken({ caFingerprint: 'c'.repeat(64), id: 'abc123', secret: 'x' }, stored, ['b'.repeat(64)]), /another cluster/);
  });
});

async function get(agent: https.Agent, url: string): Promise<{ status: number; socket: TLSSocket }> {
  const req = https.get(url, { agent });
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  res.resume();
  await once(res, 'end');
  return { status: res.statusCode ?? 0, socket: req.socket as TLSSocket };
}

void describe('ca rotate on a server without nodes', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer({ controllers: true }); });
  after(async () => { await t.cleanup(); });

  void it('rotates, hot-swaps the TLS certificate, retires the old CA everywhere, survives a restart', { timeout: 120_000 }, async () => {
    const oldCa = t.server.pki.caCertPem;
    const oldFp = t.server.pki.caFingerprint();
    const { token: oldToken } = await t.client.createJoinToken('worker', 600);
    const csr = await createNodeCsr('n1');
    const oldCert = await t.server.pki.signNodeCsr(csr.csrPem, 'n1', 3_600_000);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: oldCa, cert: oldCert, key: csr.keyPem });
    try {
      const first = await get(agent, `${t.server.url}/api/v1/nodes`);
      assert.equal(first.status, 200);
      const closed = once(first.socket, 'close');
      const begun = await t.client.rotateCa(30);
      assert.equal(begun.trusted.length, 2);
      assert.equal(begun.rotation?.phase, 'renewing');
      const newFp = begun.signer;
      assert.notEqual(newFp, oldFp);
      t.client.setTrustBundle(begun.bundle);
      const done = await eventually('rotation done', 60_000, async () => {
        const s: CaStatus = await t.client.caStatus();
        t.client.setTrustBundle(s.bundle);
        return s.rotation === undefined ? s : undefined;
      });
      assert.deepEqual(done.trusted.map((c) => c.fingerprint), [newFp]);
      assert.deepEqual(done.retired, [oldFp]);
      assert.equal(t.server.pki.caFingerprint(), newFp);
      await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('old-CA connection not closed')), 10_000))]);
      // The server now shows a certificate of the new CA: a client trusting only the old one fails.
      await assert.rejects(rawRequest(`${t.server.url}/healthz`, { ca: oldCa }), /certificate|self.signed|unable/i);
      const newCa = done.bundle;
      assert.equal((await rawRequest(`${t.server.url}/healthz`, { ca: newCa })).status, 200);
      const refused = await rawRequest(`${t.server.url}/api/v1/nodes`, { ca: newCa, cert: oldCert, key: csr.keyPem });
      assert.equal(refused.status, 401, 'a certificate of the retired CA is refused');
      const admin = JSON.parse(readFileSync(path.join(t.dir, 'admin.json'), 'utf8')) as { ca: string };
      assert.deepEqual(bundleFingerprints(admin.ca), [newFp], 'admin.json carries the new bundle');
      await assert.rejects(joinCluster({ server: t.server.url, token: oldToken, nodeName: 'n5', dataDir: path.join(t.dir, 'n5') }), /retired: create a new token/);
      const { token } = await t.client.createJoinToken('worker', 600);
      assert.ok(token.includes(newFp), 'new tokens pin the new CA');
      const creds = await joinCluster({ server: t.server.url, token, nodeName: 'n6', dataDir: path.join(t.dir, 'n6') });
      assert.equal(t.server.pki.issuerOf(new X509Certificate(creds.certPem)), newFp);
    } finally {
      agent.destroy();
    }
    const dir = t.dir;
    await t.client.close();
    await t.server.stop();
    t = await startTestServer({ dataDir: dir, controllers: true });
    assert.equal(t.server.pki.caFingerprint(), (await t.client.caStatus()).signer);
    assert.deepEqual((await t.client.caStatus()).retired, [oldFp], 'the state survives a restart');
  });
});
