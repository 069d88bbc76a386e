/**
 * PEM and key helpers on Node's webcrypto, shared by the cluster CA, the server certificate and
 * node CSRs. ECDSA P-256 everywhere: small keys, fast handshakes, supported by every TLS stack.
 */
// @peculiar/x509 uses tsyringe, which needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/** The webcrypto instance @peculiar/x509 signs with (Node's own, no polyfill). */
export const crypto = webcrypto as unknown as Crypto;
x509.cryptoProvider.set(crypto);

/** ECDSA P-256 with SHA-256: the one algorithm Flotilla's PKI uses. */
export const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A fresh extractable P-256 key pair. */
export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(EC_ALG, true, ['sign', 'verify']);
}

/** PKCS#8 PEM of a private key, the form node:tls accepts as `key`. */
export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** Rebuilds the key pair from a PKCS#8 PEM and the matching certificate. */
export async function keyPairFromPem(keyPem: string, cert: x509.X509Certificate): Promise<CryptoKeyPair> {
  const der = x509.PemConverter.decodeFirst(keyPem);
  const privateKey = await crypto.subtle.importKey('pkcs8', der, EC_ALG, true, ['sign']);
  const publicKey = await cert.publicKey.export(EC_ALG, ['verify'], crypto);
  return { privateKey, publicKey };
}

/** Lowercase hex SHA-256 of a certificate's DER: what a join token pins. */
export async function certFingerprint(cert: x509.X509Certificate): Promise<string> {
  const digest = await cert.getThumbprint('SHA-256', crypto);
  return Buffer.from(digest).toString('hex');
}

/** A random positive serial number (16 bytes, high bit clear). */
export function randomSerial(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0] ?? 0) & 0x7f;
  return Buffer.from(b).toString('hex');
}
