/**
 * The API side of reverse uptime on a real runServer (SQLite, controllers off): an agent's
 * whole Node status write keeps the server-owned `status.recycle` (so a recycle in progress
 * survives heartbeats); the node label flotilla.dev/max-node-age is refused when it is not a
 * duration, with the field and what is expected; `node recycle`'s annotation is written through
 * an ordinary update.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ValidationError } from '../../src/api/errors.js';
import { RECYCLE_REQUEST_ANNOTATION, type NodeObject } from '../../src/api/kinds.js';
import { requestRecycle } from '../../src/cli/commands/node.js';
import { startTestServer, type TestServer } from './helpers.js';

const nodeDoc = (name: string, labels: Record<string, string> = {}): NodeObject => ({
  kind: 'Node',
  metadata: { name, namespace: '', uid: '', labels, revision: 0, generation: 0, creationTimestamp: '' },
  spec: { availability: 'active', role: 'worker', taints: [] },
});

describe('reverse uptime through the API', { timeout: 60_000 }, () => {
  let t: TestServer;
  before(async () => { t = await startTestServer({ controllers: false }); });
  after(async () => { await t?.cleanup(); });

  it('keeps status.recycle when an agent writes its whole Node status', async () => {
    const created = (await t.client.create(nodeDoc('n1'))) as NodeObject;
    const status = { state: 'ready' as const, capacity: { cpu: '2', memory: '1Gi' }, allocatable: { cpu: '2', memory: '1Gi' }, heartbeat: new Date().toISOString() };
    const withStatus = (await t.client.updateStatus({ ...created, status })) as NodeObject;
    // The recycle loop writes the recycle state (through the store, as the leader does).
    const recycle = { phase: 'draining' as const, since: new Date().toISOString(), reason: 'recycled: older than 24h' };
    await t.server.store.update({ ...withStatus, status: { ...status, recycle } }, withStatus.metadata.revision);
    const cur = (await t.client.get({ kind: 'Node', namespace: '', name: 'n1' })) as NodeObject;
    // The agent's next full status write knows nothing of it.
    const later = new Date(Date.parse(status.heartbeat) + 1000).toISOString();
    const beat = (await t.client.updateStatus({ ...cur, status: { ...status, heartbeat: later } })) as NodeObject;
    assert.deepEqual(beat.status?.recycle, recycle);
    assert.equal(beat.status?.heartbeat, later);
  });

  it('refuses an unreadable max-node-age label with the field; accepts a duration and off', async () => {
    await assert.rejects(t.client.create(nodeDoc('bad', { 'flotilla.dev/max-node-age': 'tomorrow' })), (err: unknown) => {
      assert.ok(err instanceof ValidationError);
      assert.match(err.message, /metadata\.labels\.flotilla\.dev\/max-node-age/);
      assert.match(err.message, /a duration such as 24h/);
      return true;
    });
    await t.client.create(nodeDoc('ok1', { 'flotilla.dev/max-node-age': '30s' }));
    await t.client.create(nodeDoc('ok2', { 'flotilla.dev/max-node-age': 'off' }));
  });

  it('writes the recycle request annotation with an ordinary update (node recycle)', async () => {
    const cur = (await t.client.create(nodeDoc('n2'))) as NodeObject;
    const next = requestRecycle(cur, Date.parse('2026-01-01T00:00:00Z'));
    assert.ok(next !== undefined);
    const written = (await t.client.update(next, cur.metadata.revision)) as NodeObject;
    assert.equal(written.metadata.annotations?.[RECYCLE_REQUEST_ANNOTATION], '2026-01-01T00:00:00.000Z');
    assert.equal(requestRecycle(written, Date.now()), undefined, 'asking twice changes nothing');
  });
});
