/**
 * API benchmark: mutating requests per second and latency through HTTPS on SQLite.
 *
 *   node --import tsx bench/api.ts [--seconds 10] [--clients 16] [--rate 1000] [--rate-seconds 5] [--sync full|normal]
 *                                  [--rate-clients 16] [--rate-warm yes|no] [--rate-rounds 1] [--server-prof DIR]
 *
 * 1. closed loop: `--clients` concurrent keep-alive clients, each cycling
 *    create Service -> update spec -> update status -> delete, for `--seconds`;
 * 2. fixed rate: `--rate` creates per second for `--rate-seconds`, open loop (latency measured
 *    from the scheduled send time, so a stalled server cannot hide its queue), spread round-robin
 *    over `--rate-clients` keep-alive clients of one connection each (0: the old shape, one
 *    client of up to 64 connections). `--rate-warm yes` (default) opens their connections with
 *    one GET each before the clock starts, as long-lived clients have them; `no` measures the
 *    TLS handshakes inside the phase. A timeline (p50/p99 per 500 ms of scheduled time) shows
 *    where a stall sits. `--rate-rounds R` runs the phase R times back to back (a stall only in
 *    the first round is a one-time warm-up of the server; one in every round is not).
 *
 * --server-prof DIR runs the server with --cpu-prof into DIR (read it for where its time went).
 *
 * The server runs in a child process (its own event loop, as in production) on 127.0.0.1:0 with
 * a temp data dir; everything is removed at the end. Loopback only; bounded in time.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ApiObject } from '../src/api/object.js';
import { ConflictError } from '../src/api/errors.js';
import { ApiClient, loadClientConfig } from '../src/client/index.js';
import { openLoop } from './children.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    clients: { type: 'string', default: '16' },
    rate: { type: 'string', default: '1000' },
    'rate-seconds': { type: 'string', default: '5' },
    sync: { type: 'string', default: 'full' },
    'server-prof': { type: 'string' },
    'rate-clients': { type: 'string', default: '16' },
    'rate-warm': { type: 'string', default: 'yes' },
    'rate-rounds': { type: 'string', default: '1' },
  },
});
const SECONDS = Number(values.seconds);
const CLIENTS = Number(values.clients);
const RATE = Number(values.rate);
const RATE_SECONDS = Number(values['rate-seconds']);
const SYNC = values.sync === 'normal' ? 'normal' : 'full';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function report(label: string, lat: number[], elapsedMs: number, errors: number): void {
  const s = [...lat].sort((a, b) => a - b);
  const rps = (lat.length / elapsedMs) * 1000;
  console.log(`${label}: ${lat.length} requests in ${(elapsedMs / 1000).toFixed(1)} s = ${rps.toFixed(0)} req/s; latency p50 ${percentile(s, 50).toFixed(1)} ms, p99 ${percentile(s, 99).toFixed(1)} ms, max ${(s[s.length - 1] ?? NaN).toFixed(1)} ms; errors ${errors}`);
}

/** Starts `runServer` in a child process; resolves when it printed its ready line. */
async function startServer(dataDir: string): Promise<{ stop(): Promise<void> }> {
  const runTs = path.resolve(import.meta.dirname, '../src/server/run.ts');
  const script = `import(${JSON.stringify(runTs)}).then(async (m) => { const s = await m.runServer({ dataDir: ${JSON.stringify(dataDir)}, listen: '127.0.0.1:0', store: 'sqlite', sqliteSynchronous: '${SYNC}' }); process.on('SIGTERM', () => s.stop().then(() => process.exit(0))); })`;
  const prof = values['server-prof'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', path.resolve(values['server-prof'])];
  const child = spawn(process.execPath, [...prof, '--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not get ready within 30 s')), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return {
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    }),
  };
}

function svc(name: string, image: string): ApiObject {
  return { kind: 'Service', metadata: { name, labels: { bench: 'api' } }, spec: { image, replicas: 1 } } as unknown as ApiObject;
}

async function timed<T>(lat: number[], fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await fn();
  lat.push(performance.now() - t0);
  return out;
}

/**
 * A write against a revision another writer may have moved (the service controller writes a new
 * Service's first revision): on a conflict, read the object again and retry once, as clients do.
 */
async function onFresh(c: ApiClient, obj: ApiObject, write: (o: ApiObject) => Promise<ApiObject>, conflicts: { n: number }): Promise<ApiObject> {
  try {
    return await write(obj);
  } catch (e) {
    if (!(e instanceof ConflictError)) throw e;
    conflicts.n++;
    const fresh = await c.get({ kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name });
    if (fresh === undefined) throw e;
    return write(fresh);
  }
}

/** Closed loop: each client cycles create -> update spec -> update status -> delete. */
async function closedLoop(cfgPath: string): Promise<void> {
  const clients = Array.from({ length: CLIENTS }, () => new ApiClient(loadClientConfig(cfgPath), { maxSockets: 1 }));
  const lat: number[] = [];
  let errors = 0;
  const conflicts = { n: 0 };
  const start = performance.now();
  const deadline = start + SECONDS * 1000;
  await Promise.all(clients.map(async (c, ci) => {
    for (let i = 0; performance.now() < deadline; i++) {
      try {
        const name = `c${ci}-${i}`;
        const created = await timed(lat, () => c.create(svc(name, 'busybox:1')));
        const updated = await timed(lat, () => onFresh(c, created, (o) => c.updateSpec({ ...o, spec: { ...(o.spec as object), image: 'busybox:2', replicas: 2 } } as ApiObject), conflicts));
        const withStatus = await timed(lat, () => onFresh(c, updated, (o) => c.updateStatus({ ...o, status: { ...(o as { status?: object }).status, replicas: 2, readyReplicas: 1 } } as ApiObject), conflicts));
        await timed(lat, () => onFresh(c, withStatus, async (o) => {
          await c.delete({ kind: 'Service', namespace: 'default', name }, o.metadata.revision);
          return o;
        }, conflicts));
      } catch (e) {
        if (errors++ === 0) console.error(`closed loop: first error: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }));
  report(`closed loop, ${CLIENTS} clients (create/update/status/delete)`, lat, performance.now() - start, errors);
  console.log(`  conflicts retried after a read: ${conflicts.n}`);
  await Promise.all(clients.map(async (c) => c.close()));
}

/** p50/p99 per slice of the scheduled time: where in the phase the tail comes from. */
function timeline(byIndex: Float64Array, rate: number, sliceMs: number): string {
  const per = Math.max(1, Math.round((rate * sliceMs) / 1000));
  const parts: string[] = [];
  for (let from = 0; from < byIndex.length; from += per) {
    const s = [...byIndex.subarray(from, from + per)].filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
    parts.push(`${((from / rate) * 1000).toFixed(0)}ms ${percentile(s, 50).toFixed(0)}/${percentile(s, 99).toFixed(0)}`);
  }
  return parts.join(', ');
}

/** Open loop at RATE creates/s; latency from the scheduled time. */
async function fixedRate(cfgPath: string, round: number): Promise<void> {
  const n = Number(values['rate-clients']);
  const clients = n > 0
    ? Array.from({ length: n }, () => new ApiClient(loadClientConfig(cfgPath), { maxSockets: 1 }))
    : [new ApiClient(loadClientConfig(cfgPath), { maxSockets: 64 })];
  const warm = values['rate-warm'] !== 'no';
  if (warm) await Promise.all(clients.map(async (c) => c.list('Config', { namespace: 'default' })));
  const { lat, byIndex, errors, elapsedMs } = await openLoop(RATE, RATE_SECONDS, (i) =>
    (clients[i % clients.length] as ApiClient).create({ kind: 'Config', metadata: { name: `rate-${round}-${i}` }, spec: { data: { k: String(i) } } } as unknown as ApiObject));
  const shape = n > 0 ? `${n} clients of 1 connection` : '1 client of up to 64 connections';
  report(`fixed rate ${RATE}/s for ${RATE_SECONDS} s, round ${round + 1} (create Config; ${shape}, ${warm ? 'warm' : 'cold'})`, lat, elapsedMs, errors);
  console.log(`  timeline (scheduled time: p50/p99 ms): ${timeline(byIndex, RATE, 500)}`);
  const s = [...lat].sort((a, b) => a - b);
  console.log(`fixed rate p99 ${percentile(s, 99).toFixed(1)} ms: ${percentile(s, 99) < 50 ? 'under' : 'OVER'} the 50 ms aim; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  await Promise.all(clients.map(async (c) => c.close()));
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-bench-api-'));
  const server = await startServer(dataDir);
  const guard = setTimeout(() => {
    console.error('bench: overall time limit reached');
    process.exit(2);
  }, (SECONDS + RATE_SECONDS * Number(values['rate-rounds']) + 120) * 1000);
  try {
    const cfg = path.join(dataDir, 'admin.json');
    console.log(`flotilla API bench: HTTPS on 127.0.0.1, SQLite (synchronous=${SYNC}), node ${process.version}, ${os.cpus().length} cores`);
    await closedLoop(cfg);
    for (let r = 0; r < Number(values['rate-rounds']); r++) await fixedRate(cfg, r);
  } finally {
    clearTimeout(guard);
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
