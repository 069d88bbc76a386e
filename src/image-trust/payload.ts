/**
 * cosign's key-based signature format, the pure part (specs/SIGNATURE_SPEC.md of cosign):
 * the "simple signing" payload that names the image's manifest digest, the tag its signatures
 * live under (`sha256-<hex>.sig` in the image's repository), and the ECDSA P-256 / SHA-256
 * signature (ASN.1 DER, base64) over the payload's exact bytes.
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { BadRequestError } from '../api/errors.js';

/** Media type of a signature layer (the payload blob). */
export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
/** Layer annotation that holds the base64 signature. */
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
/** `critical.type` of a container image signature payload. */
export const PAYLOAD_TYPE = 'cosign container image signature';

/** What a payload says: which repository and which manifest digest were signed. */
export interface SignedClaim {
  dockerReference: string;
  digest: string;
}

/** The tag that holds the signatures of `digest`: `sha256-<hex>.sig`. */
export function signatureTag(digest: string): string {
  if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw new BadRequestError(`not a sha256 digest: ${digest}`);
  return `${digest.replace(':', '-')}.sig`;
}

/** The payload cosign signs for `repository` (host/path, no tag) at `digest`, as bytes. */
export function simpleSigningPayload(dockerReference: string, digest: string): Buffer {
  const doc = {
    critical: { identity: { 'docker-reference': dockerReference }, image: { 'docker-manifest-digest': digest }, type: PAYLOAD_TYPE },
    optional: null,
  };
  return Buffer.from(JSON.stringify(doc), 'utf8');
}

/** Reads a payload's claim; undefined when it is not a cosign container image signature. */
export function parsePayload(payload: Buffer): SignedClaim | undefined {
  try {
    const doc = JSON.parse(payload.toString('utf8')) as { critical?: { identity?: { 'docker-reference'?: unknown }; image?: { 'docker-manifest-digest'?: unknown }; type?: unknown } };
    const c = doc.critical;
    const digest = c?.image?.['docker-manifest-digest'];
    if (c?.type !== PAYLOAD_TYPE || typeof digest !== 'string') return undefined;
    const ref = c.identity?.['docker-reference'];
    return { dockerReference: typeof ref === 'string' ? ref : '', digest };
  } catch {
    return undefined;
  }
}

/** Signs payload bytes: ECDSA over SHA-256, DER-encoded, base64 (what cosign writes). */
export function signPayload(privateKey: KeyObject, payload: Buffer): string {
  return sign('sha256', payload, { key: privateKey, dsaEncoding: 'der' }).toString('base64');
}

/** True when `signatureB64` is a valid signature of the payload bytes by `publicKey`. */
export function verifyPayload(publicKey: KeyObject, payload: Buffer, signatureB64: string): boolean {
  const sig = Buffer.from(signatureB64, 'base64');
  if (sig.length === 0) return false;
  try {
    return verify('sha256', payload, { key: publicKey, dsaEncoding: 'der' }, sig);
  } catch {
    return false;
  }
}
