/**
 * The conformance harness for the SQLite store: a temp dir per test, reopen = close and open the
 * same file, and a crash writer that runs test/store/fixtures/crash-writer.ts in a child process
 * and SIGKILLs it mid-stream.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSqliteStore, type SqliteStore, type SyncMode } from '../../src/store/sqlite/index.js';
import type { CrashAck, CrashWriterOptions, StoreHarness } from './conformance.js';
import { collectAcks } from './conformance-helpers.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const writerScript = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));

/** Harness over temp dirs; `sync` chooses the durability under test, `fsync` who fsyncs under `full`. */
export function sqliteHarness(sync: SyncMode = 'full', fsync: 'thread' | 'commit' = 'thread', checkpoint: 'inline' | 'worker' = 'inline'): StoreHarness & { current(): SqliteStore | undefined } {
  let dir: string | undefined;
  let store: SqliteStore | undefined;
  const dbPath = (): string => join(dir ?? '', 'store.db');
  return {
    current: () => store,
    open() {
      dir = mkdtempSync(join(tmpdir(), 'flotilla-sqlite-'));
      store = openSqliteStore({ path: dbPath(), synchronous: sync, fsync, checkpoint });
      return Promise.resolve(store);
    },
    async reopen() {
      await store?.close();
      store = openSqliteStore({ path: dbPath(), synchronous: sync, fsync, checkpoint });
      return store;
    },
    async cleanup() {
      await store?.close();
      store = undefined;
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    },
    async compact(revision) {
      await store?.compact(revision);
    },
    async crashWriter(opts) {
      await store?.close();
      return runCrashWriter(dbPath(), opts, sync, { fsync });
    },
  };
}

/** How the crash writer writes: creates in flight at once (default 1), and who fsyncs. */
export interface CrashWriterMode {
  concurrency?: number;
  fsync?: 'thread' | 'commit';
}

/** Spawns the writer, collects acks, SIGKILLs it after `killAfterAcks`, waits for it to die. */
export function runCrashWriter(path: string, opts: CrashWriterOptions, sync: SyncMode, mode: CrashWriterMode = {}): Promise<CrashAck[]> {
  const args = [writerScript, path, opts.namespace, String(opts.count), sync, String(mode.concurrency ?? 1), mode.fsync ?? 'thread'];
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const acks: CrashAck[] = [];
  let buf = '';
  let stderr = '';
  let killedAt = -1;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf = collectAcks(buf + d.toString(), acks);
      if (acks.length >= opts.killAfterAcks && killedAt < 0) {
        killedAt = acks.length;
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`crash writer ended by itself (code ${code}, signal ${signal}): ${stderr}`));
      else resolve(acks);
    });
  });
}
