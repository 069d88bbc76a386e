/**
 * One admin token for the whole cluster: servers on one store (etcd) accept the same admin.json,
 * whichever server a client fails over to. The first server stores its admin token as the
 * Secret `flotilla-system/admin-token` (encrypted at rest under the KEK, like every Secret);
 * every later server adopts it: it writes the token's hash to DATA_DIR/auth and the token to its
 * admin.json, so that its own restarts keep it (tokens.ts ensureAdminToken).
 *
 *   read Secret -> absent: create it with this server's token (AlreadyExists: another was first -> read)
 *              -> present: adopt its token (hash file rewritten when it differs)
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { AlreadyExistsError } from '../../api/errors.js';
import type { ApiObject } from '../../api/object.js';
import type { Store } from '../../store/store.js';
import { writeSecret } from '../pki/index.js';
import { SYSTEM_NAMESPACE } from '../pki/ca-store.js';
import { decryptSecret, encryptSecret, type Keyring } from '../secrets/codec.js';
import { hashToken } from './tokens.js';

/** Name of the Secret that holds the cluster's admin token. */
export const ADMIN_TOKEN_SECRET = 'admin-token';

const KEY = { kind: 'Secret' as const, namespace: SYSTEM_NAMESPACE, name: ADMIN_TOKEN_SECRET };

/** The admin token of the cluster: the stored one, or `local` stored as it (first server). */
export async function clusterAdminToken(store: Store, ring: Keyring, local: { token: string; hash: string }, dataDir: string): Promise<{ token: string; hash: string; adopted: boolean }> {
  let stored = await readToken(store, ring);
  if (stored === undefined) {
    const obj: ApiObject = {
      kind: 'Secret',
      metadata: { name: ADMIN_TOKEN_SECRET, namespace: SYSTEM_NAMESPACE, uid: randomUUID(), labels: { 'flotilla.io/owner': 'server' }, revision: 0, generation: 1, creationTimestamp: new Date().toISOString() },
      spec: { data: { token: Buffer.from(local.token, 'utf8').toString('base64') } },
    };
    try {
      await store.create(encryptSecret(obj, ring.current));
      return { ...local, adopted: false };
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw err;
    }
    stored = await readToken(store, ring);
    if (stored === undefined) throw new Error(`Secret ${SYSTEM_NAMESPACE}/${ADMIN_TOKEN_SECRET} vanished while this server started`);
  }
  const hash = hashToken(stored);
  if (hash === local.hash) return { ...local, adopted: false };
  const hashFile = path.join(dataDir, 'auth', 'admin-token.sha256');
  await fs.mkdir(path.dirname(hashFile), { recursive: true, mode: 0o700 });
  await writeSecret(hashFile, `${hash}\n`);
  return { token: stored, hash, adopted: true };
}

async function readToken(store: Store, ring: Keyring): Promise<string | undefined> {
  const raw = await store.get(KEY);
  if (raw === undefined) return undefined;
  const b64 = (decryptSecret(raw, ring).spec as { data?: Record<string, string> }).data?.token;
  if (b64 === undefined || b64 === '') throw new Error(`Secret ${SYSTEM_NAMESPACE}/${ADMIN_TOKEN_SECRET} has no data "token"`);
  return Buffer.from(b64, 'base64').toString('utf8');
}
