/**
 * The authorization matrix against a real server: every endpoint x every built-in role x an
 * object in / out of the grant's collection (namespace prod, labels team=a). Allowed exactly
 * where the role grants it: a 403 where it does not, any other answer where it does; lists and
 * watches show exactly the objects inside. logs and exec are refused before any agent is
 * dialled (the tasks have no node: an allowed call gets 409 "not assigned", never a dial).
 * Also: a deleted user's token is refused at once; denials become audit Events.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import type { ApiObject } from '../../../src/api/object.js';
import { newUserToken } from '../../../src/server/auth/rbac/users.js';
import { rawRequest, service, startTestServer, waitFor, type TestServer } from '../helpers.js';

const ROLES = ['view', 'edit', 'secrets', 'operator', 'admin'] as const;
type Role = (typeof ROLES)[number];
const ENDPOINTS = ['get', 'list', 'watch', 'create', 'update', 'status', 'delete', 'apply', 'scale', 'rollout', 'logs', 'service-logs', 'exec'] as const;
type Endpoint = (typeof ENDPOINTS)[number];

/** What each built-in role may do on Services and Tasks (README "Users and access"). */
const ALLOWED: Record<Role, ReadonlySet<Endpoint>> = {
  view: new Set(['get', 'list', 'watch']),
  edit: new Set(['get', 'list', 'watch', 'create', 'update', 'delete', 'apply', 'scale', 'rollout']),
  secrets: new Set(),
  operator: new Set(['get', 'list', 'watch', 'logs', 'service-logs', 'exec']),
  admin: new Set(ENDPOINTS),
};

const LABELS = { in: { team: 'a' }, out: { team: 'b' } } as const;
type Side = keyof typeof LABELS;

function meta(name: string, namespace: string, labels: Record<string, string>): ApiObject['metadata'] {
  return { name, namespace, uid: `uid-${namespace}-${name}`, labels, revision: 0, generation: 1, creationTimestamp: new Date().toISOString() };
}

void describe('RBAC authorization matrix', { timeout: 120_000 }, () => {
  let t: TestServer;
  const tokens = new Map<string, string>();
  let seq = 0;

  const call = async (token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> =>
    rawRequest(`${t.server.url}${path}`, { method, ca: t.client.config.ca, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });

  /** The names a watch of prod Services from revision 0 delivers within a short while. */
  const watchNames = (token: string): Promise<string[]> => new Promise((resolve, reject) => {
    const names = new Set<string>();
    const req = https.get(`${t.server.url}/api/v1/watch?kind=Service&namespace=prod&revision=0`, { ca: t.client.config.ca, headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
      let buf = '';
      res.on('data', (c: Buffer) => {
        buf += c.toString('utf8');
        for (const line of buf.split('\n').slice(0, -1)) {
          const ev = JSON.parse(line) as { object?: ApiObject };
          if (ev.object !== undefined) names.add(ev.object.metadata.name);
        }
        buf = buf.slice(buf.lastIndexOf('\n') + 1);
      });
      setTimeout(() => { req.destroy(); resolve([...names]); }, 300);
    });
    req.on('error', (err) => { if (!req.destroyed) reject(err); });
  });

  before(async () => {
    t = await startTestServer({ auditFlushMs: 50 });
    const store = t.server.store;
    for (const side of ['in', 'out'] as const) {
      await t.client.create(service(`web-${side}`, 'busybox:1', { ...LABELS[side] }, 'prod'));
      await store.create({ kind: 'Task', metadata: meta(`task-${side}`, 'prod', { ...LABELS[side] }), spec: { service: `web-${side}`, node: '', slot: 1, image: 'x', desiredState: 'running' }, status: { state: 'pending' } } as ApiObject);
    }
    for (const role of ROLES) {
      const { token, sha256 } = newUserToken(`u-${role}`);
      tokens.set(role, token);
      await t.client.create({ kind: 'User', metadata: { name: `u-${role}` }, spec: { tokenSha256: sha256 } } as unknown as ApiObject);
      await t.client.create({ kind: 'Grant', metadata: { name: `g-${role}` }, spec: { subject: `user:u-${role}`, role, collection: { namespace: 'prod', labels: { team: 'a' } } } } as unknown as ApiObject);
    }
    await waitFor('the grants in the authorizer\'s cache', async () => (await call(tokens.get('admin') as string, 'GET', '/api/v1/services/web-in?namespace=prod')).status === 200);
  });
  after(async () => {
    await t?.cleanup();
  });

  /** One call of `endpoint` on the object of `side`; returns whether it was allowed. */
  async function attempt(token: string, endpoint: Endpoint, side: Side): Promise<boolean> {
    const name = `web-${side}`;
    const labels = { ...LABELS[side] };
    const q = '?namespace=prod';
    const current = async (): Promise<ApiObject> => (await t.client.get({ kind: 'Service', namespace: 'prod', name })) as ApiObject;
    let r: { status: number; body: unknown };
    switch (endpoint) {
      case 'get': r = await call(token, 'GET', `/api/v1/services/${name}${q}`); break;
      case 'list': {
        r = await call(token, 'GET', `/api/v1/services${q}`);
        assert.equal(r.status, 200, 'a list is filtered, never refused');
        return (r.body as { items: ApiObject[] }).items.some((o) => o.metadata.name === name);
      }
      case 'watch': return (await watchNames(token)).includes(name);
      case 'create': {
        const fresh = `new-${side}-${seq++}`;
        r = await call(token, 'POST', `/api/v1/services${q}`, service(fresh, 'busybox:1', labels, 'prod'));
        break;
      }
      case 'update': r = await call(token, 'PUT', `/api/v1/services/${name}${q}`, { ...service(name, `busybox:${seq++}`, labels, 'prod') }); break;
      case 'scale': {
        const cur = await current();
        r = await call(token, 'PUT', `/api/v1/services/${name}${q}`, { ...cur, metadata: { ...cur.metadata, revision: 0 }, spec: { ...(cur.spec as object), replicas: 2 + (seq++ % 3) } });
        break;
      }
      case 'status': r = await call(token, 'PUT', `/api/v1/services/${name}/status${q}`, { status: { replicas: 0 } }); break;
      case 'delete': {
        const victim = `del-${side}-${seq++}`;
        await t.client.create(service(victim, 'busybox:1', labels, 'prod'));
        r = await call(token, 'DELETE', `/api/v1/services/${victim}${q}`);
        break;
      }
      case 'apply': r = await call(token, 'POST', '/api/v1/apply', { objects: [service(name, `busybox:${seq++}`, labels, 'prod')] }); break;
      case 'rollout': r = await call(token, 'POST', `/api/v1/services/${name}/rollout${q}`, { action: 'restart' }); break;
      case 'logs': r = await call(token, 'GET', `/api/v1/tasks/task-${side}/logs${q}`); break;
      case 'service-logs': r = await call(token, 'GET', `/api/v1/services/${name}/logs${q}`); break;
      case 'exec': r = await call(token, 'POST', `/api/v1/tasks/task-${side}/exec${q}`, { command: ['true'] }); break;
    }
    assert.notEqual(r.status, 401, `${endpoint}: authenticated`);
    if (endpoint === 'logs' || endpoint === 'exec') assert.ok(r.status === 403 || r.status === 409, `${endpoint}: 403, or 409 "not assigned" (no agent dialled), got ${r.status} ${JSON.stringify(r.body)}`);
    if (r.status === 403) assert.match((r.body as { message: string }).message, /^user u-\w+ may not \w+ (the status of )?\w+ in namespace prod/);
    return r.status !== 403;
  }

  for (const role of ROLES) {
    void it(`role ${role}: allowed exactly where granted`, async () => {
      const token = tokens.get(role) as string;
      const wrong: string[] = [];
      for (const endpoint of ENDPOINTS) {
        for (const side of ['in', 'out'] as const) {
          const want = side === 'in' && ALLOWED[role].has(endpoint);
          const got = await attempt(token, endpoint, side);
          if (got !== want) wrong.push(`${endpoint} ${side}: ${got ? 'allowed' : 'denied'}, expected ${want ? 'allowed' : 'denied'}`);
        }
      }
      assert.deepEqual(wrong, []);
    });
  }

  void it('the admin token still does everything', async () => {
    const admin = JSON.parse(JSON.stringify(t.client.config)) as { token: string };
    for (const endpoint of ENDPOINTS) assert.equal(await attempt(admin.token, endpoint, 'out'), true, endpoint);
  });

  void it('a user without grants sees empty lists and gets 403 naming who, what and where', async () => {
    const { token, sha256 } = newUserToken('nobody');
    await t.client.create({ kind: 'User', metadata: { name: 'nobody' }, spec: { tokenSha256: sha256 } } as unknown as ApiObject);
    const list = await call(token, 'GET', '/api/v1/services?namespace=prod');
    assert.equal(list.status, 200);
    assert.deepEqual((list.body as { items: unknown[] }).items, []);
    const r = await call(token, 'DELETE', '/api/v1/services/web-in?namespace=prod');
    assert.equal(r.status, 403);
    assert.equal((r.body as { message: string }).message, 'user nobody may not delete services in namespace prod (web-in): no grant covers it');
    await waitFor('a Denied audit Event', async () => (await t.client.list('Event', { namespace: 'prod' })).items.some((e) => (e.spec as { reason: string; message: string }).reason === 'Denied' && (e.spec as { message: string }).message.startsWith('user:nobody')));
  });

  void it('a group grant covers the group\'s members', async () => {
    const { token, sha256 } = newUserToken('gina');
    await t.client.create({ kind: 'User', metadata: { name: 'gina' }, spec: { groups: ['dev'], tokenSha256: sha256 } } as unknown as ApiObject);
    assert.equal((await call(token, 'GET', '/api/v1/services/web-out?namespace=prod')).status, 403);
    await t.client.create({ kind: 'Grant', metadata: { name: 'dev-view' }, spec: { subject: 'group:dev', role: 'view', collection: { namespace: 'prod' } } } as unknown as ApiObject);
    await waitFor('the group grant', async () => (await call(token, 'GET', '/api/v1/services/web-out?namespace=prod')).status === 200);
  });

  void it('a custom Role takes effect; a Role named like a built-in one changes nothing', async () => {
    const { token, sha256 } = newUserToken('deb');
    await t.client.create({ kind: 'User', metadata: { name: 'deb' }, spec: { tokenSha256: sha256 } } as unknown as ApiObject);
    await t.client.create({ kind: 'Role', metadata: { name: 'debugger' }, spec: { rules: [{ kinds: ['Task'], verbs: ['logs'] }] } } as unknown as ApiObject);
    await t.client.create({ kind: 'Role', metadata: { name: 'view' }, spec: { rules: [{ kinds: ['*'], verbs: ['*'] }] } } as unknown as ApiObject);
    await t.client.create({ kind: 'Grant', metadata: { name: 'deb-debugger' }, spec: { subject: 'user:deb', role: 'debugger', collection: { namespace: 'prod' } } } as unknown as ApiObject);
    await waitFor('the custom role', async () => (await call(token, 'GET', '/api/v1/tasks/task-out/logs?namespace=prod')).status === 409);
    assert.equal((await call(token, 'GET', '/api/v1/tasks/task-out?namespace=prod')).status, 403, 'logs, not get');
    assert.equal(await attempt(tokens.get('view') as string, 'delete', 'in'), false, 'the built-in view is not widened by a Role named view');
  });

  void it('admin over a namespace reaches no cluster-scoped object: no Grant, User or Node writes (no escalation)', async () => {
    const token = tokens.get('admin') as string;
    const grant = { kind: 'Grant', metadata: { name: 'escalate' }, spec: { subject: 'user:u-admin', role: 'admin', collection: { namespace: '*' } } };
    const r = await call(token, 'POST', '/api/v1/grants', grant);
    assert.equal(r.status, 403);
    assert.match((r.body as { message: string }).message, /^user u-admin may not create grants \(cluster-scoped\)/);
    assert.equal((await call(token, 'POST', '/api/v1/apply', { objects: [grant] })).status, 403);
    assert.equal((await call(token, 'DELETE', '/api/v1/users/u-view')).status, 403);
    assert.equal((await call(token, 'GET', '/api/v1/services?namespace=dev')).status, 200, 'another namespace: an empty list');
    assert.equal((await call(token, 'GET', '/api/v1/services/web-in?namespace=dev')).status, 403);
  });

  void it('a watch sends an object that leaves the collection once more, as deleted, without its new content', async () => {
    const events: { type: string; name: string; labels: Record<string, string> }[] = [];
    const rev = (await t.client.list('Service', { namespace: 'prod' })).revision;
    const req = https.get(`${t.server.url}/api/v1/watch?kind=Service&namespace=prod&revision=${rev}`, { ca: t.client.config.ca, headers: { authorization: `Bearer ${tokens.get('view') as string}` }, agent: false }, (res) => {
      let buf = '';
      res.on('data', (c: Buffer) => {
        buf += c.toString('utf8');
        for (const line of buf.split('\n').slice(0, -1)) {
          const ev = JSON.parse(line) as { type: string; object?: ApiObject };
          if (ev.object !== undefined) events.push({ type: ev.type, name: ev.object.metadata.name, labels: ev.object.metadata.labels });
        }
        buf = buf.slice(buf.lastIndexOf('\n') + 1);
      });
    });
    req.on('error', () => undefined);
    try {
      const created = await t.client.create(service('mover', 'busybox:1', { team: 'a' }, 'prod'));
      await t.client.create(service('stranger', 'busybox:1', { team: 'b' }, 'prod'));
      await t.client.updateSpec({ ...created, metadata: { ...created.metadata, labels: { team: 'b', secret: 'x' } } });
      await waitFor('the deleted event', () => events.some((e) => e.type === 'deleted'));
      assert.deepEqual(events, [{ type: 'added', name: 'mover', labels: { team: 'a' } }, { type: 'deleted', name: 'mover', labels: {} }]);
    } finally {
      req.destroy();
    }
  });

  void it('a deleted user\'s token is refused at once (401 on the next request)', async () => {
    const { token, sha256 } = newUserToken('leaver');
    await t.client.create({ kind: 'User', metadata: { name: 'leaver' }, spec: { tokenSha256: sha256 } } as unknown as ApiObject);
    assert.equal((await call(token, 'GET', '/api/v1/services?namespace=prod')).status, 200);
    await t.client.delete({ kind: 'User', namespace: '', name: 'leaver' });
    const r = await call(token, 'GET', '/api/v1/services?namespace=prod');
    assert.equal(r.status, 401);
    assert.match((r.body as { message: string }).message, /revoked user token/);
    assert.equal((await call(`${token.slice(0, -2)}xx`, 'GET', '/api/v1/services')).status, 401, 'a wrong secret for an existing name');
  });
});
