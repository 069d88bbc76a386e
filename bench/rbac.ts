/**
 * The cost of RBAC per call: API latency at a fixed rate with the admin token (no grant
 * lookup) and with a user token (a User read from the store to authenticate it, then a
 * decision over every Grant in the cluster, twice per item route, plus audit entries).
 *
 *   node --import tsx bench/rbac.ts [--rate 200] [--seconds 5] [--grants 200]
 *
 * Same server for both (child process, SQLite, 127.0.0.1:0, temp dir removed at the end):
 * `--grants` Grants of other users exist, and the bench user holds `edit` on its namespace.
 * For each identity: creates of Services at `--rate`/s, then gets at the same rate, open loop
 * (latency from the scheduled send time); user and admin alternate for two rounds after a
 * warm-up. Prints p50/p99 per phase, the best p99 of each side and the difference.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ApiObject } from '../src/api/object.js';
import { ApiClient, loadClientConfig, type ClientConfig } from '../src/client/index.js';
import { newUserToken } from '../src/server/auth/rbac/users.js';
import { openLoop } from './children.js';

const { values } = parseArgs({ options: { rate: { type: 'string', default: '200' }, seconds: { type: 'string', default: '5' }, grants: { type: 'string', default: '200' } } });
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const GRANTS = Number(values.grants);

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);
}

/** Starts runServer in a child process; resolves on its ready line. */
async function startServer(dataDir: string): Promise<{ stop(): Promise<void> }> {
  const runTs = path.resolve(import.meta.dirname, '../src/server/run.ts');
  const script = `import(${JSON.stringify(runTs)}).then(async (m) => { const s = await m.runServer({ dataDir: ${JSON.stringify(dataDir)}, listen: '127.0.0.1:0', store: 'sqlite', controllers: false }); process.on('SIGTERM', () => s.stop().then(() => process.exit(0))); })`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not get ready within 30 s')), 30_000);
    child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('ready')) { clearTimeout(timer); resolve(); } });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return {
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.once('exit', () => { clearTimeout(kill); resolve(); });
      child.kill('SIGTERM');
    }),
  };
}

/** One open-loop phase: `op(i)` at RATE/s for SECONDS; returns sorted latencies and errors. */
async function phase(op: (i: number) => Promise<unknown>): Promise<{ lat: number[]; errors: number }> {
  const r = await openLoop(RATE, SECONDS, op);
  return { lat: r.lat.sort((a, b) => a - b), errors: r.errors };
}

const svc = (name: string, namespace: string): ApiObject => ({ kind: 'Service', metadata: { name, namespace, labels: { team: 'a' } }, spec: { image: 'busybox:1', replicas: 1 } }) as unknown as ApiObject;

/** Creates then gets in `namespace` as the client's identity; returns the p99s. */
async function run(label: string, client: ApiClient, namespace: string): Promise<{ create: number; get: number }> {
  const c = await phase((i) => client.create(svc(`s-${i}`, namespace)));
  const g = await phase((i) => client.get({ kind: 'Service', namespace, name: `s-${i % Math.max(1, c.lat.length)}` }));
  for (const [what, r] of [['create', c], ['get', g]] as const) {
    console.log(`${label.padEnd(34)} ${what.padEnd(6)} ${RATE}/s x ${SECONDS} s: p50 ${percentile(r.lat, 50).toFixed(2)} ms, p99 ${percentile(r.lat, 99).toFixed(2)} ms, errors ${r.errors}`);
  }
  return { create: percentile(c.lat, 99), get: percentile(g.lat, 99) };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-bench-rbac-'));
  const server = await startServer(dataDir);
  const guard = setTimeout(() => { console.error('bench: overall time limit reached'); process.exit(2); }, (4 * SECONDS + 120) * 1000);
  const cfg: ClientConfig = loadClientConfig(path.join(dataDir, 'admin.json'));
  const admin = new ApiClient(cfg, { maxSockets: 64 });
  const { token, sha256 } = newUserToken('bench');
  const user = new ApiClient({ ...cfg, token }, { maxSockets: 64 });
  try {
    console.log(`flotilla RBAC bench: HTTPS on 127.0.0.1, SQLite, node ${process.version}, ${os.cpus().length} cores, ${GRANTS} other grants`);
    for (let i = 0; i < GRANTS; i++) {
      await admin.create({ kind: 'Grant', metadata: { name: `other-${i}` }, spec: { subject: `user:other-${i}`, role: i % 2 === 0 ? 'view' : 'edit', collection: { namespace: `ns-${i}`, labels: { team: 'a' } } } } as unknown as ApiObject);
    }
    await admin.create({ kind: 'User', metadata: { name: 'bench' }, spec: { tokenSha256: sha256 } } as unknown as ApiObject);
    await admin.create({ kind: 'Grant', metadata: { name: 'bench-edit' }, spec: { subject: 'user:bench', role: 'edit', collection: { namespace: 'rbac', labels: { team: 'a' } } } } as unknown as ApiObject);
    for (let tries = 0; ; tries++) {
      try { await user.get({ kind: 'Service', namespace: 'rbac', name: 'none' }); break; } catch { if (tries > 100) throw new Error('the bench grant never took effect'); await new Promise((r) => setTimeout(r, 50)); }
    }
    // Twice each, interleaved, so that store growth and warm-up do not favour one side.
    await run('warm-up (admin token)', admin, 'warm');
    const us: { create: number; get: number }[] = [];
    const as: { create: number; get: number }[] = [];
    for (let round = 1; round <= 2; round++) {
      us.push(await run(`user token, round ${round}`, user, `rbac`));
      as.push(await run(`admin token, round ${round}`, admin, `admin-${round}`));
      await admin.list('Service', { namespace: 'rbac' }).then(async (l) => Promise.all(l.items.map(async (o) => admin.delete({ kind: 'Service', namespace: 'rbac', name: o.metadata.name }))));
    }
    const best = (xs: { create: number; get: number }[], k: 'create' | 'get'): number => Math.min(...xs.map((x) => x[k]));
    console.log(`best p99 of 2 rounds: admin create ${best(as, 'create').toFixed(2)} ms, get ${best(as, 'get').toFixed(2)} ms; user create ${best(us, 'create').toFixed(2)} ms, get ${best(us, 'get').toFixed(2)} ms`);
    console.log(`RBAC cost at p99: create ${(best(us, 'create') - best(as, 'create')).toFixed(2)} ms, get ${(best(us, 'get') - best(as, 'get')).toFixed(2)} ms`);
  } finally {
    clearTimeout(guard);
    await admin.close();
    await user.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
