/**
 * Content trust test helpers: ECDSA P-256 key pairs made by openssl, as users make them, and
 * TrustPolicy objects as the store holds them.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TrustPolicy, TrustPolicySpec } from '../../src/api/kinds.js';

/** A stored TrustPolicy `name` with `spec` (for fakes and pure functions). */
export function trustPolicy(name: string, spec: TrustPolicySpec): TrustPolicy {
  return { kind: 'TrustPolicy', metadata: { name, namespace: '', uid: name, labels: {}, revision: 1, generation: 1, creationTimestamp: '' }, spec };
}

/** Files and PEM texts of one key pair. */
export interface KeyPairFiles {
  privateFile: string;
  publicFile: string;
  privatePem: string;
  publicPem: string;
}

/** Runs openssl in `dir`; returns its stdout. */
export function openssl(dir: string, ...args: string[]): Buffer {
  return execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `openssl ecparam -name prime256v1 -genkey -noout -out NAME.pem` and `openssl ec -pubout -out NAME.pub`. */
export function opensslKeyPair(dir: string, name: string): KeyPairFiles {
  const privateFile = path.join(dir, `${name}.pem`);
  const publicFile = path.join(dir, `${name}.pub`);
  openssl(dir, 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', privateFile);
  openssl(dir, 'ec', '-in', privateFile, '-pubout', '-out', publicFile);
  return { privateFile, publicFile, privatePem: readFileSync(privateFile, 'utf8'), publicPem: readFileSync(publicFile, 'utf8') };
}
