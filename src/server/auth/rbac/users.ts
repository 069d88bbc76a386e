/**
 * User bearer tokens: `flt-user-NAME.SECRET`. The client (`flotilla user create`) makes the
 * token and stores only its SHA-256 in the User object; the server reads that object on every
 * request with such a token, so deleting the User revokes the token at once (no cache to expire).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiObject } from '../../../api/object.js';
import type { UserSpec } from '../../../api/validate/index.js';
import type { Store } from '../../../store/store.js';
import type { Identity } from '../identity.js';

const PREFIX = 'flt-user-';
const TOKEN_RE = /^flt-user-([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)\.([A-Za-z0-9_-]{20,})$/;

/** True when a bearer token has the user-token shape (then only the User store decides). */
export function isUserToken(token: string): boolean {
  return token.startsWith(PREFIX);
}

/** A new token for user `name` and the hash its User object stores. */
export function newUserToken(name: string): { token: string; sha256: string } {
  const token = `${PREFIX}${name}.${randomBytes(32).toString('base64url')}`;
  return { token, sha256: createHash('sha256').update(token, 'utf8').digest('hex') };
}

/** Reads the User of a token from the store; undefined when malformed, unknown, deleted or wrong. */
export async function authenticateUserToken(store: Store, token: string): Promise<Identity | undefined> {
  const m = TOKEN_RE.exec(token);
  if (m === null) return undefined;
  const name = m[1] as string;
  const user = (await store.get({ kind: 'User', namespace: '', name })) as ApiObject<UserSpec> | undefined;
  if (user === undefined) return undefined;
  const want = Buffer.from(user.spec.tokenSha256, 'hex');
  const got = createHash('sha256').update(token, 'utf8').digest();
  if (want.length !== got.length || !timingSafeEqual(want, got)) return undefined;
  return { kind: 'user', name, via: 'token', groups: user.spec.groups };
}
