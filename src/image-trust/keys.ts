/**
 * Signing and verifying keys of content trust: ECDSA P-256 only, as cosign's key pairs are.
 * Private keys: PEM PKCS#8 ("PRIVATE KEY") or SEC1 ("EC PRIVATE KEY", what openssl ecparam
 * writes). Public keys: PEM SubjectPublicKeyInfo ("PUBLIC KEY", what `cosign generate-key-pair`
 * and `openssl ec -pubout` write). cosign's own encrypted private-key format is refused with a
 * message that says how to get a PEM key instead. node:crypto does the parsing.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { BadRequestError } from '../api/errors.js';

const P256 = 'prime256v1';
const OPENSSL_HINT = 'make one with `openssl ecparam -name prime256v1 -genkey -noout -out key.pem` (and `openssl ec -in key.pem -pubout -out key.pub` for the public key)';

/** Why a key was refused; `what` names where it came from (a file, `spec.rules[0].keys[1]`). */
export class KeyFormatError extends BadRequestError {}

function checkP256(key: KeyObject, what: string): KeyObject {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || curve !== P256) {
    const found = key.asymmetricKeyType === 'ec' ? `an EC key on curve ${curve ?? '?'}` : `a ${key.asymmetricKeyType ?? 'non-EC'} key`;
    throw new KeyFormatError(`${what}: expected an ECDSA P-256 (prime256v1) key, found ${found}`);
  }
  return key;
}

/** Parses a PEM private key (PKCS#8 or SEC1, unencrypted) and checks it is P-256. */
export function parsePrivateKey(pem: string, what: string): KeyObject {
  if (/-----BEGIN ENCRYPTED (SIGSTORE|COSIGN) PRIVATE KEY-----/.test(pem)) {
    throw new KeyFormatError(`${what}: cosign's encrypted private key format is not supported yet: sign with a PEM key instead; ${OPENSSL_HINT}; \`cosign import-key-pair --key key.pem\` lets cosign sign with the same key`);
  }
  if (pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')) {
    throw new KeyFormatError(`${what}: the private key is encrypted: decrypt it first (\`openssl pkcs8 -in ${what} -out plain.pem\`)`);
  }
  if (!/-----BEGIN (EC )?PRIVATE KEY-----/.test(pem)) {
    throw new KeyFormatError(`${what}: expected a PEM private key (BEGIN PRIVATE KEY or BEGIN EC PRIVATE KEY); ${OPENSSL_HINT}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new KeyFormatError(`${what}: not a readable PEM private key: ${(err as Error).message}`);
  }
  return checkP256(key, what);
}

/** Parses a PEM SubjectPublicKeyInfo public key and checks it is P-256 (a private key is refused). */
export function parsePublicKey(pem: string, what: string): KeyObject {
  if (!pem.includes('-----BEGIN PUBLIC KEY-----')) {
    const isPrivate = /PRIVATE KEY-----/.test(pem);
    throw new KeyFormatError(`${what}: expected a PEM public key (BEGIN PUBLIC KEY)${isPrivate ? ', found a private key: give only its public half (`openssl ec -in key.pem -pubout`)' : ''}`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new KeyFormatError(`${what}: not a readable PEM public key: ${(err as Error).message}`);
  }
  return checkP256(key, what);
}

/** The public half of a key pair, as PEM SubjectPublicKeyInfo. */
export function publicKeyPem(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'pem' }).toString();
}

/** A short name for a key in messages: `sha256:` and the first 16 hex of the SPKI's hash. */
export function keyFingerprint(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const der = pub.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(der).digest('hex').slice(0, 16)}`;
}
