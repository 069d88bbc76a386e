/**
 * Bearer tokens. Only SHA-256 hashes are kept by the server (DATA_DIR/auth/); the plain admin
 * token exists only in DATA_DIR/admin.json. Join tokens and user tokens will register their
 * hashes in the same TokenAuthenticator.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Identity } from './identity.js';
import { writeSecret } from '../pki/index.js';

/** Hex SHA-256 of a token: the only form the server stores. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A fresh random token: 32 bytes, base64url. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Maps token hashes to identities. Lookup by hash: no plain token is held in memory. */
export class TokenAuthenticator {
  private readonly byHash = new Map<string, Identity>();

  /** Registers a token by its hash. */
  add(hash: string, id: Omit<Identity, 'via'>): void {
    this.byHash.set(hash, { ...id, via: 'token' });
  }

  /** Forgets a token (revocation). */
  remove(hash: string): void {
    this.byHash.delete(hash);
  }

  /** The identity of a plain token, or undefined when unknown. */
  authenticate(token: string): Identity | undefined {
    return this.byHash.get(hashToken(token));
  }
}

/**
 * Returns the admin token, creating it on first start. It survives restarts when admin.json still
 * holds the token whose hash is stored; if admin.json was lost, a new token replaces the old one
 * (the old one could no longer be given to anyone anyway).
 */
export async function ensureAdminToken(dataDir: string): Promise<{ token: string; hash: string }> {
  const hashFile = path.join(dataDir, 'auth', 'admin-token.sha256');
  const stored = await readOptional(hashFile);
  const fromConfig = await adminTokenFromConfig(path.join(dataDir, 'admin.json'));
  if (stored !== undefined && fromConfig !== undefined && hashToken(fromConfig) === stored.trim()) {
    return { token: fromConfig, hash: stored.trim() };
  }
  const token = newToken();
  const hash = hashToken(token);
  await fs.mkdir(path.dirname(hashFile), { recursive: true, mode: 0o700 });
  await writeSecret(hashFile, `${hash}\n`);
  return { token, hash };
}

async function adminTokenFromConfig(file: string): Promise<string | undefined> {
  const text = await readOptional(file);
  if (text === undefined) return undefined;
  try {
    const token = (JSON.parse(text) as { token?: unknown }).token;
    return typeof token === 'string' && token !== '' ? token : undefined;
  } catch {
    return undefined;
  }
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
