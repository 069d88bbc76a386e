/**
 * Secrets through a real server on SQLite: the db file and its WAL never hold the value, no
 * answer to the admin carries it (get, list, create, watch), a node without a task that uses it
 * gets 403 and with one gets the value; rotate-key over the API.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ForbiddenError } from '../../../src/api/errors.js';
import type { ApiObject } from '../../../src/api/object.js';
import { ApiClient, loadClientConfig } from '../../../src/client/index.js';
import { createNodeCsr } from '../../../src/server/pki/index.js';
import { rawRequest, startTestServer, type TestServer } from '../helpers.js';

const VALUE = 'plain-db-password-4711';

function secretObj(name: string, value: string): ApiObject {
  return { kind: 'Secret', metadata: { name, namespace: 'default' }, spec: { data: { value: Buffer.from(value).toString('base64') } } } as unknown as ApiObject;
}

function taskOn(node: string, secret: string): ApiObject {
  return {
    kind: 'Task',
    metadata: { name: `web-1-${node}`, namespace: 'default', uid: `t-${node}`, labels: {}, revision: 0, generation: 1, creationTimestamp: new Date().toISOString() },
    spec: { service: 'web', serviceGeneration: 1, slot: 1, node, image: 'busybox:1', desiredState: 'running', template: { secrets: [{ source: secret, target: '/run/secrets/x', mode: 0o400, uid: 0, gid: 0 }], configs: [] } },
  } as unknown as ApiObject;
}

/** Every file of the SQLite store (db, -wal, -shm) under the data dir. */
function storeBytes(dir: string): Buffer {
  const files = readdirSync(dir).filter((f) => /\.(db|sqlite)(-wal|-shm)?$|state/.test(f)).map((f) => path.join(dir, f)).filter((f) => existsSync(f));
  assert.ok(files.length > 0, `no store files in ${dir}`);
  return Buffer.concat(files.map((f) => readFileSync(f)));
}

describe('secrets on a real server', () => {
  let t: TestServer;
  let nodeClient: (name: string) => Promise<ApiClient>;
  before(async () => {
    t = await startTestServer();
    const ca = loadClientConfig(path.join(t.dir, 'admin.json')).ca;
    nodeClient = async (name) => {
      const csr = await createNodeCsr(name);
      const cert = await t.server.pki.signNodeCsr(csr.csrPem, name, 3_600_000);
      return new ApiClient({ server: t.server.url, ca, cert, key: csr.keyPem });
    };
  });
  after(async () => t.cleanup());

  it('never stores the value in plain text (db file and WAL)', async () => {
    const created = await t.client.create(secretObj('db-pass', VALUE));
    assert.ok(!JSON.stringify(created).includes(Buffer.from(VALUE).toString('base64')), 'the create answer has no value');
    const bytes = storeBytes(t.dir);
    assert.equal(bytes.includes(VALUE), false);
    assert.equal(bytes.includes(Buffer.from(VALUE).toString('base64')), false);
  });

  it('answers the admin key names and sizes only', async () => {
    const got = await t.client.get({ kind: 'Secret', namespace: 'default', name: 'db-pass' });
    assert.deepEqual(got?.spec, { keys: [{ name: 'value', bytes: VALUE.length }] });
    const list = await t.client.list('Secret', { namespace: 'default' });
    assert.ok(!JSON.stringify(list).includes(Buffer.from(VALUE).toString('base64')));
  });

  it('refuses a node without a task (403), serves one with a task', async () => {
    const n1 = await nodeClient('n1');
    try {
      await assert.rejects(n1.get({ kind: 'Secret', namespace: 'default', name: 'db-pass' }), (e: unknown) => e instanceof ForbiddenError && /no task meant to run on this node uses it/.test(e.message));
      await assert.rejects(n1.list('Secret', { namespace: 'default' }), ForbiddenError);
      await t.server.store.create(taskOn('n1', 'db-pass'));
      const got = await n1.get({ kind: 'Secret', namespace: 'default', name: 'db-pass' });
      assert.equal(Buffer.from((got?.spec as { data: Record<string, string> }).data.value ?? '', 'base64').toString(), VALUE);
      const n2 = await nodeClient('n2');
      try {
        await assert.rejects(n2.get({ kind: 'Secret', namespace: 'default', name: 'db-pass' }), ForbiddenError);
      } finally {
        await n2.close();
      }
    } finally {
      await n1.close();
    }
  });

  it('rotate-key re-wraps and the value still reads back for the node', async () => {
    const cfg = loadClientConfig(path.join(t.dir, 'admin.json'));
    const res = await rawRequest(`${t.server.url}/api/v1/secret-key/rotate`, { ca: cfg.ca, method: 'POST', headers: { authorization: `Bearer ${cfg.token ?? ''}` } });
    assert.equal(res.status, 200, res.text);
    const body = res.body as { kek: string; file: string; rewrapped: number };
    assert.equal(body.file, path.join(t.dir, 'kek'));
    assert.ok(body.rewrapped >= 1);
    const n1 = await nodeClient('n1');
    try {
      const got = await n1.get({ kind: 'Secret', namespace: 'default', name: 'db-pass' });
      assert.equal(Buffer.from((got?.spec as { data: Record<string, string> }).data.value ?? '', 'base64').toString(), VALUE);
    } finally {
      await n1.close();
    }
  });
});
