/**
 * The conformance harness for the etcd store: one real etcd member for the whole file, a fresh
 * key prefix per test (an empty store), reopen = close the client AND restart the etcd process
 * on the same data dir, and a crash writer that SIGKILLs both the writing process and etcd.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openEtcdStore, type EtcdStore } from '../../src/store/etcd/index.js';
import { startEtcd, type EtcdMember } from '../helpers/etcd.js';
import type { CrashAck, CrashWriterOptions, StoreHarness } from './conformance.js';
import { collectAcks } from './conformance-helpers.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const writerScript = fileURLToPath(new URL('./fixtures/etcd-crash-writer.ts', import.meta.url));

/** The harness, plus `shutdown()` to stop etcd once the file is done (call it in `after`). */
export interface EtcdHarness extends StoreHarness {
  current(): EtcdStore | undefined;
  member(): EtcdMember | undefined;
  shutdown(): Promise<void>;
}

/** Harness over one etcd member started on first use; each test gets its own prefix. */
export function etcdHarness(): EtcdHarness {
  let member: EtcdMember | undefined;
  let store: EtcdStore | undefined;
  let prefix = '';
  let seq = 0;
  const openCurrent = (): EtcdStore => {
    store = openEtcdStore({ endpoints: [(member as EtcdMember).clientUrl], prefix });
    return store;
  };
  return {
    current: () => store,
    member: () => member,
    async open() {
      member ??= await startEtcd();
      if (member.pid === undefined) await member.restart();
      prefix = `/conformance-${process.pid}-${++seq}`;
      return openCurrent();
    },
    async reopen() {
      await store?.close();
      await (member as EtcdMember).restart();
      return openCurrent();
    },
    async cleanup() {
      if (store !== undefined && member?.pid !== undefined) await store.wipe().catch(() => undefined);
      await store?.close();
      store = undefined;
    },
    async compact(revision) {
      await store?.compact(revision);
    },
    async crashWriter(opts) {
      await store?.close();
      const m = member as EtcdMember;
      return runEtcdCrashWriter(m, prefix, opts);
    },
    async shutdown() {
      await store?.close();
      await member?.stop();
      member = undefined;
    },
  };
}

/** Spawns the writer, collects acks, then SIGKILLs the writer and etcd together. */
export function runEtcdCrashWriter(member: EtcdMember, prefix: string, opts: CrashWriterOptions): Promise<CrashAck[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', writerScript, member.clientUrl, prefix, opts.namespace, String(opts.count)], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acks: CrashAck[] = [];
  let buf = '';
  let stderr = '';
  let killed = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf = collectAcks(buf + d.toString(), acks);
      if (acks.length >= opts.killAfterAcks && !killed) {
        killed = true;
        child.kill('SIGKILL');
        void member.kill(); // etcd dies with a write in flight: acknowledged ones must survive
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`etcd crash writer ended by itself (code ${code}, signal ${signal}): ${stderr}`));
      else resolve(acks);
    });
  });
}
