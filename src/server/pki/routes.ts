/**
 * The certificate routes of the API (admin only):
 *
 *   GET  /api/v1/ca                        trust bundle fingerprints, signer, rotation phase
 *   POST /api/v1/ca/rotate                 {deadlineSeconds?} -> 202, the rotation begins (pki/rotation.ts)
 *   POST /api/v1/nodes/{name}/rotate-cert  -> the node's new certificate; older ones revoked (pki/node-renew.ts)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequestError, ForbiddenError } from '../../api/errors.js';
import type { Store } from '../../store/store.js';
import type { Identity } from '../auth/identity.js';
import { MethodNotAllowedError, readJsonBody, sendJson } from '../http/respond.js';
import type { AgentDialer } from '../proxy/agent-dialer.js';
import type { Keyring } from '../secrets/codec.js';
import type { ClusterPki } from './index.js';
import { readCaState } from './ca-store.js';
import { rotateNodeCertificate } from './node-renew.js';
import { beginCaRotation, caStatusOf } from './rotation.js';

/** What the routes need. */
export interface PkiRoutesEnv {
  store: Store;
  ring: Keyring;
  pki: ClusterPki;
  dialer: AgentDialer;
  bodyLimitBytes: number;
}

/** Whether `rest` (the path after /api/v1/) is one of these routes. */
export function isPkiRoute(rest: readonly string[]): boolean {
  return (rest[0] === 'ca' && (rest.length === 1 || (rest.length === 2 && rest[1] === 'rotate')))
    || (rest.length === 3 && rest[0] === 'nodes' && rest[2] === 'rotate-cert');
}

/** Serves one of the routes (isPkiRoute was true). */
export async function servePkiRoute(env: PkiRoutesEnv, rest: readonly string[], method: string, identity: Identity, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (identity.kind !== 'admin') throw new ForbiddenError(`${identity.kind} ${identity.name} may not manage the cluster's certificates (admin only)`);
  const want = rest.length === 1 ? 'GET' : 'POST';
  if (method !== want) throw new MethodNotAllowedError(`only ${want} is allowed on /api/v1/${rest.join('/')}`);
  if (rest[0] === 'nodes') {
    sendJson(res, 200, await rotateNodeCertificate(env.store, env.dialer, rest[1] as string));
    return;
  }
  if (rest.length === 1) {
    // From the store, not this server's copy: a rotation just begun shows at once.
    sendJson(res, 200, caStatusOf((await readCaState(env.store, env.ring))?.state ?? env.pki.caState()));
    return;
  }
  const body = ((await readJsonBody(req, env.bodyLimitBytes)) ?? {}) as { deadlineSeconds?: unknown };
  const d = body.deadlineSeconds;
  if (d !== undefined && (typeof d !== 'number' || !Number.isFinite(d))) throw new BadRequestError('deadlineSeconds: expected a number of seconds');
  sendJson(res, 202, caStatusOf(await beginCaRotation(env, d === undefined ? undefined : d * 1000)));
}
