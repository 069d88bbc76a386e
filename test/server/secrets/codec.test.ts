/**
 * The at-rest codec and the KEK: round trip, nothing plain in the stored form, a wrong KEK
 * refused (at decode and at server start, with nothing changed), rotation re-wraps every secret
 * and survives an interruption.
 */
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ApiObject } from '../../../src/api/object.js';
import { KekMismatchError, Keyring, SecretCodec, envelopeOf } from '../../../src/server/secrets/codec.js';
import { createKekFile, kekIdOf, nextKekFile, readKekFile, type Kek } from '../../../src/server/secrets/kek.js';
import { KEK_CHECK_SECRET, openSecretKeys } from '../../../src/server/secrets/keys.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'flotilla-kek-'));
  dirs.push(d);
  return d;
}
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function kek(): Kek {
  const key = randomBytes(32);
  return { id: kekIdOf(key), key, file: '/dev/null' };
}

const PLAIN = 's3cr3t-value-xyz';
function secret(name = 'db-pass', value = PLAIN): ApiObject {
  return {
    kind: 'Secret',
    metadata: { name, namespace: 'default', uid: `u-${name}`, labels: {}, revision: 0, generation: 1, creationTimestamp: new Date().toISOString() },
    spec: { data: { 'db-pass': Buffer.from(value).toString('base64') } },
  };
}

describe('SecretCodec', () => {
  it('round-trips and stores neither the value nor its base64', () => {
    const codec = new SecretCodec(new Keyring(kek()));
    const stored = codec.toStore(secret());
    const text = JSON.stringify(stored);
    assert.ok(!text.includes(PLAIN));
    assert.ok(!text.includes(Buffer.from(PLAIN).toString('base64')));
    assert.ok(envelopeOf(stored) !== undefined);
    assert.deepEqual(codec.fromStore(stored).spec, secret().spec);
  });

  it('passes other kinds through', () => {
    const codec = new SecretCodec(new Keyring(kek()));
    const cfg = { ...secret(), kind: 'Config' as const };
    assert.equal(codec.toStore(cfg), cfg);
  });

  it('refuses a wrong KEK with a KekMismatchError naming the secret', () => {
    const stored = new SecretCodec(new Keyring(kek())).toStore(secret());
    assert.throws(() => new SecretCodec(new Keyring(kek())).fromStore(stored), (e: unknown) => e instanceof KekMismatchError && /default\/db-pass/.test(e.message));
  });

  it('refuses an envelope moved to another secret (AAD)', () => {
    const codec = new SecretCodec(new Keyring(kek()));
    const stored = codec.toStore(secret('a'));
    const moved = { ...stored, metadata: { ...stored.metadata, name: 'b' } };
    assert.throws(() => codec.fromStore(moved));
  });
});

describe('KEK file and rotation', () => {
  it('a second server with another KEK refuses to start even before any user secret exists', async () => {
    const dir = tmp();
    const store = new SqliteStore({ path: path.join(dir, 'state.db') });
    try {
      await openSecretKeys(store, path.join(dir, 'kek-a'));
      assert.ok(await store.get(KEK_CHECK_SECRET), 'the first server stored its KEK check');
      await assert.rejects(openSecretKeys(store, path.join(dir, 'kek-b')), /KEK file .*kek-b does not exist, but the store holds 1 encrypted secret/);
      await createKekFile(path.join(dir, 'kek-c'));
      await assert.rejects(openSecretKeys(store, path.join(dir, 'kek-c')), /KEK file .*kek-c does not decrypt the stored secrets: secret flotilla-system\/kek-check/);
      await openSecretKeys(store, path.join(dir, 'kek-a'));
    } finally {
      await store.close();
    }
  });

  it('creates a 0600 KEK on first start; a wrong KEK file refuses the start and changes nothing', async () => {
    const dir = tmp();
    const store = new SqliteStore({ path: path.join(dir, 'state.db') });
    try {
      const file = path.join(dir, 'kek');
      const keys = await openSecretKeys(store, file);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      await store.create(keys.codec.toStore(secret()));
      const before = readFileSync(file, 'utf8');
      const other = path.join(dir, 'other-kek');
      await createKekFile(other);
      await assert.rejects(openSecretKeys(store, other), /KEK file .*other-kek does not decrypt the stored secrets: secret default\/db-pass/);
      const missing = path.join(dir, 'missing-kek');
      await assert.rejects(openSecretKeys(store, missing), /does not exist, but the store holds 2 encrypted secret/);
      assert.equal(existsSync(missing), false);
      assert.equal(readFileSync(file, 'utf8'), before);
    } finally {
      await store.close();
    }
  });

  it('rotate-key re-wraps every secret under a new KEK that replaces the file', async () => {
    const dir = tmp();
    const store = new SqliteStore({ path: path.join(dir, 'state.db') });
    try {
      const file = path.join(dir, 'kek');
      const keys = await openSecretKeys(store, file);
      const oldId = keys.codec.ring.current.id;
      for (const n of ['a', 'b', 'c']) await store.create(keys.codec.toStore(secret(n)));
      const res = await keys.rotate();
      assert.equal(res.rewrapped, 4, 'the 3 secrets and the KEK check');
      assert.equal(res.file, file);
      assert.notEqual(res.kek, oldId);
      assert.equal((await readKekFile(file))?.id, res.kek);
      assert.equal(existsSync(nextKekFile(file)), false);
      for (const s of (await store.list('Secret', {})).items) {
        assert.equal(envelopeOf(s)?.kek, res.kek);
        if (s.metadata.namespace === KEK_CHECK_SECRET.namespace) continue;
        assert.deepEqual(keys.codec.fromStore(s).spec, secret(s.metadata.name).spec);
      }
      // The new file alone opens the store.
      const again = await openSecretKeys(store, file);
      assert.equal(again.codec.ring.current.id, res.kek);
    } finally {
      await store.close();
    }
  });

  it('an interrupted rotation (FILE.next left, some secrets re-wrapped) is finished at the next start', async () => {
    const dir = tmp();
    const store = new SqliteStore({ path: path.join(dir, 'state.db') });
    try {
      const file = path.join(dir, 'kek');
      const keys = await openSecretKeys(store, file);
      await store.create(keys.codec.toStore(secret('a')));
      const next = await createKekFile(nextKekFile(file));
      // One secret written under the new KEK before the "crash".
      await store.create(new SecretCodec(new Keyring(next)).toStore(secret('b')));
      const reopened = await openSecretKeys(store, file);
      assert.equal(reopened.codec.ring.current.id, next.id);
      assert.equal(existsSync(nextKekFile(file)), false);
      for (const s of (await store.list('Secret', {})).items) assert.equal(envelopeOf(s)?.kek, next.id);
    } finally {
      await store.close();
    }
  });

  it('a malformed KEK file is named in the error', async () => {
    const dir = tmp();
    const file = path.join(dir, 'kek');
    writeFileSync(file, 'not a key\n', { mode: 0o600 });
    await assert.rejects(readKekFile(file), /KEK file .*kek: expected one line of base64 holding 32 bytes/);
  });
});
