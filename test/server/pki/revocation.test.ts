/**
 * Revocation on a real server (SQLite, loopback): validation of the kind (admin only), a revoked
 * node certificate refused at once (401 naming the Revocation) on new and on open connections
 * (the open one is closed), its renewal refused, a newer certificate of the node accepted.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ForbiddenError, UnauthorizedError, ValidationError } from '../../../src/api/errors.js';
import type { ApiObject } from '../../../src/api/object.js';
import { ApiClient } from '../../../src/client/index.js';
import { createNodeCsr } from '../../../src/server/pki/index.js';
import { revocationRefusal } from '../../../src/server/auth/revocations.js';
import { rawRequest, startTestServer, type TestServer } from '../helpers.js';

const revocation = (subject: string, issuedBefore: string, reason = 'test'): ApiObject =>
  ({ kind: 'Revocation', metadata: { name: subject.replace(':', '.') }, spec: { subject, issuedBefore, reason } }) as unknown as ApiObject;

async function get(agent: https.Agent, url: string): Promise<{ status: number; body: string; socket: TLSSocket }> {
  const req = https.get(url, { agent });
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
  return { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), socket: req.socket as TLSSocket };
}

void describe('revocationRefusal', () => {
  const r = revocation('node:n1', '2026-01-01T00:00:00Z') as never;
  void it('refuses certificates issued before issuedBefore, not at or after', () => {
    assert.match(revocationRefusal(r, Date.parse('2025-12-31T23:59:59Z')) ?? '', /revoked by Revocation node\.n1 \(test\)/);
    assert.equal(revocationRefusal(r, Date.parse('2026-01-01T00:00:00Z')), undefined);
    assert.equal(revocationRefusal(undefined, 0), undefined);
  });
});

void describe('Revocation enforcement', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer(); });
  after(async () => { await t.cleanup(); });

  void it('validates Revocations and lets only the admin write them', async () => {
    await assert.rejects(t.client.create(revocation('n1', 'yesterday', '')), (err: unknown) => {
      assert.ok(err instanceof ValidationError);
      const fields = err.issues.map((i) => i.path).sort();
      assert.deepEqual(fields, ['spec.issuedBefore', 'spec.reason', 'spec.subject']);
      return true;
    });
    const csr = await createNodeCsr('n9');
    const node = new ApiClient({ server: t.server.url, ca: t.server.pki.caCertPem, cert: await t.server.pki.signNodeCsr(csr.csrPem, 'n9', 3_600_000), key: csr.keyPem });
    try {
      await assert.rejects(node.create(revocation('node:n8', new Date().toISOString())), ForbiddenError);
    } finally {
      await node.close();
    }
  });

  void it('refuses a revoked certificate at once, closes its open connection, refuses its renewal; a newer one works', { timeout: 60_000 }, async () => {
    const csr = await createNodeCsr('n1');
    const cert = await t.server.pki.signNodeCsr(csr.csrPem, 'n1', 3_600_000);
    const ca = t.server.pki.caCertPem;
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca, cert, key: csr.keyPem });
    try {
      const first = await get(agent, `${t.server.url}/api/v1/nodes`);
      assert.equal(first.status, 200);
      const closed = once(first.socket, 'close');
      await new Promise((r) => setTimeout(r, 1_100));
      const before = new Date(Date.now()).toISOString();
      await t.client.create(revocation('node:n1', before, 'key leaked'));
      await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('open connection not closed')), 10_000))]);
      const again = await rawRequest(`${t.server.url}/api/v1/nodes`, { ca, cert, key: csr.keyPem });
      assert.equal(again.status, 401);
      assert.match(again.text, /revoked by Revocation node\.n1 \(key leaked\)/);
      const renew = await rawRequest(`${t.server.url}/api/v1/join/renew`, { ca, cert, key: csr.keyPem, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ csr: (await createNodeCsr('n1')).csrPem }) });
      assert.equal(renew.status, 401, 'a revoked certificate cannot renew itself');
      await new Promise((r) => setTimeout(r, 1_100));
      const csr2 = await createNodeCsr('n1');
      const fresh = new ApiClient({ server: t.server.url, ca, cert: await t.server.pki.signNodeCsr(csr2.csrPem, 'n1', 3_600_000), key: csr2.keyPem });
      try {
        assert.ok(Array.isArray((await fresh.list('Node')).items), 'a certificate issued after the revocation is accepted');
      } finally {
        await fresh.close();
      }
      const other = await createNodeCsr('n2');
      const n2 = new ApiClient({ server: t.server.url, ca, cert: await t.server.pki.signNodeCsr(other.csrPem, 'n2', 3_600_000), key: other.keyPem });
      try {
        await n2.list('Node');
      } finally {
        await n2.close();
      }
      await t.client.delete({ kind: 'Revocation', namespace: '', name: 'node.n1' });
      await new Promise((r) => setTimeout(r, 500));
      const lifted = await rawRequest(`${t.server.url}/api/v1/nodes`, { ca, cert, key: csr.keyPem });
      assert.equal(lifted.status, 200, 'deleting the Revocation lifts it');
    } finally {
      agent.destroy();
    }
    assert.ok(UnauthorizedError);
  });
});
