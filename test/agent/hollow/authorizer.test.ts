/**
 * The one authorizer rule hollow nodes add: the credential `node:PREFIX.hollow` may create the
 * Nodes `PREFIX-<digits>` and nothing else that a node could not do before; real nodes' rules
 * are unchanged.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ForbiddenError } from '../../../src/api/errors.js';
import { BuiltinAuthorizer, hollowIdentityName, type Access, type Identity } from '../../../src/server/auth/identity.js';

const authz = new BuiltinAuthorizer();
const node = (name: string): Identity => ({ kind: 'node', name, via: 'certificate' });
const allowed = (id: Identity, a: Access): boolean => {
  try {
    // Only Secret and Config reads are asynchronous (need-to-know); these rules answer at once.
    const pending = authz.authorize(id, a);
    assert.equal(pending, undefined);
    return true;
  } catch (err) {
    assert.ok(err instanceof ForbiddenError);
    return false;
  }
};

describe('hollow credential authorization', () => {
  const hollow = node(hollowIdentityName('sim'));
  const cases: Array<[string, Identity, Access, boolean]> = [
    ['hollow creates its own nodes', hollow, { verb: 'create', kind: 'Node', namespace: '', name: 'sim-0042' }, true],
    ['hollow writes node status (as every node may)', hollow, { verb: 'update', kind: 'Node', namespace: '', name: 'sim-1', subresource: 'status' }, true],
    ['hollow writes task status', hollow, { verb: 'update', kind: 'Task', namespace: 'default', name: 't', subresource: 'status' }, true],
    ['hollow may not create another prefix', hollow, { verb: 'create', kind: 'Node', namespace: '', name: 'web-1' }, false],
    ['hollow may not create a non-numbered name', hollow, { verb: 'create', kind: 'Node', namespace: '', name: 'sim-x' }, false],
    ['hollow may not create a longer prefix', hollow, { verb: 'create', kind: 'Node', namespace: '', name: 'sim-1-2' }, false],
    ['hollow may not update a node spec', hollow, { verb: 'update', kind: 'Node', namespace: '', name: 'sim-1' }, false],
    ['hollow may not delete its nodes', hollow, { verb: 'delete', kind: 'Node', namespace: '', name: 'sim-1' }, false],
    ['hollow may not create tasks', hollow, { verb: 'create', kind: 'Task', namespace: 'default', name: 'sim-1' }, false],
    ['a bare ".hollow" has no prefix', node('.hollow'), { verb: 'create', kind: 'Node', namespace: '', name: '-1' }, false],
    ['real node creates itself', node('n1'), { verb: 'create', kind: 'Node', namespace: '', name: 'n1' }, true],
    ['real node may not create numbered nodes of its name', node('n1'), { verb: 'create', kind: 'Node', namespace: '', name: 'n1-1' }, false],
    ['real node may not create others', node('n1'), { verb: 'create', kind: 'Node', namespace: '', name: 'n2' }, false],
  ];
  for (const [name, id, access, want] of cases) {
    it(name, () => assert.equal(allowed(id, access), want));
  }
});
