/**
 * The node rule for Secrets and Configs (need-to-know), as a table: a node may GET one only
 * while a task meant to run on it (desired running) names it, or (Secrets) an Ingress names it
 * for TLS; never list or watch them; every other node rule as before.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ForbiddenError } from '../../../src/api/errors.js';
import type { Task } from '../../../src/api/kinds.js';
import { BuiltinAuthorizer, hollowIdentityName, isNodeOf, type Access, type Identity } from '../../../src/server/auth/identity.js';
import { StoreSourceAccess } from '../../../src/server/secrets/access.js';
import type { ApiObject } from '../../../src/api/object.js';
import type { ListResult } from '../../../src/store/store.js';

function task(name: string, node: string, desired: 'running' | 'shutdown', secrets: string[], configs: string[] = []): Task {
  return {
    kind: 'Task',
    metadata: { name, namespace: 'default', uid: name, labels: {}, revision: 1, generation: 1, creationTimestamp: '' },
    spec: {
      service: 'web', serviceGeneration: 1, slot: 1, node, image: 'busybox:1', desiredState: desired,
      template: { secrets: secrets.map((s) => ({ source: s, target: `/run/secrets/${s}`, mode: 0o400, uid: 0, gid: 0 })), configs: configs.map((c) => ({ source: c, target: `/${c}`, mode: 0o444 })) },
    } as unknown as Task['spec'],
  };
}

const tasks = [
  task('t1', 'n1', 'running', ['db-pass'], ['app-conf']),
  task('t2', 'n2', 'shutdown', ['api-key']),
  task('t3', 'sim-3', 'running', ['sim-secret']),
];
const ingress: ApiObject = { kind: 'Ingress', metadata: { name: 'front', namespace: 'default', uid: 'i', labels: {}, revision: 1, generation: 1, creationTimestamp: '' }, spec: { rules: [], tls: [{ hosts: ['web.test'], secret: 'web-tls' }] } };
const fakeStore = {
  list: (k: string, o?: { namespace?: string }): Promise<ListResult> => Promise.resolve({
    items: (k === 'Ingress' ? [ingress] : tasks).filter((t) => o?.namespace === undefined || t.metadata.namespace === o.namespace),
    revision: 1,
  }),
};
const authz = new BuiltinAuthorizer(new StoreSourceAccess(fakeStore, isNodeOf));
const node = (name: string): Identity => ({ kind: 'node', name, via: 'certificate' });

async function allowed(id: Identity, a: Access): Promise<boolean | string> {
  try {
    await authz.authorize(id, a);
    return true;
  } catch (err) {
    assert.ok(err instanceof ForbiddenError);
    return false;
  }
}

describe('need-to-know for nodes', () => {
  const get = (kind: 'Secret' | 'Config', name: string): Access => ({ verb: 'get', kind, namespace: 'default', name });
  const cases: Array<[string, Identity, Access, boolean]> = [
    ['a node gets the secret of its running task', node('n1'), get('Secret', 'db-pass'), true],
    ['a node gets the config of its running task', node('n1'), get('Config', 'app-conf'), true],
    ['a node may not get a secret no task of it uses', node('n1'), get('Secret', 'api-key'), false],
    ['another node may not get it', node('n2'), get('Secret', 'db-pass'), false],
    ['a shut-down task gives no access', node('n2'), get('Secret', 'api-key'), false],
    ['the same name in another namespace is not it', node('n1'), { ...get('Secret', 'db-pass'), namespace: 'prod' }, false],
    ['a hollow credential gets the secret of its nodes\' tasks', node(hollowIdentityName('sim')), get('Secret', 'sim-secret'), true],
    ['every node gets a secret an Ingress names for TLS (every node serves the ingress)', node('n2'), get('Secret', 'web-tls'), true],
    ['an Ingress TLS secret is not a config', node('n2'), get('Config', 'web-tls'), false],
    ['a node may not list secrets', node('n1'), { verb: 'list', kind: 'Secret', namespace: 'default' }, false],
    ['a node may not watch secrets', node('n1'), { verb: 'watch', kind: 'Secret' }, false],
    ['a node may not list configs', node('n1'), { verb: 'list', kind: 'Config' }, false],
    ['a node may not write a secret it may read', node('n1'), { verb: 'update', kind: 'Secret', namespace: 'default', name: 'db-pass' }, false],
    ['a node still lists services', node('n1'), { verb: 'list', kind: 'Service' }, true],
    ['a node still watches everything (Secret values are removed from answers)', node('n1'), { verb: 'watch' }, true],
    ['a node still writes task status', node('n1'), { verb: 'update', kind: 'Task', namespace: 'default', name: 't1', subresource: 'status' }, true],
    ['admin gets any secret', { kind: 'admin', name: 'admin', via: 'token' }, get('Secret', 'api-key'), true],
    ['a user without RBAC gets nothing', { kind: 'user', name: 'ann', via: 'token' }, get('Secret', 'db-pass'), false],
  ];
  for (const [name, id, access, want] of cases) {
    it(name, async () => assert.equal(await allowed(id, access), want));
  }

  it('says which secret and why', async () => {
    await assert.rejects(Promise.resolve(authz.authorize(node('n2'), get('Secret', 'db-pass'))), /node n2 may not get Secret default\/db-pass: no task meant to run on this node uses it/);
  });

  it('without a source of tasks, nodes read no secret', async () => {
    await assert.rejects(Promise.resolve(new BuiltinAuthorizer().authorize(node('n1'), get('Secret', 'db-pass'))), ForbiddenError);
  });
});
