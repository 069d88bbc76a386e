/**
 * Secret encryption at rest, as the API server's ObjectCodec (src/server/hooks.ts):
 * `toStore` replaces Secret.spec.data by an envelope, `fromStore` turns it back.
 *
 *   data (JSON) --AES-256-GCM, fresh 32-byte data key, AAD "Secret/NS/NAME"--> ct, iv, tag
 *   data key    --AES-256-GCM under the KEK, AAD = KEK id-------------------> key (iv|tag|ct)
 *   stored spec: {encrypted: {v: 1, alg, kek: <KEK id>, key, iv, tag, ct}}
 *
 * Every other kind passes through unchanged. node:crypto only.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { ApiObject } from '../../api/object.js';
import type { ObjectCodec } from '../hooks.js';
import type { Kek } from './kek.js';

/** The stored form of a Secret's data. */
export interface SecretEnvelope {
  v: 1;
  alg: 'AES-256-GCM';
  /** Id of the KEK that wraps `key`. */
  kek: string;
  /** The wrapped data key: base64 of iv (12) | tag (16) | ciphertext (32). */
  key: string;
  iv: string;
  tag: string;
  /** base64 of the encrypted JSON of spec.data. */
  ct: string;
}

/** Thrown when no KEK of the ring decrypts a secret: names the secret and the key ids. */
export class KekMismatchError extends Error {
  constructor(readonly secret: string, readonly wantKek: string, readonly haveKeks: string[]) {
    super(`secret ${secret} is encrypted under KEK ${wantKek}, but the KEK file(s) given hold ${haveKeks.join(', ') || 'no key'}`);
    this.name = 'KekMismatchError';
  }
}

/** The KEKs a codec knows: `current` wraps new data keys; every one of `all` unwraps. */
export class Keyring {
  private readonly byId = new Map<string, Kek>();

  constructor(private currentKek: Kek, others: Kek[] = []) {
    for (const k of [currentKek, ...others]) this.byId.set(k.id, k);
  }

  get current(): Kek {
    return this.currentKek;
  }

  /** Makes `k` the wrapping key (rotation); older keys still unwrap. */
  setCurrent(k: Kek): void {
    this.byId.set(k.id, k);
    this.currentKek = k;
  }

  /** Forgets a KEK (after a rotation finished). */
  drop(id: string): void {
    if (id !== this.currentKek.id) this.byId.delete(id);
  }

  get(id: string): Kek | undefined {
    return this.byId.get(id);
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }
}

const GCM = 'aes-256-gcm';

function seal(key: Buffer, plain: Buffer, aad: string): { iv: Buffer; tag: Buffer; ct: Buffer } {
  const iv = randomBytes(12);
  const c = createCipheriv(GCM, key, iv);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return { iv, tag: c.getAuthTag(), ct };
}

function open(key: Buffer, iv: Buffer, tag: Buffer, ct: Buffer, aad: string): Buffer {
  const d = createDecipheriv(GCM, key, iv);
  d.setAAD(Buffer.from(aad, 'utf8'));
  d.setAuthTag(tag);
  return Buffer.concat([d.update(ct), d.final()]);
}

/** Wraps a data key under a KEK: base64 of iv | tag | ciphertext. */
export function wrapDataKey(kek: Kek, dataKey: Buffer): string {
  const s = seal(kek.key, dataKey, kek.id);
  return Buffer.concat([s.iv, s.tag, s.ct]).toString('base64');
}

/** Unwraps a data key; throws when the KEK is not the one that wrapped it. */
export function unwrapDataKey(kek: Kek, wrapped: string): Buffer {
  const b = Buffer.from(wrapped, 'base64');
  return open(kek.key, b.subarray(0, 12), b.subarray(12, 28), b.subarray(28), kek.id);
}

/** `Secret/NS/NAME`: binds a ciphertext to its object, so one secret's envelope cannot be pasted into another. */
function aadOf(obj: ApiObject): string {
  return `Secret/${obj.metadata.namespace}/${obj.metadata.name}`;
}

/** The envelope of a stored Secret, if it has one. */
export function envelopeOf(obj: ApiObject): SecretEnvelope | undefined {
  if (obj.kind !== 'Secret') return undefined;
  const enc = (obj.spec as { encrypted?: SecretEnvelope } | undefined)?.encrypted;
  return enc !== undefined && enc.v === 1 ? enc : undefined;
}

/** Encrypts a Secret's data under a fresh data key wrapped by `kek`. */
export function encryptSecret(obj: ApiObject, kek: Kek): ApiObject {
  const data = (obj.spec as { data?: Record<string, string> } | undefined)?.data ?? {};
  const dataKey = randomBytes(32);
  const s = seal(dataKey, Buffer.from(JSON.stringify(data), 'utf8'), aadOf(obj));
  const encrypted: SecretEnvelope = {
    v: 1, alg: 'AES-256-GCM', kek: kek.id, key: wrapDataKey(kek, dataKey),
    iv: s.iv.toString('base64'), tag: s.tag.toString('base64'), ct: s.ct.toString('base64'),
  };
  return { ...obj, spec: { encrypted } };
}

/** Decrypts a stored Secret with the ring; KekMismatchError when no KEK of the ring wrapped it. */
export function decryptSecret(obj: ApiObject, ring: Keyring): ApiObject {
  const enc = envelopeOf(obj);
  if (enc === undefined) return obj;
  const name = `${obj.metadata.namespace}/${obj.metadata.name}`;
  const kek = ring.get(enc.kek);
  if (kek === undefined) throw new KekMismatchError(name, enc.kek, ring.ids());
  let dataKey: Buffer;
  try {
    dataKey = unwrapDataKey(kek, enc.key);
  } catch {
    throw new KekMismatchError(name, enc.kek, ring.ids());
  }
  const plain = open(dataKey, Buffer.from(enc.iv, 'base64'), Buffer.from(enc.tag, 'base64'), Buffer.from(enc.ct, 'base64'), aadOf(obj));
  return { ...obj, spec: { data: JSON.parse(plain.toString('utf8')) as Record<string, string> } };
}

/** Re-wraps the data key of a stored Secret under `kek` (the data's ciphertext is kept). */
export function rewrapSecret(obj: ApiObject, ring: Keyring, kek: Kek): ApiObject {
  const enc = envelopeOf(obj);
  if (enc === undefined) return encryptSecret(obj, kek); // a secret stored before encryption
  if (enc.kek === kek.id) return obj;
  const old = ring.get(enc.kek);
  if (old === undefined) throw new KekMismatchError(`${obj.metadata.namespace}/${obj.metadata.name}`, enc.kek, ring.ids());
  return { ...obj, spec: { encrypted: { ...enc, kek: kek.id, key: wrapDataKey(kek, unwrapDataKey(old, enc.key)) } } };
}

/** The ObjectCodec of the API server: Secrets encrypted under the ring's current KEK. */
export class SecretCodec implements ObjectCodec {
  constructor(readonly ring: Keyring) {}

  toStore(obj: ApiObject): ApiObject {
    return obj.kind === 'Secret' ? encryptSecret(obj, this.ring.current) : obj;
  }

  fromStore(obj: ApiObject): ApiObject {
    return obj.kind === 'Secret' ? decryptSecret(obj, this.ring) : obj;
  }
}
