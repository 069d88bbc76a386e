/**
 * The per-connection cache of certificate identities (src/server/auth/authenticate.ts): one
 * certificate decode per TLS connection, renegotiation turned off so that it cannot go stale,
 * and a new connection decoded afresh. Fake sockets (unit test); the real TLS path runs in
 * every test/server test that uses node certificates, and below with a real renegotiation.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import https from 'node:https';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, describe, it } from 'node:test';
import { identityFromCertificate } from '../../src/server/auth/authenticate.js';
import { joinCluster } from '../../src/agent/join/join.js';
import { startTestServer, type TestServer } from './helpers.js';

class FakeSocket {
  reads = 0;
  renegotiationDisabled = false;
  constructor(public cn: string, public authorized = true) {}
  getPeerCertificate(): { subject: { CN: string } } {
    this.reads++;
    return { subject: { CN: this.cn } };
  }
  disableRenegotiation(): void {
    this.renegotiationDisabled = true;
  }
}
const asTls = (s: FakeSocket): TLSSocket => s as unknown as TLSSocket;

void describe('certificate identity cache', () => {
  void it('decodes the certificate once per connection and turns renegotiation off', () => {
    const s = new FakeSocket('node:n1');
    for (let i = 0; i < 5; i++) assert.deepEqual(identityFromCertificate(asTls(s)), { kind: 'node', name: 'n1', via: 'certificate' });
    assert.equal(s.reads, 1);
    assert.equal(s.renegotiationDisabled, true);
  });

  void it('a new connection is read afresh (another certificate, another identity)', () => {
    const a = new FakeSocket('node:n1');
    const b = new FakeSocket('user:alice');
    assert.equal(identityFromCertificate(asTls(a))?.name, 'n1');
    assert.deepEqual(identityFromCertificate(asTls(b)), { kind: 'user', name: 'alice', via: 'certificate' });
    assert.equal(b.reads, 1);
  });

  void it('remembers "no identity" too: unauthorized or unknown CN kinds', () => {
    const bad = new FakeSocket('node:n1', false);
    const odd = new FakeSocket('robot:r2');
    for (let i = 0; i < 3; i++) {
      assert.equal(identityFromCertificate(asTls(bad)), undefined);
      assert.equal(identityFromCertificate(asTls(odd)), undefined);
    }
    assert.equal(odd.reads, 1);
    assert.equal(bad.renegotiationDisabled, true);
  });

  void it('the cached identity cannot be changed by a caller', () => {
    const s = new FakeSocket('node:n1');
    const id = identityFromCertificate(asTls(s));
    assert.throws(() => { (id as { name: string }).name = 'admin'; });
    assert.equal(identityFromCertificate(asTls(s))?.name, 'n1');
  });
});

void describe('certificate identity cache on a real server', () => {
  let ts: TestServer | undefined;
  after(async () => { await ts?.cleanup(); });

  void it('serves many requests on one keep-alive connection; a renegotiation attempt ends the connection', { timeout: 60_000 }, async () => {
    ts = await startTestServer();
    const { token } = await ts.client.createJoinToken('worker', 600);
    const creds = await joinCluster({ server: ts.client.config.server, token, nodeName: 'n1', dataDir: path.join(ts.dir, 'agent') });
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: creds.caPem, cert: creds.certPem, key: creds.keyPem, maxVersion: 'TLSv1.2' });
    try {
      const get = async (): Promise<{ status: number; socket: TLSSocket }> => {
        const req = https.get(`${ts?.client.config.server}/api/v1/nodes`, { agent });
        const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
        res.resume();
        await once(res, 'end');
        return { status: res.statusCode ?? 0, socket: req.socket as TLSSocket };
      };
      const first = await get();
      const second = await get();
      assert.equal(first.status, 200);
      assert.equal(second.status, 200);
      assert.equal(first.socket, second.socket, 'one keep-alive connection');
      const renegotiated = await new Promise<Error | null>((resolve) => {
        first.socket.once('close', () => resolve(new Error('closed')));
        first.socket.renegotiate({}, (err) => { if (err !== null) resolve(err); });
        first.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      assert.ok(renegotiated !== null, 'the server refused the renegotiation');
      assert.equal((await get()).status, 200, 'a new connection authenticates again');
    } finally {
      agent.destroy();
    }
  });
});
