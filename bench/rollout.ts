/**
 * Rolling updates on `flotilla up` (issue "Probes and zero-downtime deployments"): for N = 10
 * and 50 replicas of busybox httpd with a readiness probe, the time of a rolling update from
 * v1 to v2 (apply -> rollout complete) against the sum of its configured waits (per batch:
 * monitorSeconds + delaySeconds), while a client calls the service VIP from the host without a
 * pause (a call fails on an error or no answer within 10 s); the count of failed calls must be 0.
 *
 *   npm run build && node --import tsx bench/rollout.ts [N ...]
 * Bounded: every wait has a deadline; the cluster and the registry are removed at the end.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { ApiClient } from '../src/client/index.js';
import { parseManifests } from '../src/api/manifest.js';
import type { Service, Task } from '../src/api/kinds.js';
import { startRegistry } from '../test/helpers/registry.js';
import { buildBusyboxImage } from '../test/helpers/images.js';
import { UpCluster } from '../test/helpers/flotilla.js';
import { waitFor } from './children.js';

process.env.FLOTILLA_USE_DIST = '1';

const MONITOR_S = 1;
const DELAY_S = 1;

function manifest(image: string, replicas: number, parallelism: number): string {
  return `kind: Service
metadata: {name: roll}
spec:
  replicas: ${replicas}
  image: ${image}
  command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
  ports: [{port: 80, targetPort: 8080}]
  stopGracePeriodSeconds: 2
  probes:
    readiness: {http: {path: /ready, port: 8080}, periodSeconds: 1}
  update: {parallelism: ${parallelism}, monitorSeconds: ${MONITOR_S}, delaySeconds: ${DELAY_S}, failureAction: rollback}
`;
}

/** Calls `url` back to back until stopped; counts answers and failures. */
function load(url: string): { stop: () => Promise<{ ok: number; fail: number; errors: Record<string, number>; failedAtMs: number[] }> } {
  const out = { ok: 0, fail: 0, errors: {} as Record<string, number>, failedAtMs: [] as number[] };
  let stopped = false;
  const once = (): Promise<void> => new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => { if (res.statusCode === 200) out.ok++; else out.fail++; resolve(); });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    const started = Date.now();
    req.on('error', (e) => { out.fail++; out.failedAtMs.push(started); out.errors[e.message] = (out.errors[e.message] ?? 0) + 1; resolve(); });
  });
  const loop = (async () => { while (!stopped) await once(); })();
  return { stop: async () => { stopped = true; await loop; return out; } };
}

async function service(client: ApiClient): Promise<Service> {
  return (await client.get({ kind: 'Service', namespace: 'default', name: 'roll' })) as Service;
}

async function readyTasks(client: ApiClient): Promise<Task[]> {
  const ts = (await client.list('Task', { labelSelector: { service: 'roll' } })).items as Task[];
  return ts.filter((t) => t.spec.desiredState === 'running' && t.status?.state === 'running' && t.status.ready);
}

/** One measured rolling update of `n` replicas; the service is deleted afterwards. */
async function round(client: ApiClient, images: { v1: string; v2: string }, n: number): Promise<void> {
  const parallelism = Math.max(1, Math.round(n / 5));
  await client.apply(parseManifests(manifest(images.v1, n, parallelism), 'roll.yaml'));
  await waitFor(`${n} ready`, 300_000, async () => ((await readyTasks(client)).length === n ? true : undefined));
  const vip = await waitFor('vip', 30_000, async () => (await service(client)).status?.vip);
  const l = load(`http://${vip}/`);
  await new Promise((r) => setTimeout(r, 1000));
  const t0 = Date.now();
  await client.apply(parseManifests(manifest(images.v2, n, parallelism), 'roll.yaml'));
  const done = await waitFor('rollout complete', 600_000, async () => {
    const r = (await service(client)).status?.rollout;
    if (r?.state === 'rolled-back' || r?.state === 'paused') throw new Error(`rollout ${r.state}: ${r.message}`);
    return r?.state === 'complete' && r.revision === 2 ? Date.now() : undefined;
  });
  const counts = await l.stop();
  const elapsedS = (done - t0) / 1000;
  const batches = Math.ceil(n / parallelism);
  const configuredS = batches * MONITOR_S + (batches - 1) * DELAY_S;
  console.log(`rolling update of ${n} replicas (parallelism ${parallelism}, ${batches} batches): ${elapsedS.toFixed(1)} s; configured waits ${configuredS} s (ratio ${(elapsedS / configuredS).toFixed(2)}); calls ok ${counts.ok}, failed ${counts.fail}${counts.fail > 0 ? ` ${JSON.stringify(counts.errors)} started at ${counts.failedAtMs.map((t) => `${((t - t0) / 1000).toFixed(1)}s`).join(', ')} after the apply` : ''}`);
  if (counts.fail > 0 && process.env.ROLLOUT_DEBUG === '1') {
    const tasks = (await client.list('Task', { labelSelector: { service: 'roll' } })).items as Task[];
    for (const t of tasks) console.log(`  ${t.metadata.name} ${t.spec.image.split(':').pop() ?? ''} ${t.spec.desiredState} ${t.status?.state ?? ''} ${t.status?.ip ?? ''} created ${((Date.parse(t.metadata.creationTimestamp) - t0) / 1000).toFixed(1)}s ready ${t.status?.readySince !== undefined ? ((Date.parse(t.status.readySince) - t0) / 1000).toFixed(1) : '-'}s ended ${((Date.parse(t.status?.timestamp ?? '') - t0) / 1000).toFixed(1)}s`);
  }
  await client.delete({ kind: 'Service', namespace: 'default', name: 'roll' });
  await waitFor('tasks gone', 120_000, async () => (((await client.list('Task', { labelSelector: { service: 'roll' } })).items.length === 0) ? true : undefined));
}

async function main(): Promise<void> {
  const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
  const registry = await startRegistry();
  const files = (v: string): Record<string, string> => ({ 'www/index.html': `${v}\n`, 'www/ready': 'ok\n' });
  const images = {
    v1: (await buildBusyboxImage(registry.host, 'bench/roll', 'v1', { files: files('v1') })).ref,
    v2: (await buildBusyboxImage(registry.host, 'bench/roll', 'v2', { files: files('v2') })).ref,
  };
  const cluster = await UpCluster.start();
  const client = new ApiClient(JSON.parse(readFileSync(cluster.config, 'utf8')) as { server: string; ca: string; token: string });
  try {
    for (const n of sizes.length > 0 ? sizes : [10, 50]) await round(client, images, n);
  } finally {
    await client.close?.();
    await cluster.stop();
    await registry.stop();
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
