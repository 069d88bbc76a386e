/**
 * Opening the KEK at server start, and `flotilla secret rotate-key`.
 *
 *   openSecretKeys:  read FILE (and FILE.next) -> list every stored Secret -> each must decrypt
 *                    with one of them, else refuse to start (nothing written, no key created)
 *                    -> no FILE and no encrypted secret: create FILE (0600)
 *                    -> FILE.next present (a rotation was interrupted) or secrets stored in
 *                       plain text (from before encryption): finish with rotate()
 *
 *   rotate:          FILE.next (new, fsynced; reused if present) -> new writes wrap under it
 *                    -> re-wrap every Secret (expected revision; re-read on conflict)
 *                    -> rename FILE.next over FILE -> forget the old KEK
 *   A crash at any point leaves FILE (old) and maybe FILE.next (new): the next start loads
 *   both, so every secret decrypts, and finishes the rotation.
 */
import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../../api/errors.js';
import { keyOf, type ApiObject } from '../../api/object.js';
import type { Store } from '../../store/store.js';
import { decryptSecret, envelopeOf, KekMismatchError, Keyring, rewrapSecret, SecretCodec } from './codec.js';
import { createKekFile, nextKekFile, promoteKekFile, readKekFile, type Kek } from './kek.js';

/** What a rotation did (the API's answer to POST /api/v1/secrets-key/rotate). */
export interface RotationResult {
  /** Id of the new KEK. */
  kek: string;
  /** Where the new KEK now is (the same path as before: copy it to every other server). */
  file: string;
  /** Secrets re-wrapped. */
  rewrapped: number;
}

/** The server's secret keys: the codec it installs and the rotation it serves. */
export class SecretKeys {
  readonly codec: SecretCodec;
  private rotating: Promise<RotationResult> | undefined;

  constructor(private readonly store: Store, readonly file: string, ring: Keyring) {
    this.codec = new SecretCodec(ring);
  }

  /** Re-wraps every secret under a new KEK; concurrent calls share one rotation. */
  rotate(): Promise<RotationResult> {
    this.rotating ??= this.rotateOnce().finally(() => { this.rotating = undefined; });
    return this.rotating;
  }

  private async rotateOnce(): Promise<RotationResult> {
    const ring = this.codec.ring;
    const old = ring.current;
    const nextFile = nextKekFile(this.file);
    const next = (await readKekFile(nextFile)) ?? (await createKekFile(nextFile));
    ring.setCurrent(next);
    const rewrapped = await rewrapAll(this.store, ring, next);
    await promoteKekFile(nextFile, this.file);
    const current: Kek = { ...next, file: this.file };
    ring.setCurrent(current);
    if (old.id !== next.id) ring.drop(old.id);
    return { kek: next.id, file: this.file, rewrapped };
  }
}

/** Every stored Secret (all namespaces). */
async function allSecrets(store: Store): Promise<ApiObject[]> {
  return (await store.list('Secret', {})).items;
}

/** Re-wraps every Secret not yet under `kek` (or still in plain text); returns how many. */
async function rewrapAll(store: Store, ring: Keyring, kek: Kek): Promise<number> {
  let n = 0;
  for (const s of await allSecrets(store)) {
    let cur: ApiObject | undefined = s;
    for (let attempt = 0; cur !== undefined && envelopeOf(cur)?.kek !== kek.id; attempt++) {
      try {
        await store.update(rewrapSecret(cur, ring, kek), cur.metadata.revision);
        n++;
        break;
      } catch (err) {
        if (err instanceof NotFoundError) break;
        if (!(err instanceof ConflictError) || attempt >= 10) throw err;
        cur = await store.get(keyOf(cur)); // written meanwhile: already under the current KEK, or retry
      }
    }
  }
  return n;
}

/**
 * Opens (or on the first start creates) the KEK and checks it against the store; rejects with
 * a message naming the file and the secret when the KEK does not decrypt what is stored.
 */
export async function openSecretKeys(store: Store, file: string): Promise<SecretKeys> {
  const cur = await readKekFile(file);
  const next = await readKekFile(nextKekFile(file));
  const secrets = await allSecrets(store);
  const encrypted = secrets.filter((s) => envelopeOf(s) !== undefined);
  const have = [cur, next].filter((k): k is Kek => k !== undefined);
  if (have.length === 0 && encrypted.length > 0) {
    throw new Error(`KEK file ${file} does not exist, but the store holds ${encrypted.length} encrypted secret(s): start with the KEK file they were written with (--kek-file FILE); nothing was changed`);
  }
  const ring = new Keyring(cur ?? next ?? (await createKekFile(file)), have);
  for (const s of encrypted) {
    try {
      decryptSecret(s, ring);
    } catch (err) {
      const why = err instanceof KekMismatchError ? err.message : `it does not decrypt (${(err as Error).message})`;
      throw new Error(`KEK file ${file} does not decrypt the stored secrets: ${why}; start with the KEK file they were written with (--kek-file FILE); nothing was changed`);
    }
  }
  const keys = new SecretKeys(store, file, ring);
  await ensureKekCheck(store, keys.codec, ring, file);
  if (cur === undefined && next !== undefined) await promoteKekFile(nextKekFile(file), file);
  else if (next !== undefined) await keys.rotate();
  else if (secrets.length > encrypted.length) await rewrapAll(store, ring, ring.current);
  return keys;
}

/**
 * A Secret every server must decrypt: servers on one etcd each read their own KEK file, and
 * without a stored secret a second server would make a KEK of its own and write secrets the
 * first cannot read. The first server to start stores this one under its KEK; a later server
 * (or the loser of two starting at once) with another KEK then refuses to start like any other
 * KEK that does not decrypt the store. Rotation re-wraps it with the rest.
 */
export const KEK_CHECK_SECRET = { kind: 'Secret' as const, namespace: 'flotilla-system', name: 'kek-check' };

async function ensureKekCheck(store: Store, codec: SecretCodec, ring: Keyring, file: string): Promise<void> {
  if (await store.get(KEK_CHECK_SECRET) !== undefined) return;
  const check: ApiObject = {
    kind: 'Secret',
    metadata: {
      name: KEK_CHECK_SECRET.name, namespace: KEK_CHECK_SECRET.namespace, uid: randomUUID(), labels: {},
      annotations: { 'flotilla.dev/purpose': 'proves that every server holds the same KEK file; not used by tasks' },
      revision: 0, generation: 1, creationTimestamp: new Date().toISOString(),
    },
    spec: { data: { check: Buffer.from('flotilla KEK check').toString('base64') } },
  };
  try {
    await store.create(codec.toStore(check));
  } catch (err) {
    if (!(err instanceof AlreadyExistsError)) throw err;
    const stored = await store.get(KEK_CHECK_SECRET);
    try {
      if (stored !== undefined) decryptSecret(stored, ring);
    } catch {
      throw new Error(`KEK file ${file} does not decrypt the stored secrets: another server started at the same time with another KEK; give every server the same KEK file (--kek-file FILE); nothing was changed`);
    }
  }
}
