/**
 * Issue 13, fault 7 (the leak part): 10,000 watch connections opened and dropped against a real
 * `flotilla server` process, in batches (2 cores; each one a TLS connection). Every watch must
 * really be open (its first bookmark line arrived) before it is dropped. Afterwards the server's
 * open-watch gauge (/metrics `flotilla_store_watches`) is back where it was and its RSS (from
 * /proc, after a warm-up round; the lowest sample of a few seconds) has grown by less than 50 MB.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { rounds, reportCounts } from '../helpers/chaos.js';
import { eventually, FlotillaProcess } from '../helpers/flotilla.js';
import { RawApi } from './raw-api.js';

const BATCH = 250;
/** Watches opened and dropped: 1,000 in CI (about 30 s idle), 10,000 in the long form. */
const TOTAL = rounds(1_000, 10_000);
const RSS_BOUND_BYTES = 50 * 1024 * 1024;

/** VmRSS of a process, in bytes. */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/**
 * The lowest RSS over `ms` (sampled every 250 ms): the garbage collector makes RSS swing by tens
 * of MB; a leak keeps even the lowest sample up, a swing does not.
 */
async function settledRss(pid: number, ms: number): Promise<number> {
  let low = rssOf(pid);
  for (const end = Date.now() + ms; Date.now() < end;) {
    await new Promise((r) => setTimeout(r, 250));
    low = Math.min(low, rssOf(pid));
  }
  return low;
}

/** One value of the server's Prometheus text. */
async function metric(api: RawApi, name: string): Promise<number> {
  const a = await api.request('GET', '/metrics');
  if (a.status !== 200) throw new Error(`/metrics: ${a.status}`);
  const m = new RegExp(`^${name} ([0-9.e+]+)$`, 'm').exec(a.text);
  if (m === null) throw new Error(`/metrics has no ${name}`);
  return Number(m[1]);
}

/** Opens a watch, resolves true once its first line arrived (then the caller drops it). */
function openWatch(api: RawApi, agent: https.Agent): Promise<{ ok: boolean; drop: () => void }> {
  return new Promise((resolve) => {
    const req = https.get(`${api.url}/api/v1/watch?kind=Config`, { agent, headers: { authorization: `Bearer ${api.token}` } }, (res) => {
      res.once('data', () => resolve({ ok: res.statusCode === 200, drop: () => req.destroy() }));
      res.on('error', () => undefined);
    });
    req.setTimeout(60_000, () => req.destroy(new Error('watch did not open')));
    req.on('error', () => resolve({ ok: false, drop: () => req.destroy() }));
  });
}

describe(`chaos watch-churn: ${TOTAL} watches opened and dropped`, { timeout: 900_000 }, () => {
  let dir: string;
  let server: FlotillaProcess;
  let api: RawApi;
  let agent: https.Agent;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'flotilla-watch-churn-'));
    server = new FlotillaProcess(['server', '--data-dir', dir, '--listen', '127.0.0.1:0']);
    await server.start(90_000);
    api = new RawApi(path.join(dir, 'admin.json'), { maxSockets: 2 });
    // No keep-alive (each watch its own connection), TLS sessions resumed to spare the 2 cores.
    agent = new https.Agent({ keepAlive: false, maxSockets: Infinity, maxCachedSessions: 1_000, ca: api.ca });
  });
  after(async () => {
    agent?.destroy();
    api?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves no watch behind and no memory growth over the bound', async () => {
    const pid = server.child?.pid as number;
    const total = TOTAL;
    const samples: number[] = [];
    let opened = 0;
    let failed = 0;
    let peak = 0;
    const churn = async (count: number): Promise<void> => {
      for (let done = 0; done < count; done += BATCH) {
        const batch = await Promise.all(Array.from({ length: Math.min(BATCH, count - done) }, () => openWatch(api, agent)));
        for (const w of batch) if (w.ok) opened++; else failed++;
        peak = Math.max(peak, await metric(api, 'flotilla_store_watches'));
        for (const w of batch) w.drop();
        if ((done + BATCH) % 1_000 === 0) samples.push(rssOf(pid));
      }
    };
    const baseline = await metric(api, 'flotilla_store_watches');
    await churn(2 * BATCH); // warm-up: JIT, TLS, buffers
    await eventually('the watch gauge back to its baseline after the warm-up', 60_000, async () => ((await metric(api, 'flotilla_store_watches')) === baseline ? true : undefined));
    opened = 0;
    failed = 0;
    samples.length = 0;
    const rssBefore = await settledRss(pid, 3_000);
    const heapBefore = await metric(api, 'flotilla_server_nodejs_heap_size_used_bytes');
    const t0 = Date.now();
    await churn(total);
    const churnMs = Date.now() - t0;
    await eventually('the watch gauge back to its baseline', 60_000, async () => ((await metric(api, 'flotilla_store_watches')) === baseline ? true : undefined));
    const rssAfter = await settledRss(pid, 5_000);
    const heapAfter = await metric(api, 'flotilla_server_nodejs_heap_size_used_bytes');
    const mb = (b: number): string => (b / 1024 / 1024).toFixed(1);
    reportCounts('watch-churn', {
      watches: total,
      opened,
      failed,
      'gauge-baseline': baseline,
      'gauge-peak': peak,
      'gauge-after': await metric(api, 'flotilla_store_watches'),
      'rss-before-mb': mb(rssBefore),
      'rss-after-mb': mb(rssAfter),
      'rss-growth-mb': mb(rssAfter - rssBefore),
      'rss-every-1000-mb': samples.map(mb).join('/'),
      'heap-before-mb': mb(heapBefore),
      'heap-after-mb': mb(heapAfter),
      'churn-ms': churnMs,
    });
    assert.equal(failed, 0, 'every watch opened');
    assert.equal(opened, total);
    assert.ok(peak >= baseline + BATCH, `the gauge saw each batch open (peak ${peak}, baseline ${baseline})`);
    assert.ok(rssAfter - rssBefore < RSS_BOUND_BYTES, `RSS grew by ${mb(rssAfter - rssBefore)} MB`);
  });
});
