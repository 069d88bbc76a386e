/**
 * The pure RBAC decision (src/server/auth/rbac/decide.ts): a table of cases, and a fast-check
 * property: whatever the grants, a request is allowed only when some grant of one of the
 * caller's subjects has a role covering the verb and kind and a collection holding the object.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { GrantSpec, RoleRule } from '../../../src/api/validate/index.js';
import type { Access, Identity } from '../../../src/server/auth/identity.js';
import { collectionCovers, decide, denialMessage, rulesCover, subjectsOf, type Policy } from '../../../src/server/auth/rbac/decide.js';
import { BUILTIN_ROLES } from '../../../src/server/auth/rbac/roles.js';

const ann: Identity = { kind: 'user', name: 'ann', via: 'token', groups: ['dev'] };
const roles = new Map<string, readonly RoleRule[]>([...BUILTIN_ROLES, ['pods', [{ kinds: ['Task'], verbs: ['get', 'logs'] }]]]);
const grant = (subject: string, role: string, namespace: string, labels?: Record<string, string>): GrantSpec => ({ subject, role, collection: { namespace, ...(labels !== undefined ? { labels } : {}) } });
const policy = (...grants: GrantSpec[]): Policy => ({ grants, roles });
const svc = (verb: Access['verb'], namespace: string, labels?: Record<string, string>): Access => ({ verb, kind: 'Service', namespace, name: 'web', ...(labels !== undefined ? { labels } : {}) });

void describe('RBAC decide', () => {
  const cases: [string, Access, GrantSpec[], boolean][] = [
    ['no grant, no access', svc('get', 'prod', {}), [], false],
    ['view allows get in its namespace', svc('get', 'prod', {}), [grant('user:ann', 'view', 'prod')], true],
    ['view: not another namespace', svc('get', 'dev', {}), [grant('user:ann', 'view', 'prod')], false],
    ['view does not delete', svc('delete', 'prod', {}), [grant('user:ann', 'view', 'prod')], false],
    ['edit deletes services', svc('delete', 'prod', {}), [grant('user:ann', 'edit', 'prod')], true],
    ['edit scales', svc('scale', 'prod', {}), [grant('user:ann', 'edit', 'prod')], true],
    ['a group grant applies to members', svc('update', 'prod', {}), [grant('group:dev', 'edit', 'prod')], true],
    ['another user\'s grant does not', svc('update', 'prod', {}), [grant('user:bob', 'admin', '*')], false],
    ['labels must match', svc('get', 'dev', { team: 'b' }), [grant('user:ann', 'view', 'dev', { team: 'a' })], false],
    ['matching labels', svc('get', 'dev', { team: 'a', x: 'y' }), [grant('user:ann', 'view', 'dev', { team: 'a' })], true],
    ['before the read (no labels): some grant could', svc('get', 'dev'), [grant('user:ann', 'view', 'dev', { team: 'a' })], true],
    ['update before the read counts scale', svc('update', 'dev'), [grant('user:ann', 'pods', 'dev'), grant('user:ann', 'edit', 'dev')], true],
    ['view lists secrets (their values are never answered)', { verb: 'get', kind: 'Secret', namespace: 'prod', name: 's', labels: {} }, [grant('user:ann', 'view', 'prod')], true],
    ['view does not write secrets', { verb: 'update', kind: 'Secret', namespace: 'prod', name: 's', labels: {} }, [grant('user:ann', 'view', 'prod')], false],
    ['view never reads users (token hashes)', { verb: 'get', kind: 'User', namespace: '', name: 'bob', labels: {} }, [grant('user:ann', 'view', '*')], false],
    ['secrets role reads secrets', { verb: 'get', kind: 'Secret', namespace: 'prod', name: 's', labels: {} }, [grant('user:ann', 'secrets', 'prod')], true],
    ['nodes need namespace *', { verb: 'update', kind: 'Node', namespace: '', name: 'n1', labels: {} }, [grant('user:ann', 'operator', 'prod')], false],
    ['operator over * updates nodes', { verb: 'update', kind: 'Node', namespace: '', name: 'n1', labels: {} }, [grant('user:ann', 'operator', '*')], true],
    ['operator execs', { verb: 'exec', kind: 'Task', namespace: 'prod', name: 't', labels: {} }, [grant('user:ann', 'operator', 'prod')], true],
    ['edit does not exec', { verb: 'exec', kind: 'Task', namespace: 'prod', name: 't', labels: {} }, [grant('user:ann', 'edit', 'prod')], false],
    ['status writes need an all-verbs rule', { ...svc('update', 'prod', {}), subresource: 'status' }, [grant('user:ann', 'edit', 'prod')], false],
    ['admin writes status', { ...svc('update', 'prod', {}), subresource: 'status' }, [grant('user:ann', 'admin', 'prod')], true],
    ['a custom role', { verb: 'logs', kind: 'Task', namespace: 'prod', name: 't', labels: {} }, [grant('user:ann', 'pods', 'prod')], true],
    ['an unknown role allows nothing', svc('get', 'prod', {}), [grant('user:ann', 'nope', 'prod')], false],
    ['a list without a name is filtered, not refused', { verb: 'list', kind: 'Service', namespace: 'prod' }, [], true],
    ['a list item is checked like a get', { verb: 'list', kind: 'Service', namespace: 'prod', name: 'x', labels: {} }, [], false],
  ];
  for (const [what, access, grants, allowed] of cases) {
    void it(what, () => assert.equal(decide(ann, access, policy(...grants)).allowed, allowed));
  }

  void it('says who may not do what where', () => {
    assert.equal(denialMessage(ann, { verb: 'delete', kind: 'Service', namespace: 'prod', name: 'web' }, 'services'), 'user ann may not delete services in namespace prod (web): no grant covers it');
  });

  void it('never allows a request that no grant covers (property)', () => {
    const name = fc.constantFrom('a', 'b');
    const labels = fc.dictionary(fc.constantFrom('team', 'tier'), fc.constantFrom('x', 'y'), { maxKeys: 2 });
    const grantArb = fc.record({
      subject: fc.constantFrom('user:ann', 'user:bob', 'group:dev', 'group:ops'),
      role: fc.constantFrom(...roles.keys(), 'missing'),
      collection: fc.record({ namespace: fc.constantFrom('prod', 'dev', '*'), labels }, { requiredKeys: ['namespace'] }),
    });
    const accessArb = fc.record({
      verb: fc.constantFrom('get', 'list', 'watch', 'create', 'update', 'delete', 'logs', 'exec', 'scale'),
      kind: fc.constantFrom('Service', 'Task', 'Secret', 'Node', 'Config', 'Grant'),
      namespace: fc.constantFrom('prod', 'dev', ''),
      name,
      labels,
    }) as fc.Arbitrary<Access>;
    const idArb = fc.record({ name: fc.constantFrom('ann', 'bob', 'cy'), groups: fc.subarray(['dev', 'ops']) });
    fc.assert(fc.property(fc.array(grantArb, { maxLength: 6 }), accessArb, idArb, (grants, access, who) => {
      const id: Identity = { kind: 'user', name: who.name, via: 'token', groups: who.groups };
      const subjects = subjectsOf(id);
      // The oracle, written independently of decide's loop: some grant covers it, field by field.
      const covered = grants.some((g) => {
        const rules = roles.get(g.role);
        if (rules === undefined || !subjects.has(g.subject)) return false;
        const ns = g.collection.namespace === '*' || g.collection.namespace === access.namespace;
        const lab = Object.entries(g.collection.labels ?? {}).every(([k, v]) => access.labels?.[k] === v);
        return ns && lab && rulesCover(rules, access.verb, access.kind);
      });
      const d = decide(id, access, { grants, roles });
      if (d.allowed) assert.ok(covered, `allowed without a covering grant: ${JSON.stringify({ grants, access, id })}`);
      else assert.ok(!covered, `denied although covered: ${JSON.stringify({ grants, access, id })}`);
      assert.equal(collectionCovers({ namespace: '*' }, access), true);
    }), { numRuns: 2000 });
  });
});
