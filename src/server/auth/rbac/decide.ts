/**
 * The RBAC decision, pure: may this user do this access, given the grants and roles? No I/O,
 * no clock; the authorizer feeds it from its cache. See README.md for the flow.
 */
import type { GrantSpec, RoleRule } from '../../../api/validate/index.js';
import type { Access, Identity, Verb } from '../identity.js';

/** What the decision reads beside the identity and the access. */
export interface Policy {
  grants: readonly GrantSpec[];
  /** Role name -> rules (built-ins merged in by the caller). */
  roles: ReadonlyMap<string, readonly RoleRule[]>;
}

/** The outcome, with the grant that allowed it (for audit). */
export interface Decision {
  allowed: boolean;
  /** `user:ann view default` of the covering grant, or why nothing covered. */
  reason: string;
}

/** The subjects an identity answers to: `user:NAME` and `group:G` for each of its groups. */
export function subjectsOf(id: Identity): Set<string> {
  return new Set([`${id.kind}:${id.name}`, ...(id.groups ?? []).map((g) => `group:${g}`)]);
}

/** Whether a role's rules cover a verb on a kind (kind undefined: some kind). */
export function rulesCover(rules: readonly RoleRule[], verb: Verb, kind: string | undefined, subresource?: 'status'): boolean {
  return rules.some((r) => {
    const kindOk = kind === undefined || r.kinds.includes('*') || (r.kinds as readonly string[]).includes(kind);
    if (!kindOk) return false;
    // Status is written by nodes and controllers: among users, only an all-verbs rule may.
    if (subresource === 'status') return r.verbs.includes('*');
    if (r.verbs.includes('*') || (r.verbs as readonly string[]).includes(verb)) return true;
    // A plain update may change the replica count too.
    return verb === 'scale' && r.verbs.includes('update');
  });
}

/**
 * Whether a collection holds the access's target. Cluster-scoped objects (namespace "") and
 * cross-namespace requests (undefined) need namespace "*". Labels: every collection label must
 * be on the object; unknown labels (a first check before the read) match.
 */
export function collectionCovers(c: GrantSpec['collection'], a: Access): boolean {
  if (c.namespace !== '*' && c.namespace !== a.namespace) return false;
  if (a.labels === undefined || c.labels === undefined) return true;
  const labels = a.labels;
  return Object.entries(c.labels).every(([k, v]) => labels[k] === v);
}

/**
 * Decides one access of a user. Lists and watches without a name always pass here: their
 * results are filtered object by object (a caller sees an empty list, not a 403). A first check
 * of an update, before the object is read, passes if some grant allows update or scale.
 */
export function decide(id: Identity, a: Access, p: Policy): Decision {
  if ((a.verb === 'list' || a.verb === 'watch') && a.name === undefined && a.labels === undefined) return { allowed: true, reason: 'filtered per object' };
  const subjects = subjectsOf(id);
  const verbs: Verb[] = a.verb === 'update' && a.labels === undefined && a.subresource === undefined ? ['update', 'scale'] : [a.verb];
  for (const g of p.grants) {
    if (!subjects.has(g.subject)) continue;
    const rules = p.roles.get(g.role);
    if (rules === undefined || !collectionCovers(g.collection, a)) continue;
    if (verbs.some((v) => rulesCover(rules, v, a.kind, a.subresource))) return { allowed: true, reason: `${g.subject} ${g.role} ${describeCollection(g.collection)}` };
  }
  return { allowed: false, reason: 'no grant covers it' };
}

/** `namespace prod, labels team=a`. */
export function describeCollection(c: GrantSpec['collection']): string {
  const ns = c.namespace === '*' ? 'every namespace' : `namespace ${c.namespace}`;
  const labels = Object.entries(c.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  return labels === '' ? ns : `${ns}, labels ${labels}`;
}

/** The 403 message: `user ann may not delete services in namespace prod`. */
export function denialMessage(id: Identity, a: Access, plural: string): string {
  const what = a.subresource === 'status' ? `the status of ${plural}` : plural;
  const where = a.namespace === undefined ? ' across namespaces' : a.namespace === '' ? ' (cluster-scoped)' : ` in namespace ${a.namespace}`;
  const name = a.name !== undefined ? ` (${a.name})` : '';
  return `${id.kind} ${id.name} may not ${a.verb} ${what}${where}${name}: no grant covers it`;
}
