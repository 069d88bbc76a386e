/**
 * POST /api/v1/secret-key/rotate: `flotilla secret rotate-key`. Authorized as an update of
 * every Secret (admin; RBAC: whoever manages secrets); answers the RotationResult.
 */
import type { ServerResponse } from 'node:http';
import { FlotillaError } from '../../api/errors.js';
import type { Identity } from '../auth/identity.js';
import type { ApiContext } from '../http/context.js';
import { sendJson } from '../http/respond.js';

/** The route's path under /api/v1. */
export const ROTATE_KEY_PATH = ['secret-key', 'rotate'] as const;

/** Serves one rotation request. */
export async function serveRotateKey(ctx: ApiContext, res: ServerResponse, identity: Identity): Promise<void> {
  await ctx.authorizer.authorize(identity, { verb: 'update', kind: 'Secret' });
  if (ctx.rotateSecretKey === undefined) throw new FlotillaError('this server keeps no key-encryption key (secrets are stored as given)');
  sendJson(res, 200, await ctx.rotateSecretKey());
}
