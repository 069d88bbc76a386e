/**
 * RbacAuthorizer: the server's Authorizer once users exist. Admin: everything. Nodes: the node
 * rules of identity.ts, unchanged (through BuiltinAuthorizer). Users: decide() over the Grants
 * and Roles that two informers keep in memory. Decisions are recorded by the AuditLog.
 */
import { ForbiddenError } from '../../../api/errors.js';
import { PLURAL } from '../../../api/kind-names.js';
import type { ApiObject } from '../../../api/object.js';
import type { GrantSpec, RoleRule, RoleSpec } from '../../../api/validate/index.js';
import { Informer } from '../../../controllers/framework/informer.js';
import type { Disposable } from '../../../lifecycle.js';
import type { Store } from '../../../store/store.js';
import { BuiltinAuthorizer, type Access, type Authorizer, type Identity, type VisibleObject } from '../identity.js';
import { AuditLog } from './audit.js';
import { decide, denialMessage, type Policy } from './decide.js';
import { BUILTIN_ROLES } from './roles.js';

const MUTATING = new Set(['create', 'update', 'delete', 'scale', 'exec']);

/** Options of the RBAC authorizer. */
export interface RbacOptions {
  /** The node rules (identity.ts BuiltinAuthorizer, with its need-to-know sources); default: a bare one. */
  nodes?: Authorizer;
  /** Audit flush interval (default 1000 ms); 0 turns audit Events off. */
  auditFlushMs?: number;
}

/** See the file comment. start() before use; stop() ends the informers and flushes the audit log. */
export class RbacAuthorizer implements Authorizer, Disposable {
  private readonly grants: Informer<ApiObject<GrantSpec>>;
  private readonly roles: Informer<ApiObject<RoleSpec>>;
  private readonly builtin: Authorizer;
  private readonly audit: AuditLog | undefined;
  private policy: Policy | undefined;

  constructor(store: Store, opts: RbacOptions = {}) {
    this.grants = new Informer<ApiObject<GrantSpec>>({ store, kind: 'Grant' });
    this.roles = new Informer<ApiObject<RoleSpec>>({ store, kind: 'Role' });
    const invalidate = { onAdd: () => this.invalidate(), onUpdate: () => this.invalidate(), onDelete: () => this.invalidate() };
    this.grants.addHandler(invalidate);
    this.roles.addHandler(invalidate);
    this.builtin = opts.nodes ?? new BuiltinAuthorizer();
    this.audit = opts.auditFlushMs === 0 ? undefined : new AuditLog(store, opts.auditFlushMs ?? 1_000);
  }

  /** Starts both informers; resolves once their first lists are in memory. */
  async start(): Promise<void> {
    await Promise.all([this.grants.start(), this.roles.start()]);
  }

  /** Allows or throws ForbiddenError (see README.md for the flow). */
  async authorize(id: Identity, a: Access): Promise<void> {
    if (id.kind === 'node') return this.authorizeNode(id, a);
    const allowed = id.kind === 'admin' || (id.kind === 'user' && decide(id, a, this.currentPolicy()).allowed);
    if (!allowed) {
      const message = denialMessage(id, a, a.kind !== undefined ? PLURAL[a.kind] : 'objects of every kind');
      this.audit?.record(id, a, false, message);
      throw new ForbiddenError(message);
    }
    // Item routes check twice (before and after the read): the second one, with labels, is audited.
    if (MUTATING.has(a.verb) && (a.labels !== undefined || a.verb === 'exec')) this.audit?.record(id, a, true, `${a.verb} ${a.kind !== undefined ? PLURAL[a.kind] : ''} in namespace ${a.namespace ?? '*'}${a.name !== undefined ? ` (${a.name})` : ''}`);
  }

  /** Whether a list or watch shows this object to the caller. */
  visible(id: Identity, verb: 'list' | 'watch', o: VisibleObject): boolean {
    if (id.kind !== 'user') return true;
    const m = o.metadata;
    return decide(id, { verb, kind: o.kind, namespace: m.namespace, name: m.name, labels: m.labels }, this.currentPolicy()).allowed;
  }

  /** Nodes: the node rules, unchanged; logs count as a read of the task, exec is never theirs. */
  private async authorizeNode(id: Identity, a: Access): Promise<void> {
    const asBuiltin: Access = a.verb === 'logs' ? { ...a, verb: 'get' } : a;
    try {
      await this.builtin.authorize(id, asBuiltin);
    } catch (err) {
      if (err instanceof ForbiddenError) this.audit?.record(id, a, false, err.message);
      throw err;
    }
  }

  private invalidate(): void {
    this.policy = undefined;
  }

  /** Grants and roles as decide() wants them, rebuilt after any change. */
  private currentPolicy(): Policy {
    if (this.policy !== undefined) return this.policy;
    const roles = new Map<string, readonly RoleRule[]>();
    for (const r of this.roles.list()) roles.set(r.metadata.name, r.spec.rules);
    for (const [name, rules] of BUILTIN_ROLES) roles.set(name, rules);
    this.policy = { grants: this.grants.list().map((g) => g.spec), roles };
    return this.policy;
  }

  /** Stops the informers and writes the audit entries still pending. */
  async stop(): Promise<void> {
    await Promise.all([this.grants.stop(), this.roles.stop()]);
    await this.audit?.stop();
  }
}
