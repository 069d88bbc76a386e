/**
 * The cluster CA in the store: one Secret `flotilla-system/cluster-ca` whose data `state` is the
 * JSON of the CaState (pki/bundle.ts), CA keys included, encrypted at rest under the KEK like
 * every Secret (src/server/secrets/codec.ts). Every server of one store adopts it, so servers
 * on one etcd are one cluster with one CA. The namespace is reserved: the API refuses writes in
 * it (admission), and values of Secrets are never answered to anyone but the nodes of tasks
 * that mount them.
 *
 *   open:   read the Secret -> absent: write this server's seed CA (DATA_DIR/pki/ca.*) as the
 *           state (create; AlreadyExists: another server was first -> read its)
 *           -> pki.adopt(state) -> watch: every change -> pki.adopt -> onAdopt (admin.json)
 *   write:  writeCaState(state, expected revision) by the rotation (pki/rotation.ts)
 */
import { randomUUID } from 'node:crypto';
import { AlreadyExistsError } from '../../api/errors.js';
import type { ApiObject } from '../../api/object.js';
import { Informer } from '../../controllers/framework/informer.js';
import { disposable, type Disposable } from '../../lifecycle.js';
import type { Store } from '../../store/store.js';
import { decryptSecret, encryptSecret, type Keyring } from '../secrets/codec.js';
import type { CaState } from './bundle.js';
import type { ClusterPki } from './index.js';

/** The reserved namespace of server-owned objects. */
export const SYSTEM_NAMESPACE = 'flotilla-system';
/** Name of the Secret holding the CA state. */
export const CA_SECRET_NAME = 'cluster-ca';

const CA_KEY = { kind: 'Secret' as const, namespace: SYSTEM_NAMESPACE, name: CA_SECRET_NAME };

/** The stored state and the revision to expect when writing it again. */
export interface StoredCaState {
  state: CaState;
  revision: number;
}

/** Reads the CA state; undefined when no server stored one yet. */
export async function readCaState(store: Store, ring: Keyring): Promise<StoredCaState | undefined> {
  const raw = await store.get(CA_KEY);
  return raw === undefined ? undefined : decodeCaState(raw, ring);
}

function decodeCaState(raw: ApiObject, ring: Keyring): StoredCaState {
  const plain = decryptSecret(raw, ring);
  const b64 = (plain.spec as { data?: Record<string, string> }).data?.state;
  if (b64 === undefined) throw new Error(`Secret ${SYSTEM_NAMESPACE}/${CA_SECRET_NAME} has no data "state"`);
  return { state: JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as CaState, revision: raw.metadata.revision };
}

/** Writes the CA state (create when `expectedRevision` is undefined); ConflictError on a race. */
export async function writeCaState(store: Store, ring: Keyring, state: CaState, expectedRevision?: number): Promise<number> {
  const obj: ApiObject = {
    kind: 'Secret',
    metadata: { name: CA_SECRET_NAME, namespace: SYSTEM_NAMESPACE, uid: randomUUID(), labels: { 'flotilla.io/owner': 'server' }, revision: 0, generation: 1, creationTimestamp: new Date().toISOString() },
    spec: { data: { state: Buffer.from(JSON.stringify(state), 'utf8').toString('base64') } },
  };
  const sealed = encryptSecret(obj, ring.current);
  const written = expectedRevision === undefined ? await store.create(sealed) : await store.update(sealed, expectedRevision);
  return written.metadata.revision;
}

/** Options of openClusterCa. */
export interface ClusterCaOptions {
  store: Store;
  ring: Keyring;
  pki: ClusterPki;
  /** After each adopted state (e.g. rewrite admin.json with the new bundle). */
  onAdopt?: () => Promise<void>;
  log: (line: string) => void;
}

/** Seeds or reads the shared state, adopts it, and keeps adopting its changes; see the file comment. */
export async function openClusterCa(o: ClusterCaOptions): Promise<Disposable> {
  let stored = await readCaState(o.store, o.ring);
  if (stored === undefined) {
    try {
      await writeCaState(o.store, o.ring, o.pki.caState());
      o.log(`cluster CA ${o.pki.caFingerprint().slice(0, 16)} stored in ${SYSTEM_NAMESPACE}/${CA_SECRET_NAME}`);
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw err;
    }
    stored = await readCaState(o.store, o.ring);
  }
  if (stored !== undefined) await o.pki.adopt(stored.state);
  let seen = stored?.revision ?? 0;
  let chain: Promise<void> = Promise.resolve();
  const informer = new Informer({ store: o.store, kind: 'Secret', namespace: SYSTEM_NAMESPACE, log: o.log });
  const follow = (obj: ApiObject): void => {
    if (obj.metadata.name !== CA_SECRET_NAME || obj.metadata.revision <= seen) return;
    seen = obj.metadata.revision;
    chain = chain.then(async () => {
      await o.pki.adopt(decodeCaState(obj, o.ring).state);
      await o.onAdopt?.();
    }).catch((err: unknown) => o.log(`cluster CA: cannot adopt the stored state: ${(err as Error).message}`));
  };
  informer.addHandler({ onAdd: follow, onUpdate: (_old, obj) => follow(obj) });
  await informer.start();
  return disposable(async () => {
    await informer.stop();
    await chain;
  });
}
