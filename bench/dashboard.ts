/**
 * Dashboard first paint with 1,000 tasks (issue 11 figure): a real server (runServer, SQLite,
 * controllers, HTTPS) with hollow nodes (`flotilla agent --simulate N`: real agent code, fake
 * runtime), services of 1,000 replicas in all, every task running; then headless Chromium
 * (Debian's, playwright-core) opens /ui/ with the admin token and the time is taken from the
 * navigation start to the overview listing all 1,000 tasks (the page's own clock,
 * performance.now(), polled every frame). Also: first contentful paint, when the task list
 * was answered (resource timing) and parsed (the page's `flotilla:listed:Task` mark).
 *
 *   cold: a new browser context per run (empty cache: index.html, the bundle, list + watch)
 *   warm: a reload in the same context (the hashed bundle comes from the cache)
 *
 *   node --import tsx bench/dashboard.ts [--tasks 1000] [--nodes 50] [--runs 5]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Task } from '../src/api/kinds.js';
import { ApiClient } from '../src/client/index.js';
import { newJoinToken } from '../src/server/join/token.js';
import { runServer, type RunningServer } from '../src/server/run.js';
import { loadavg, ROOT } from './children.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const TASKS = arg('tasks', 1000);
const NODES = arg('nodes', 50);
const RUNS = arg('runs', 5);
const SERVICES = 10;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const ms = (xs: number[]): string => xs.map((x) => Math.round(x)).join(', ');

async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`bench/dashboard: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Starts the hollow agent; resolves once its nodes are registered. */
async function startHollow(server: RunningServer, dir: string): Promise<ChildProcess> {
  const { token, object } = newJoinToken(server.pki.caFingerprint(), 'worker', 10 * 60_000);
  await server.store.create({ ...object, metadata: { ...object.metadata, uid: `bench-${object.metadata.name}`, creationTimestamp: new Date().toISOString(), generation: 1 } });
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'agent', '--server', server.url, '--token', token,
    '--simulate', String(NODES), '--name', 'hollow', '--data-dir', path.join(dir, 'hollow'), '--heartbeat-ms', '2000'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hollow agent not ready within 120 s: ${err}`)), 120_000);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (/hollow nodes ready/.test(out)) { clearTimeout(timer); resolve(); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`hollow agent exited with ${code}: ${err}`)); });
  });
  return child;
}

/** Opens the overview and returns the page's clock when all tasks are listed, and its first contentful paint. */
async function firstPaint(page: Page, url: string): Promise<{ listedMs: number; fcpMs: number; answeredMs: number; parsedMs: number; listBytes: number }> {
  await page.goto(url, { waitUntil: 'commit' });
  const handle = await page.waitForFunction((n) => document.querySelectorAll('main.overview table.tasks tr[data-task]').length >= n ? performance.now() : false, TASKS, { polling: 'raf', timeout: 120_000 });
  const listedMs = (await handle.jsonValue()) as number;
  const [fcpMs, answeredMs, parsedMs, listBytes] = await page.evaluate(() => {
    const list = performance.getEntriesByType('resource').find((e) => e.name.endsWith('/api/v1/tasks')) as PerformanceResourceTiming | undefined;
    return [performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN, list?.responseEnd ?? NaN, performance.getEntriesByName('flotilla:listed:Task')[0]?.startTime ?? NaN, list?.decodedBodySize ?? NaN];
  });
  return { listedMs, fcpMs, answeredMs, parsedMs, listBytes };
}

async function main(): Promise<void> {
  if (!existsSync(path.join(ROOT, 'dist/ui/index.html'))) throw new Error('bench/dashboard: dist/ui is not built: run npm run build:ui');
  const dir = await mkdtemp(path.join(tmpdir(), 'flotilla-bench-dashboard-'));
  let server: RunningServer | undefined;
  let hollow: ChildProcess | undefined;
  let browser: Browser | undefined;
  let admin: ApiClient | undefined;
  try {
    server = await runServer({ dataDir: path.join(dir, 'server'), listen: '127.0.0.1:0', store: 'sqlite', sqliteSynchronous: 'normal', log: () => undefined });
    admin = ApiClient.fromConfigFile(server.adminConfigPath);
    const token = (JSON.parse(readFileSync(server.adminConfigPath, 'utf8')) as { token?: string }).token;
    if (token === undefined) throw new Error(`bench/dashboard: no token in ${server.adminConfigPath}`);
    hollow = await startHollow(server, dir);
    const per = Math.ceil(TASKS / SERVICES);
    await admin.apply(Array.from({ length: SERVICES }, (_x, i) => ({ kind: 'Service' as const, metadata: { name: `svc${i}`, namespace: 'default' }, spec: { image: '127.0.0.1:1/hollow/never-pulled:1', replicas: Math.min(per, TASKS - i * per) } })));
    const t0 = Date.now();
    const c = admin;
    await waitFor(`${TASKS} running tasks`, 300_000, async () => ((c.list('Task').then((l) => (l.items as Task[]).filter((t) => t.status?.state === 'running').length === TASKS ? true : undefined))));
    console.log(`bench/dashboard (${new Date().toISOString()}, load average ${loadavg()}): hollow: ${NODES} hollow nodes, ${TASKS} tasks running in ${SERVICES} services (${((Date.now() - t0) / 1000).toFixed(1)} s to running)`);

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    const url = `${server.url}/ui/#/`;
    const cold: number[] = [];
    const fcp: number[] = [];
    const answered: number[] = [];
    const parsed: number[] = [];
    let listBytes = NaN;
    const warm: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1400, height: 1000 } });
      await context.addInitScript((t) => sessionStorage.setItem('flotilla.token', t), token);
      const page = await context.newPage();
      const a = await firstPaint(page, url);
      cold.push(a.listedMs);
      fcp.push(a.fcpMs);
      answered.push(a.answeredMs);
      parsed.push(a.parsedMs);
      listBytes = a.listBytes;
      const b = await firstPaint(page, url.replace('#/', '?warm=1#/'));
      warm.push(b.listedMs);
      await context.close();
    }
    console.log(`hollow: first paint of the overview listing all ${TASKS} tasks, cold cache: median ${Math.round(median(cold))} ms (runs: ${ms(cold)})`);
    console.log(`hollow: same, warm (bundle cached, reload): median ${Math.round(median(warm))} ms (runs: ${ms(warm)})`);
    console.log(`hollow: cold, medians from the navigation start: first contentful paint (login-free shell) ${Math.round(median(fcp))} ms, task list (${(listBytes / 2 ** 20).toFixed(1)} MiB of JSON) answered ${Math.round(median(answered))} ms, parsed ${Math.round(median(parsed))} ms, all rows on screen ${Math.round(median(cold))} ms`);
  } finally {
    await browser?.close().catch(() => undefined);
    if (hollow !== undefined && hollow.exitCode === null && hollow.signalCode === null) {
      const exited = new Promise((r) => hollow?.once('exit', r));
      hollow.kill('SIGKILL');
      await exited;
    }
    await admin?.close();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
