/**
 * SQLite's own failures as typed store errors (STYLE.md 8). better-sqlite3 throws a SqliteError
 * whose `code` is SQLite's extended result name (`SQLITE_FULL`, `SQLITE_IOERR_WRITE`, ...). A
 * full disk or an I/O error is not a bug of the request: the write was not stored, and trying
 * again once the operator freed space (or the device recovered) succeeds. So they become
 * UnavailableError: 503 with Retry-After at the API, retried by clients and controllers, and
 * never a 500. Anything else passes through unchanged.
 */
import { UnavailableError } from '../../api/errors.js';

/** Seconds a client should wait before retrying a write refused because the disk is full. */
export const DISK_FULL_RETRY_AFTER_SECONDS = 5;

/** What each family of SQLite result codes means for the caller. */
const TRANSIENT: { prefix: string; reason: string; retryAfterSeconds: number }[] = [
  { prefix: 'SQLITE_FULL', reason: 'no space left on device', retryAfterSeconds: DISK_FULL_RETRY_AFTER_SECONDS },
  { prefix: 'SQLITE_IOERR', reason: 'I/O error', retryAfterSeconds: DISK_FULL_RETRY_AFTER_SECONDS },
  { prefix: 'SQLITE_NOMEM', reason: 'out of memory', retryAfterSeconds: 1 },
  { prefix: 'SQLITE_BUSY', reason: 'database busy', retryAfterSeconds: 1 },
  { prefix: 'SQLITE_LOCKED', reason: 'database locked', retryAfterSeconds: 1 },
  { prefix: 'SQLITE_READONLY', reason: 'database is read-only', retryAfterSeconds: DISK_FULL_RETRY_AFTER_SECONDS },
];

/**
 * Anything thrown by SQLite or the write path, as an Error: a full disk or an I/O error becomes
 * `UnavailableError("store: no space left on device: database or disk is full (SQLITE_FULL) ...")`.
 */
export function storeError(err: unknown): Error {
  if (!(err instanceof Error)) return new Error(String(err));
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return err;
  const t = TRANSIENT.find((c) => code === c.prefix || code.startsWith(`${c.prefix}_`));
  if (t === undefined) return err;
  return new UnavailableError(`store: ${t.reason}: ${err.message} (${code}); the write was not stored, retry later`, t.retryAfterSeconds);
}
