/**
 * Join tokens: what an operator hands a new node. A token names the cluster CA it expects
 * (SHA-256 fingerprint, so the node can trust the server before it has any certificate), a
 * token id (the JoinToken object's name) and a secret (only its hash is stored):
 *
 *   FLT1-<ca sha256 hex>-<id>.<secret>
 *
 * Tokens expire, carry a role, and are revoked by deleting their JoinToken object.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { BadRequestError, UnauthorizedError } from '../../api/errors.js';
import type { ApiObject } from '../../api/object.js';

/** The parts of a token string. */
export interface ParsedJoinToken {
  caFingerprint: string;
  id: string;
  secret: string;
}

/** Spec of a stored JoinToken (the secret's hash, never the secret). */
export interface JoinTokenSpec {
  secretSha256: string;
  role: 'worker' | 'manager';
  /** RFC 3339. */
  expiresAt: string;
}

const TOKEN_RE = /^FLT1-([0-9a-f]{64})-([a-z0-9]{6})\.([A-Za-z0-9_-]{20,})$/;

/** Splits a token string; a malformed one is refused with what a token looks like. */
export function parseJoinToken(token: string): ParsedJoinToken {
  const m = TOKEN_RE.exec(token.trim());
  if (m === null) throw new BadRequestError('malformed join token: expected FLT1-<ca sha256>-<id>.<secret>, as printed by `flotilla token create`');
  return { caFingerprint: m[1] as string, id: m[2] as string, secret: m[3] as string };
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** A new token string and the JoinToken object that stores its hash. */
export function newJoinToken(caFingerprint: string, role: 'worker' | 'manager', ttlMs: number, now = Date.now()): { token: string; object: ApiObject<JoinTokenSpec> } {
  const id = randomBytes(6).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0').slice(0, 6);
  const secret = randomBytes(24).toString('base64url');
  const object: ApiObject<JoinTokenSpec> = {
    kind: 'JoinToken',
    metadata: { name: id, namespace: '', uid: '', labels: { role }, revision: 0, generation: 0, creationTimestamp: '' },
    spec: { secretSha256: sha256(secret), role, expiresAt: new Date(now + ttlMs).toISOString() },
  };
  return { token: `FLT1-${caFingerprint}-${id}.${secret}`, object };
}

/**
 * Checks a presented token against its stored object and the cluster's CA. Every refusal is an
 * UnauthorizedError that says what is wrong without revealing the stored secret.
 */
export function verifyJoinToken(parsed: ParsedJoinToken, stored: ApiObject<JoinTokenSpec> | undefined, caFingerprint: string | readonly string[], now = Date.now(), retired: readonly string[] = []): JoinTokenSpec {
  const trusted = typeof caFingerprint === 'string' ? [caFingerprint] : caFingerprint;
  if (retired.includes(parsed.caFingerprint)) throw new UnauthorizedError(`join token ${parsed.id} pins CA ${parsed.caFingerprint.slice(0, 16)}, which \`flotilla ca rotate\` retired: create a new token (\`flotilla token create\`)`);
  if (!trusted.includes(parsed.caFingerprint)) throw new UnauthorizedError('join token is for another cluster (its CA fingerprint does not match this server\'s CA)');
  if (stored === undefined) throw new UnauthorizedError(`join token ${parsed.id} is unknown or was revoked`);
  const want = Buffer.from(stored.spec.secretSha256, 'hex');
  const got = Buffer.from(sha256(parsed.secret), 'hex');
  if (want.length !== got.length || !timingSafeEqual(want, got)) throw new UnauthorizedError(`join token ${parsed.id}: wrong secret`);
  if (Date.parse(stored.spec.expiresAt) <= now) throw new UnauthorizedError(`join token ${parsed.id} expired at ${stored.spec.expiresAt}`);
  return stored.spec;
}
