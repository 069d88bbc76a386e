/**
 * SQLite's disk-full and I/O failures become UnavailableError (503, Retry-After) with the
 * store's reason first; other errors pass through (src/store/sqlite/errors.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, UnavailableError } from '../../src/api/errors.js';
import { DISK_FULL_RETRY_AFTER_SECONDS, storeError } from '../../src/store/sqlite/errors.js';

function sqliteError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

void describe('storeError', () => {
  void it('a full disk is 503 "store: no space left on device" with Retry-After', () => {
    const e = storeError(sqliteError('SQLITE_FULL', 'database or disk is full'));
    assert.ok(e instanceof UnavailableError);
    assert.equal(e.status, 503);
    assert.match(e.message, /^store: no space left on device: database or disk is full \(SQLITE_FULL\)/);
    assert.equal(e.retryAfterSeconds, DISK_FULL_RETRY_AFTER_SECONDS);
  });

  void it('extended I/O codes map by family', () => {
    const e = storeError(sqliteError('SQLITE_IOERR_WRITE', 'disk I/O error'));
    assert.ok(e instanceof UnavailableError);
    assert.match(e.message, /^store: I\/O error: disk I\/O error \(SQLITE_IOERR_WRITE\)/);
    assert.ok(storeError(sqliteError('SQLITE_BUSY', 'database is locked')) instanceof UnavailableError);
  });

  void it('other errors pass through unchanged', () => {
    const conflict = new ConflictError('changed');
    assert.equal(storeError(conflict), conflict);
    const constraint = sqliteError('SQLITE_CONSTRAINT_PRIMARYKEY', 'UNIQUE constraint failed');
    assert.equal(storeError(constraint), constraint);
    const fullish = sqliteError('SQLITE_FULLNESS', 'not a real code');
    assert.equal(storeError(fullish), fullish);
    assert.equal(storeError('text').message, 'text');
  });
});
