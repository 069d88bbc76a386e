/**
 * `flotilla user create|delete` and `grant create` in-process (runCli) against a real server:
 * the written config works for the user, a grant opens exactly its collection, `get grants`
 * lists it, deleting the user revokes the config at once; bad input gets one clear line.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ForbiddenError, UnauthorizedError } from '../../src/api/errors.js';
import { ApiClient, loadClientConfig } from '../../src/client/index.js';
import { runCli } from '../../src/cli/program.js';
import type { CliDeps } from '../../src/cli/context.js';
import { service, startTestServer, waitFor, type TestServer } from '../server/helpers.js';

async function cli(argv: string[], config: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const deps: CliDeps = {
    io: { out: (s) => { out += s; }, err: (s) => { err += s; }, readStdin: () => Promise.resolve('') },
    env: {},
    now: () => new Date(),
    openClient: (p) => Promise.resolve(new ApiClient(loadClientConfig(p ?? config))),
  };
  const code = await runCli(['--config', config, ...argv], deps);
  return { code, out, err };
}

void describe('flotilla user / grant', { timeout: 60_000 }, () => {
  let t: TestServer;
  let admin: string;
  before(async () => {
    t = await startTestServer();
    admin = t.server.adminConfigPath;
    await t.client.create(service('web', 'busybox:1', { team: 'a' }, 'prod'));
    await t.client.create(service('db', 'busybox:1', { team: 'b' }, 'prod'));
  });
  after(async () => {
    await t?.cleanup();
  });

  void it('user create writes a working config; grant create opens its collection; user delete revokes it', async () => {
    const file = path.join(t.dir, 'ann.json');
    const created = await cli(['user', 'create', 'ann', '--group', 'dev', '-o', file], admin);
    assert.equal(created.code, 0, created.err);
    assert.match(created.out, /user\/ann created; client config written to /);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const ann = new ApiClient(loadClientConfig(file));
    try {
      assert.deepEqual((await ann.list('Service', { namespace: 'prod' })).items, [], 'no grant: an empty list');
      const g = await cli(['grant', 'create', '--subject', 'user:ann', '--role', 'view', '--namespace', 'prod', '--label', 'team=a'], admin);
      assert.equal(g.code, 0, g.err);
      assert.match(g.out, /^grant\/ann-view-prod-[0-9a-f]{6} created\n$/);
      await waitFor('the grant', async () => (await ann.list('Service', { namespace: 'prod' })).items.length === 1);
      assert.equal((await ann.get({ kind: 'Service', namespace: 'prod', name: 'web' }))?.metadata.name, 'web');
      await assert.rejects(ann.get({ kind: 'Service', namespace: 'prod', name: 'db' }), ForbiddenError);
      await assert.rejects(ann.delete({ kind: 'Service', namespace: 'prod', name: 'web' }), /user ann may not delete services in namespace prod/);
      const list = await cli(['get', 'grants'], admin);
      assert.equal(list.code, 0, list.err);
      assert.match(list.out, /^NAME\s+SUBJECT\s+ROLE\s+NAMESPACE\s+LABELS\s+AGE\n/);
      assert.match(list.out, /ann-view-prod-[0-9a-f]{6}\s+user:ann\s+view\s+prod\s+team=a\s/);
      const users = await cli(['get', 'users'], admin);
      assert.match(users.out, /^NAME\s+GROUPS\s+AGE\nann\s+dev\s/);
      assert.doesNotMatch(users.out, /[0-9a-f]{64}/);
      const again = await cli(['user', 'create', 'ann'], admin);
      assert.equal(again.code, 2);
      assert.match(again.err, /user ann already exists/);
      const del = await cli(['user', 'delete', 'ann'], admin);
      assert.equal(del.code, 0, del.err);
      await assert.rejects(ann.list('Service', { namespace: 'prod' }), UnauthorizedError);
    } finally {
      await ann.close();
    }
  });

  void it('an edit grant lets the user scale and delete with the CLI (-n NS), only inside the collection', async () => {
    const file = path.join(t.dir, 'sam.json');
    assert.equal((await cli(['user', 'create', 'sam', '-o', file], admin)).code, 0);
    assert.equal((await cli(['grant', 'create', '--subject', 'user:sam', '--role', 'edit', '--namespace', 'prod', '--label', 'team=a'], admin)).code, 0);
    await waitFor('the grant', async () => (await cli(['get', 'service', 'web', '-n', 'prod'], file)).code === 0);
    const scaled = await cli(['scale', 'service', 'web', '-n', 'prod', '--replicas', '3'], file);
    assert.equal(scaled.code, 0, scaled.err);
    assert.equal(scaled.out, 'service/web scaled to 3\n');
    const refused = await cli(['scale', 'service', 'db', '-n', 'prod', '--replicas', '3'], file);
    assert.notEqual(refused.code, 0);
    assert.match(refused.err, /^error: user sam may not get services in namespace prod \(db\)/);
    assert.equal((await cli(['delete', 'service', 'web', '-n', 'prod'], file)).code, 0);
  });

  void it('user create without -o prints the config; bad subjects and roles get one clear line', async () => {
    const printed = await cli(['user', 'create', 'bob'], admin);
    assert.equal(printed.code, 0, printed.err);
    const config = JSON.parse(printed.out) as { server: string; ca: string; token: string };
    assert.equal(config.server, t.server.url);
    assert.match(config.token, /^flt-user-bob\./);
    const bad = await cli(['grant', 'create', '--subject', 'bob', '--role', 'view', '--namespace', 'prod'], admin);
    assert.notEqual(bad.code, 0);
    assert.equal(bad.err.trimEnd().split('\n').length, 1, bad.err);
    assert.match(bad.err, /spec\.subject/);
    const badUser = await cli(['user', 'create', 'Bad_Name'], admin);
    assert.notEqual(badUser.code, 0);
    assert.match(badUser.err, /metadata\.name/);
  });
});
