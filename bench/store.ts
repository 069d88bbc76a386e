/**
 * Store benchmark: writes/s (single writes and txn batches), concurrent writers (N creates in
 * flight: writes/s and latency, what group commit is for) and watch delivery latency across
 * many watchers, for any Store backend. Prints each round and the median of the rounds.
 *
 *   node --import tsx bench/store.ts --backend sqlite [--objects 10000] [--watchers 100] [--rounds 3]
 *        [--writers 1,16,64] [--concurrent-writes 4000] [--only concurrent]
 *
 * Backends: `sqlite` (default durability: fdatasync of the WAL off the main thread, group commit),
 * `sqlite-commit` (SQLite's synchronous=FULL: the fsync inside COMMIT, still group commit),
 * `sqlite-normal` (no fsync at commit: survives kill -9, not power loss),
 * `etcd` (one real etcd member on loopback, started by test/helpers/etcd.ts, default fsync).
 *
 * Add a backend by adding an entry to `backends` below: a function that opens a fresh, empty
 * store and returns it with a close() that stops and removes whatever it started.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { ApiObject } from '../src/api/object.js';
import { openEtcdStore } from '../src/store/etcd/index.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import type { Store } from '../src/store/store.js';
import { startEtcd } from '../test/helpers/etcd.js';

/** A fresh store for one round, and how to get rid of it. */
export interface BenchStore {
  store: Store;
  close(): Promise<void>;
}

/** Backend name -> factory. Each call must return a fresh, empty store. */
export const backends: Record<string, () => Promise<BenchStore>> = {
  sqlite: () => sqliteBench('full', 'thread'),
  'sqlite-commit': () => sqliteBench('full', 'commit'),
  'sqlite-normal': () => sqliteBench('normal', 'thread'),
  etcd: etcdBench,
};

/** A fresh single etcd member on loopback (test timings, default fsync) and a store on it. */
async function etcdBench(): Promise<BenchStore> {
  const member = await startEtcd();
  const store = openEtcdStore({ endpoints: [member.clientUrl] });
  return {
    store,
    async close() {
      await store.close();
      await member.stop();
    },
  };
}

function sqliteBench(sync: 'full' | 'normal', fsync: 'thread' | 'commit'): Promise<BenchStore> {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-'));
  const store = openSqliteStore({ path: join(dir, 'store.db'), synchronous: sync, fsync });
  return Promise.resolve({
    store,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

function task(i: number, v = 0): ApiObject {
  return {
    kind: 'Task',
    metadata: { name: `task-${String(i).padStart(6, '0')}`, namespace: 'bench', uid: `u-${i}`, labels: { app: 'bench', shard: String(i % 16) }, revision: 0, generation: 1, creationTimestamp: '2024-01-01T00:00:00Z' },
    spec: { service: 'bench', node: `node-${i % 100}`, image: '127.0.0.1:5000/demo/busybox:1', command: ['httpd', '-f'], v },
    status: { state: 'running', desiredState: 'running', ready: true, ip: `10.0.${i % 250}.${i % 200}` },
  };
}

interface WatchRound {
  watchedWritesPerSec: number;
  issueP50Ms: number;
  issueP99Ms: number;
  ackP50Ms: number;
  ackP99Ms: number;
}

/** One round's figures by key; keys ending in `Ms` are milliseconds. */
type Round = Record<string, number>;

/** `writers` concurrent loops, each creating one object after another, `total` creates in all. */
async function concurrentWrites(store: Store, writers: number, total: number): Promise<Round> {
  const lat = new Float64Array(total);
  let next = 0;
  const stats = (store as { commitStats?: { batches: number } }).commitStats;
  const batches0 = stats?.batches ?? 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: writers }, async () => {
    while (next < total) {
      const i = next++;
      const obj = task(i);
      const t = performance.now();
      await store.create({ ...obj, kind: 'Config', metadata: { ...obj.metadata, namespace: `w${writers}` } });
      lat[i] = performance.now() - t;
    }
  }));
  const secs = (performance.now() - t0) / 1000;
  lat.sort();
  const batches = (stats?.batches ?? NaN) - batches0;
  return { [`w${writers}PerSec`]: total / secs, [`w${writers}P50Ms`]: pct(lat, 0.5), [`w${writers}P99Ms`]: pct(lat, 0.99), [`w${writers}PerBatch`]: total / batches };
}

async function singleWrites(store: Store, count: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await store.create({ ...task(1_000_000 + i), kind: 'Config' });
  return count / ((performance.now() - t0) / 1000);
}

async function txnWrites(store: Store, objects: number, batch: number): Promise<{ objPerSec: number; txnPerSec: number }> {
  const t0 = performance.now();
  let txns = 0;
  for (let start = 0; start < objects; start += batch) {
    const n = Math.min(batch, objects - start);
    await store.txn(Array.from({ length: n }, (_, j) => ({ op: 'create' as const, object: task(start + j) })));
    txns++;
  }
  const s = (performance.now() - t0) / 1000;
  return { objPerSec: objects / s, txnPerSec: txns / s };
}

/** Updates every object once, singly, while `watchers` watches record when each event lands. */
async function watchLatency(store: Store, objects: number, watchers: number): Promise<WatchRound> {
  const issued = new Float64Array(objects);
  const acked = new Float64Array(objects);
  const delivered = new Float64Array(objects * watchers);
  let count = 0;
  const base = (await store.revision()) + 1;
  const ws = [];
  for (let w = 0; w < watchers; w++) {
    ws.push(await store.watch({ kind: 'Task', namespace: 'bench' }, {
      onEvent: (ev) => {
        delivered[(ev.revision - base) * watchers + w] = performance.now();
        count++;
      },
    }));
  }
  const t0 = performance.now();
  for (let i = 0; i < objects; i++) {
    issued[i] = performance.now();
    await store.update(task(i, 1));
    acked[i] = performance.now();
  }
  const writeSecs = (performance.now() - t0) / 1000;
  const deadline = Date.now() + 120_000;
  while (count < objects * watchers && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  for (const w of ws) await w.stop();
  if (count < objects * watchers) throw new Error(`only ${count} of ${objects * watchers} events delivered`);
  const fromIssue = new Float64Array(delivered.length);
  const fromAck = new Float64Array(delivered.length);
  for (let k = 0; k < delivered.length; k++) {
    const i = Math.floor(k / watchers);
    fromIssue[k] = (delivered[k] ?? 0) - (issued[i] ?? 0);
    fromAck[k] = (delivered[k] ?? 0) - (acked[i] ?? 0);
  }
  fromIssue.sort();
  fromAck.sort();
  return { watchedWritesPerSec: objects / writeSecs, issueP50Ms: pct(fromIssue, 0.5), issueP99Ms: pct(fromIssue, 0.99), ackP50Ms: pct(fromAck, 0.5), ackP99Ms: pct(fromAck, 0.99) };
}

function pct(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
}

interface RoundOptions {
  objects: number;
  watchers: number;
  singles: number;
  batch: number;
  writers: number[];
  concurrentWrites: number;
  onlyConcurrent: boolean;
}

async function round(factory: () => Promise<BenchStore>, o: RoundOptions): Promise<Round> {
  const b = await factory();
  try {
    let out: Round = {};
    for (const w of o.writers) out = { ...out, ...(await concurrentWrites(b.store, w, o.concurrentWrites)) };
    if (o.onlyConcurrent) return out;
    const singleWritesPerSec = await singleWrites(b.store, o.singles);
    const txn = await txnWrites(b.store, o.objects, o.batch);
    const t0 = performance.now();
    const listed = await b.store.list('Task', { namespace: 'bench' });
    const listMs = performance.now() - t0;
    if (listed.items.length !== o.objects) throw new Error(`list returned ${listed.items.length} of ${o.objects}`);
    const lat = await watchLatency(b.store, o.objects, o.watchers);
    return { ...out, singleWritesPerSec, txnObjectsPerSec: txn.objPerSec, txnsPerSec: txn.txnPerSec, listMs, ...lat };
  } finally {
    await b.close();
  }
}

const LABELS: Record<string, string> = {
  singleWritesPerSec: 'single creates/s',
  txnObjectsPerSec: 'txn-batched creates/s (objects)',
  txnsPerSec: 'txns/s',
  listMs: 'list all (ms)',
  watchedWritesPerSec: 'single updates/s with watchers',
  issueP50Ms: 'delivery p50, from write issued (ms)',
  issueP99Ms: 'delivery p99, from write issued (ms)',
  ackP50Ms: 'delivery p50, from write acked (ms)',
  ackP99Ms: 'delivery p99, from write acked (ms)',
};

function label(key: string): string {
  const m = /^w(\d+)(PerSec|P50Ms|P99Ms|PerBatch)$/.exec(key);
  if (m === null) return LABELS[key] ?? key;
  const what = { PerSec: 'creates/s', P50Ms: 'latency p50 (ms)', P99Ms: 'latency p99 (ms)', PerBatch: 'writes per transaction' }[m[2] as 'PerSec'];
  return `${m[1]} writers in flight: ${what}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'sqlite' },
      objects: { type: 'string', default: '10000' },
      watchers: { type: 'string', default: '100' },
      singles: { type: 'string', default: '2000' },
      batch: { type: 'string', default: '500' },
      rounds: { type: 'string', default: '3' },
      writers: { type: 'string', default: '1,16,64' },
      'concurrent-writes': { type: 'string', default: '4000' },
      only: { type: 'string' },
    },
  });
  const factory = backends[values.backend];
  if (factory === undefined) throw new Error(`unknown backend ${values.backend}; known: ${Object.keys(backends).join(', ')}`);
  const [objects, watchers, singles, batch, rounds, concurrentWrites] = [values.objects, values.watchers, values.singles, values.batch, values.rounds, values['concurrent-writes']].map(Number) as [number, number, number, number, number, number];
  const writers = values.writers.split(',').filter((x) => x !== '').map(Number);
  const o: RoundOptions = { objects, watchers, singles, batch, writers, concurrentWrites, onlyConcurrent: values.only === 'concurrent' };
  console.log(`store bench: backend=${values.backend} objects=${objects} watchers=${watchers} single-writes=${singles} batch=${batch} writers=${writers.join(',')} concurrent-writes=${concurrentWrites} rounds=${rounds}`);
  const results: Round[] = [];
  for (let r = 0; r < rounds; r++) {
    const res = await round(factory, o);
    results.push(res);
    console.log(`round ${r + 1}: ` + Object.entries(res).map(([k, v]) => `${k}=${v.toFixed(k.endsWith('Ms') || k.endsWith('PerBatch') ? 2 : 0)}`).join(' '));
  }
  console.log(`\nmedian of ${rounds} rounds (${values.backend}):`);
  for (const k of Object.keys(results[0] ?? {})) {
    const v = median(results.map((x) => x[k] ?? NaN));
    console.log(`  ${label(k).padEnd(40)} ${k.endsWith('Ms') || k.endsWith('PerBatch') ? v.toFixed(2) : Math.round(v).toLocaleString('en-US')}`);
  }
  if (!o.onlyConcurrent) console.log('  (delivery latency is over every (event, watcher) pair; a negative "from acked" means the event was delivered before the write call returned)');
}

await main();
