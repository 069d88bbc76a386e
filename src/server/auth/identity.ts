/**
 * Who is asking (Identity) and whether they may (Authorizer). Authentication turns a request
 * into an Identity; the authorizer hook decides per access. RBAC (Role + Grant objects) will be
 * one more Authorizer implementation; the server only knows this interface.
 */
import { ForbiddenError } from '../../api/errors.js';
import type { Kind } from '../../api/object.js';

/** Kinds of callers. `admin` holds the admin token; `node` a CA-signed `node:NAME` certificate. */
export type IdentityKind = 'admin' | 'node' | 'user' | 'serviceaccount';

/** The authenticated caller of one request. */
export interface Identity {
  kind: IdentityKind;
  /** `admin`, the node name, the user name... */
  name: string;
  /** How the caller proved it. */
  via: 'token' | 'certificate';
}

/** What a request does, in the terms an RBAC rule speaks. */
export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'delete' | 'sign';

/** One access to check. `kind` undefined means every kind (a watch of everything). */
export interface Access {
  verb: Verb;
  kind?: Kind;
  namespace?: string;
  name?: string;
  /** `status` for the status subresource. */
  subresource?: 'status';
}

/**
 * The authorization hook: resolve to allow, throw ForbiddenError to deny. May be async (RBAC
 * reads Grants from the store or a cache).
 */
export interface Authorizer {
  authorize(id: Identity, access: Access): Promise<void> | void;
}

const READ_VERBS: ReadonlySet<Verb> = new Set<Verb>(['get', 'list', 'watch']);

/**
 * The built-in policy until RBAC lands: admin may do anything; a node may read everything
 * (TODO(rbac): only the secrets of its own tasks), write the status of Tasks and Nodes, create
 * and update its own Node object, and create Events. Everyone else: nothing.
 */
export class BuiltinAuthorizer implements Authorizer {
  authorize(id: Identity, a: Access): void {
    if (id.kind === 'admin') return;
    if (id.kind === 'node' && nodeMay(id.name, a)) return;
    const what = [a.kind ?? 'every kind', a.subresource].filter(Boolean).join(' ');
    throw new ForbiddenError(`${id.kind} ${id.name} may not ${a.verb} ${what}${a.name !== undefined ? ` ${a.name}` : ''}`);
  }
}

function nodeMay(node: string, a: Access): boolean {
  if (READ_VERBS.has(a.verb)) return true;
  if (a.subresource === 'status') return a.verb === 'update' && (a.kind === 'Task' || a.kind === 'Node');
  if (a.kind === 'Node' && a.name === node) return a.verb === 'create' || a.verb === 'update';
  return a.kind === 'Event' && a.verb === 'create';
}
