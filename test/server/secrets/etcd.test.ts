/**
 * Secrets at rest in etcd: after a create through the API of a server on a real etcd
 * (loopback), `etcdctl get --prefix ""` shows neither the value nor its base64; the admin's
 * answers do not carry it either.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ApiObject } from '../../../src/api/object.js';
import { startEtcd, type EtcdMember } from '../../helpers/etcd.js';
import { startTestServer, type TestServer } from '../helpers.js';

const run = promisify(execFile);
const VALUE = 'etcd-plain-value-5150';

describe('secrets at rest in etcd', () => {
  let etcd: EtcdMember | undefined;
  let t: TestServer | undefined;
  after(async () => {
    await t?.cleanup();
    await etcd?.stop();
  });

  it('etcdctl get --prefix "" holds no plain value', async () => {
    etcd = await startEtcd();
    t = await startTestServer({ store: 'etcd', etcdEndpoints: [etcd.clientUrl] });
    await t.client.create({ kind: 'Secret', metadata: { name: 'db-pass', namespace: 'default' }, spec: { data: { value: Buffer.from(VALUE).toString('base64') } } } as unknown as ApiObject);
    const { stdout } = await run('etcdctl', ['--endpoints', etcd.clientUrl, 'get', '--prefix', ''], { env: { ...process.env, ETCDCTL_API: '3' }, maxBuffer: 64 * 1024 * 1024 });
    assert.ok(stdout.includes('db-pass'), 'the secret is in etcd (by name)');
    assert.equal(stdout.includes(VALUE), false);
    assert.equal(stdout.includes(Buffer.from(VALUE).toString('base64')), false);
    const got = await t.client.get({ kind: 'Secret', namespace: 'default', name: 'db-pass' });
    assert.ok(!JSON.stringify(got).includes(Buffer.from(VALUE).toString('base64')));
  });
});
