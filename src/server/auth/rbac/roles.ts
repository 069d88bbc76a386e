/**
 * The built-in roles. They exist without Role objects; a Role object with one of these names
 * is ignored (the built-in wins), so nobody can widen `view` for everyone by editing it.
 */
import type { RoleRule } from '../../../api/validate/index.js';
import type { Kind } from '../../../api/object.js';

/**
 * Kinds `view` may read: everything but credentials (User and JoinToken hold token hashes).
 * Secrets are listed without their values: the API never answers a value to anyone but a node
 * that runs a task using it (src/server/secrets/redact.ts).
 */
const VIEWABLE: Kind[] = ['Node', 'Service', 'Task', 'Secret', 'Config', 'Event', 'Volume', 'NetworkPolicy', 'Role', 'Grant', 'Ingress', 'Lease', 'TrustPolicy', 'Revocation'];
const READ: RoleRule['verbs'] = ['get', 'list', 'watch'];
const view: RoleRule = { kinds: VIEWABLE, verbs: READ };

/** Name -> rules of each built-in role. */
export const BUILTIN_ROLES: ReadonlyMap<string, readonly RoleRule[]> = new Map<string, RoleRule[]>([
  ['view', [view]],
  ['edit', [view, { kinds: ['Service', 'Config', 'Volume', 'Ingress', 'NetworkPolicy'], verbs: ['create', 'update', 'delete', 'scale'] }]],
  ['secrets', [{ kinds: ['Secret'], verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'] }]],
  ['operator', [view, { kinds: ['Node'], verbs: ['update'] }, { kinds: ['Task', 'Service'], verbs: ['logs', 'exec'] }]],
  ['admin', [{ kinds: ['*'], verbs: ['*'] }]],
]);
