/**
 * Servers that share one etcd are one cluster with one CA (CONTRACT.md): the second server
 * adopts the CA the first stored, and a `ca rotate` begun on one server is followed by the
 * other (its TLS certificate hot-swapped, its admin.json rewritten).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ApiClient, loadClientConfig } from '../../../src/client/index.js';
import { runServer, type RunningServer } from '../../../src/server/run.js';
import { bundleFingerprints } from '../../../src/server/pki/bundle.js';
import { startEtcd } from '../../helpers/etcd.js';
import { eventually } from '../../helpers/flotilla.js';
import { rawRequest, tempDir } from '../helpers.js';

describe('one CA for the servers of one etcd', { timeout: 180_000 }, () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it('shares the CA and follows a rotation begun on the other server', async () => {
    const etcd = await startEtcd();
    cleanups.push(() => etcd.stop());
    const kekDir = tempDir();
    cleanups.push(() => Promise.resolve(rmSync(kekDir, { recursive: true, force: true })));
    const start = async (): Promise<{ s: RunningServer; dir: string; client: ApiClient }> => {
      const dir = tempDir();
      cleanups.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
      const s = await runServer({ dataDir: dir, listen: '127.0.0.1:0', store: 'etcd', etcdEndpoints: [etcd.clientUrl], kekFile: path.join(kekDir, 'kek'), leaderTtlSeconds: 2, log: () => undefined });
      cleanups.push(() => s.stop());
      const client = new ApiClient(loadClientConfig(path.join(dir, 'admin.json')));
      cleanups.push(() => client.close());
      return { s, dir, client };
    };
    const a = await start();
    const b = await start();
    assert.equal(b.s.pki.caFingerprint(), a.s.pki.caFingerprint(), 'the second server adopted the first one\'s CA');
    const oldCa = a.s.pki.caCertPem;
    assert.equal((await rawRequest(`${b.s.url}/healthz`, { ca: oldCa })).status, 200, 'its TLS certificate is signed by the shared CA');
    const begun = await a.client.rotateCa(30);
    const newFp = begun.signer;
    await eventually('both servers done', 60_000, async () => (
      a.s.pki.caState().rotation === undefined && b.s.pki.caState().rotation === undefined && b.s.pki.caFingerprint() === newFp && a.s.pki.caFingerprint() === newFp ? true : undefined));
    const newCa = b.s.pki.caCertPem;
    assert.deepEqual(bundleFingerprints(newCa), [newFp]);
    assert.equal((await rawRequest(`${b.s.url}/healthz`, { ca: newCa })).status, 200);
    await assert.rejects(rawRequest(`${b.s.url}/healthz`, { ca: oldCa }), /certificate|self.signed|unable/i, 'server b shows a new-CA certificate');
    await eventually('admin.json of b rewritten', 10_000, async () => {
      const admin = JSON.parse(readFileSync(path.join(b.dir, 'admin.json'), 'utf8')) as { ca: string };
      return bundleFingerprints(admin.ca).join() === newFp ? true : undefined;
    });
  });
});
