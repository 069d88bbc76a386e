/**
 * Who is asking (Identity) and whether they may (Authorizer). Authentication turns a request
 * into an Identity; the authorizer hook decides per access. RBAC (Role + Grant objects) will be
 * one more Authorizer implementation; the server only knows this interface.
 */
import { ForbiddenError } from '../../api/errors.js';
import type { Kind } from '../../api/object.js';
import type { SourceAccess } from '../secrets/access.js';

/** Kinds of callers. `admin` holds the admin token; `node` a CA-signed `node:NAME` certificate. */
export type IdentityKind = 'admin' | 'node' | 'user' | 'serviceaccount';

/** The authenticated caller of one request. */
export interface Identity {
  kind: IdentityKind;
  /** `admin`, the node name, the user name... */
  name: string;
  /** How the caller proved it. */
  via: 'token' | 'certificate';
  /** A user's groups (grants to `group:G` apply to its members). */
  groups?: readonly string[];
}

/** What a request does, in the terms an RBAC rule speaks. */
export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'delete' | 'sign' | 'logs' | 'exec' | 'scale';

/** One access to check. `kind` undefined means every kind (a watch of everything). */
export interface Access {
  verb: Verb;
  kind?: Kind;
  namespace?: string;
  name?: string;
  /** `status` for the status subresource. */
  subresource?: 'status';
  /**
   * The labels of the object, when the caller read it (RBAC collections select by labels).
   * Absent on the first check of an item route, before the object is read: RBAC then asks only
   * whether some grant could allow it, and the handler checks again with the labels.
   */
  labels?: Readonly<Record<string, string>>;
}

/**
 * The authorization hook: resolve to allow, throw ForbiddenError to deny. May be async (RBAC
 * reads Grants from the store or a cache).
 */
export interface Authorizer {
  authorize(id: Identity, access: Access): Promise<void> | void;
  /**
   * Whether a list or watch shows this object to the caller (RBAC: only objects in the
   * caller's collections). Absent: every object the list or watch was allowed for.
   */
  visible?(id: Identity, verb: 'list' | 'watch', obj: VisibleObject): boolean;
}

/** What `visible` looks at in an object. */
export interface VisibleObject {
  kind: Kind;
  metadata: { namespace: string; name: string; labels: Readonly<Record<string, string>> };
}

const READ_VERBS: ReadonlySet<Verb> = new Set<Verb>(['get', 'list', 'watch']);

/**
 * The built-in policy until RBAC lands: admin may do anything; a node may read everything but
 * Secrets and Configs, write the status of Tasks and Nodes, create and update its own Node
 * object and its own heartbeat Lease, and create Events. A node may GET one Secret or Config
 * only while it runs a task that uses it (need-to-know, asked of `sources` on every read; never
 * list or watch them). Everyone else: nothing.
 */
export class BuiltinAuthorizer implements Authorizer {
  /** `sources` answers the need-to-know question; without it nodes read no Secret or Config. */
  constructor(private readonly sources?: SourceAccess) {}

  authorize(id: Identity, a: Access): Promise<void> | void {
    if (id.kind === 'admin') return;
    if (id.kind === 'node' && (a.kind === 'Secret' || a.kind === 'Config') && a.subresource === undefined) return this.authorizeSource(id, a, a.kind);
    if (id.kind === 'node' && nodeMay(id.name, a)) return;
    throw denied(id, a);
  }

  private async authorizeSource(id: Identity, a: Access, kind: 'Secret' | 'Config'): Promise<void> {
    const what = kind === 'Secret' ? 'secrets' : 'configs';
    if (a.verb !== 'get' || a.name === undefined) throw new ForbiddenError(`node ${id.name} may not ${a.verb} ${what}: a node reads one ${kind} at a time, only for its tasks`);
    const ns = a.namespace ?? '';
    if (this.sources !== undefined && (await this.sources.nodeUses(id.name, kind, ns, a.name))) return;
    throw new ForbiddenError(`node ${id.name} may not get ${kind} ${ns}/${a.name}: no task meant to run on this node uses it`);
  }
}

function denied(id: Identity, a: Access): ForbiddenError {
  const what = [a.kind ?? 'every kind', a.subresource].filter(Boolean).join(' ');
  return new ForbiddenError(`${id.kind} ${id.name} may not ${a.verb} ${what}${a.name !== undefined ? ` ${a.name}` : ''}`);
}

/** True when a task on `taskNode` belongs to the node credential `identity` (itself, or a node of its hollow credential). */
export function isNodeOf(identity: string, taskNode: string): boolean {
  return identity === taskNode || isHollowNodeOf(identity, taskNode);
}

function nodeMay(node: string, a: Access): boolean {
  if (READ_VERBS.has(a.verb)) return true;
  if (a.subresource === 'status') return a.verb === 'update' && (a.kind === 'Task' || a.kind === 'Node');
  if (a.kind === 'Node' && a.name === node) return a.verb === 'create' || a.verb === 'update';
  if (a.kind === 'Node' && a.verb === 'create' && a.name !== undefined && isHollowNodeOf(node, a.name)) return true;
  // Its heartbeat Lease (named after the Node): its own, or a hollow credential's nodes'.
  if (a.kind === 'Lease' && a.subresource === undefined && (a.verb === 'create' || a.verb === 'update')) return a.name === node || (a.name !== undefined && isHollowNodeOf(node, a.name));
  return a.kind === 'Event' && a.verb === 'create';
}

/**
 * Node names ending in this are hollow-agent credentials (`flotilla agent --simulate N`): one
 * process, one certificate `node:PREFIX.hollow`, N simulated Nodes `PREFIX-0`, `PREFIX-1`...
 */
export const HOLLOW_IDENTITY_SUFFIX = '.hollow';

/** The credential name of the hollow agent whose nodes are named `PREFIX-N`. */
export function hollowIdentityName(prefix: string): string {
  return `${prefix}${HOLLOW_IDENTITY_SUFFIX}`;
}

/**
 * The one extra right of a hollow credential: creating the Nodes of its own prefix
 * (`PREFIX-<digits>`), never anyone else's, never updating their spec. Anyone with a join token
 * can already join under any name, so this grants a token holder nothing new; it saves the
 * hollow agent N joins and N TLS connections.
 */
function isHollowNodeOf(identity: string, nodeName: string): boolean {
  if (!identity.endsWith(HOLLOW_IDENTITY_SUFFIX)) return false;
  const prefix = identity.slice(0, -HOLLOW_IDENTITY_SUFFIX.length);
  return prefix !== '' && nodeName.startsWith(`${prefix}-`) && /^\d+$/.test(nodeName.slice(prefix.length + 1));
}
