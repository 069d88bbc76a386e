/**
 * GET /api/v1/{plural}?labelSelector= with the whole selector syntax (src/api/label-selector.ts):
 * equality filtered by the Store, `!=`, `key` and `!key` by the list route; a malformed
 * selector answers 400 naming the term.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rawRequest, service, startTestServer, type TestServer } from './helpers.js';

void describe('list with a label selector', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
    await t.client.apply([service('web', 'busybox:1', { app: 'web', tier: 'front' }), service('api', 'busybox:1', { app: 'api', tier: 'back' }), service('old', 'busybox:1', { app: 'old' })]);
  });
  after(async () => {
    await t?.cleanup();
  });

  const names = async (selector: string): Promise<{ status: number; names?: string[]; body: unknown }> => {
    const r = await rawRequest(`${t.server.url}/api/v1/services?labelSelector=${encodeURIComponent(selector)}`, { ca: t.client.config.ca, headers: { authorization: `Bearer ${t.client.config.token}` } });
    const items = (r.body as { items?: { metadata: { name: string } }[] }).items;
    return { status: r.status, body: r.body, ...(items !== undefined ? { names: items.map((i) => i.metadata.name).sort() } : {}) };
  };

  void it('equality, inequality, existence and absence', async () => {
    assert.deepEqual((await names('app=web')).names, ['web']);
    assert.deepEqual((await names('app==web')).names, ['web']);
    assert.deepEqual((await names('tier!=back')).names, ['old', 'web']);
    assert.deepEqual((await names('tier')).names, ['api', 'web']);
    assert.deepEqual((await names('!tier')).names, ['old']);
    assert.deepEqual((await names('tier,app!=api')).names, ['web']);
  });

  void it('answers 400 for a malformed selector, naming the term', async () => {
    const r = await names('app=web=x');
    assert.equal(r.status, 400);
    assert.match(JSON.stringify(r.body), /labelSelector: expected KEY=VALUE, KEY!=VALUE, KEY or !KEY \(comma-separated\), found \\"app=web=x\\"/);
  });
});
