/**
 * Where the idle memory of `flotilla up` goes (issue 14, aim 5): starts `flotilla up` (built JS)
 * with a preload given in PROBE_PRELOAD, runs 10 tasks, waits 10 s and signals SIGUSR2 so the
 * preload writes its breakdown; prints RSS.
 *
 *   npm run build && PROBE_PRELOAD=/path/preload.mjs PROBE_OUT=/tmp/x node --import tsx bench/idle-probe.ts
 * Bounded: every wait has a deadline; everything started is removed at the end.
 */
import { readFileSync } from 'node:fs';
import { ApiClient } from '../src/client/index.js';
import { parseManifests } from '../src/api/manifest.js';
import type { Task } from '../src/api/kinds.js';
import { startRegistry } from '../test/helpers/registry.js';
import { buildBusyboxImage } from '../test/helpers/images.js';
import { UpCluster } from '../test/helpers/flotilla.js';
import { waitFor, loadavg } from './children.js';

process.env.FLOTILLA_USE_DIST = '1';
if (process.env.PROBE_PRELOAD !== undefined) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import ${process.env.PROBE_PRELOAD}`;

const rss = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

async function main(): Promise<void> {
  const registry = await startRegistry();
  const image = (await buildBusyboxImage(registry.host, 'bench/busybox', '1')).ref;
  const cluster = await UpCluster.start();
  delete process.env.NODE_OPTIONS;
  const client = new ApiClient(JSON.parse(readFileSync(cluster.config, 'utf8')) as { server: string; ca: string; token: string });
  const pid = cluster.proc.child?.pid as number;
  try {
    console.log(`after start: ${rss(pid).toFixed(1)} MB`);
    const m = `kind: Service\nmetadata: {name: idle}\nspec:\n  replicas: 10\n  image: ${image}\n  command: ["sleep", "3600"]\n  restart: {condition: none}\n  stopGracePeriodSeconds: 1\n`;
    await client.apply(parseManifests(m, 'idle.yaml'));
    await waitFor('10 running', 120_000, async () => ((await client.list('Task', { labelSelector: { service: 'idle' } })).items as Task[]).filter((t) => t.status?.state === 'running').length === 10 ? true : undefined);
    await new Promise((r) => setTimeout(r, 10_000));
    console.log(`idle with 10 running tasks: ${rss(pid).toFixed(1)} MB RSS (load ${loadavg()})`);
    if (process.env.PROBE_PRELOAD !== undefined) {
      // Only the preload handles SIGUSR2: without one it would end the process.
      process.kill(pid, 'SIGUSR2');
      await new Promise((r) => setTimeout(r, 3_000));
    }
    await client.delete({ kind: 'Service', namespace: 'default', name: 'idle' });
    await waitFor('idle tasks gone', 120_000, async () => ((await client.list('Task', { labelSelector: { service: 'idle' } })).items.length === 0 ? true : undefined));
  } finally {
    await client.close();
    await cluster.stop();
    await registry.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
