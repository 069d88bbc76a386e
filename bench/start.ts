/**
 * Start latency through the whole system and the memory of `flotilla up` (issue "Node agent"):
 *
 *   - apply a service of N replicas (N = 1, 10, 50; image cached) through the API and measure,
 *     per task, the time from the apply call to the task's `running` timestamp; p50 and p99;
 *   - bare `runc run -d` of the same kind of bundle, measured in the same run by
 *     bench/runc-start.ts, for the ratio;
 *   - RSS of the `flotilla up` process (server + agent, built JS) idle with 10 running tasks.
 *
 *   npm run build && node --import tsx bench/start.ts
 * Bounded: every wait has a deadline; everything started is removed at the end.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { ApiClient } from '../src/client/index.js';
import { parseManifests } from '../src/api/manifest.js';
import type { Task } from '../src/api/kinds.js';
import type { Watch } from '../src/store/store.js';
import { startRegistry } from '../test/helpers/registry.js';
import { buildBusyboxImage } from '../test/helpers/images.js';
import { UpCluster } from '../test/helpers/flotilla.js';
import { loadavg, waitFor } from './children.js';

const run = promisify(execFile);
process.env.FLOTILLA_USE_DIST = '1';

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}
const median = (v: number[]): number => pct(v, 50);

function manifest(name: string, image: string, replicas: number): string {
  return `kind: Service\nmetadata: {name: ${name}}\nspec:\n  replicas: ${replicas}\n  image: ${image}\n  command: ["sleep", "3600"]\n  restart: {condition: none}\n  stopGracePeriodSeconds: 1\n`;
}

async function tasksOf(client: ApiClient, service: string): Promise<Task[]> {
  return (await client.list('Task', { labelSelector: { service } })).items as Task[];
}

/**
 * When each task of a round passed each step (ms since the apply): seen by the bench's watch
 * (created), placed (spec.node), and the agent's status timestamps: preparing (the agent took
 * it), starting (image checked, bundle, hooks with CNI, container prepared), running (conmon,
 * runc create + start). A status write's own time lands in the next step.
 */
const trace = new Map<string, { created?: number; scheduled?: number; preparing?: number; starting?: number; running?: number }>();
let traceT0 = 0;
function traceTask(t: Task): void {
  const e = trace.get(t.metadata.name) ?? {};
  trace.set(t.metadata.name, e);
  const now = Date.now() - traceT0;
  e.created ??= now;
  if (t.spec.node !== undefined && t.spec.node !== '') e.scheduled ??= now;
  const st = t.status?.state;
  const at = Date.parse(t.status?.timestamp ?? '') - traceT0;
  if ((st === 'preparing' || st === 'starting' || st === 'running') && Number.isFinite(at)) e[st] ??= at;
}

/** Medians of the steps of the tasks of `prefix` (from the trace). */
function traceLine(prefix: string): string {
  const es = [...trace.entries()].filter(([k]) => k.startsWith(prefix)).map(([, e]) => e);
  const step = (a: keyof typeof es[number] | undefined, b: keyof typeof es[number]): string => {
    const d = es.map((e) => (e[b] ?? NaN) - (a === undefined ? 0 : e[a] ?? NaN)).filter((x) => Number.isFinite(x));
    return d.length === 0 ? '?' : `${median(d)}/${pct(d, 99)}`;
  };
  return `steps p50/p99 ms: apply->created ${step(undefined, 'created')}, ->scheduled ${step('created', 'scheduled')}, ->preparing ${step('scheduled', 'preparing')}, ->starting ${step('preparing', 'starting')}, ->running ${step('starting', 'running')}`;
}

/** One round: apply N replicas, per-task latency from the apply to `running`, then delete. */
async function round(client: ApiClient, image: string, name: string, n: number): Promise<number[]> {
  const t0 = Date.now();
  traceT0 = t0;
  await client.apply(parseManifests(manifest(name, image, n), `${name}.yaml`));
  const tasks = await waitFor(`${n} running`, 120_000, async () => {
    const ts = (await tasksOf(client, name)).filter((t) => t.status?.state === 'running');
    return ts.length >= n ? ts : undefined;
  });
  const lat = tasks.map((t) => Date.parse(t.status?.timestamp ?? '') - t0);
  await client.delete({ kind: 'Service', namespace: 'default', name });
  await waitFor('tasks gone', 120_000, async () => ((await tasksOf(client, name)).length === 0 ? true : undefined));
  return lat;
}

async function main(): Promise<void> {
  const registry = await startRegistry();
  const image = (await buildBusyboxImage(registry.host, 'bench/busybox', '1')).ref;
  const cluster = await UpCluster.start();
  const client = new ApiClient(JSON.parse(readFileSync(cluster.config, 'utf8')) as { server: string; ca: string; token: string });
  let watch: Watch | undefined;
  try {
    const listed = await client.list('Task');
    watch = await client.watch({ kind: 'Task', fromRevision: listed.revision }, {
      onEvent: (ev) => { if (ev.type !== 'deleted') traceTask(ev.object as Task); },
      onError: (e) => console.error(`task watch failed: ${e.message}`),
    });
    await round(client, image, 'warmup', 1); // pulls the image once: later rounds are "image cached"
    const rounds: Record<number, number> = { 1: 7, 10: 3, 50: 2 };
    const results: Array<{ n: number; p50: number; p99: number }> = [];
    for (const n of [1, 10, 50]) {
      const all: number[] = [];
      for (let r = 0; r < (rounds[n] ?? 1); r++) all.push(...(await round(client, image, `b${n}-${r}`, n)));
      results.push({ n, p50: median(all), p99: pct(all, 99) });
      console.log(`apply -> running, ${n} task(s): p50 ${median(all)} ms, p99 ${pct(all, 99)} ms (${all.length} samples; load ${loadavg()})`);
      console.log(`  ${traceLine(`b${n}-`)}`);
    }
    await client.apply(parseManifests(manifest('idle', image, 10), 'idle.yaml'));
    await waitFor('10 running', 120_000, async () => ((await tasksOf(client, 'idle')).filter((t) => t.status?.state === 'running').length === 10 ? true : undefined));
    await new Promise((r) => setTimeout(r, 10_000));
    const pid = cluster.proc.child?.pid as number;
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
    const conmons = (await run('pgrep', ['-f', `conmon.*${cluster.dataDir}`]).catch(() => ({ stdout: '' }))).stdout.split('\n').filter((l) => l !== '');
    let conmonKb = 0;
    for (const p of conmons) conmonKb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    console.log(`memory of flotilla up (server + agent, one process) idle with 10 running tasks: ${(rssKb / 1024).toFixed(1)} MB RSS; ${conmons.length} conmon monitors: ${(conmonKb / 1024).toFixed(1)} MB together`);
    await client.delete({ kind: 'Service', namespace: 'default', name: 'idle' });
    await waitFor('idle tasks gone', 120_000, async () => ((await tasksOf(client, 'idle')).length === 0 ? true : undefined));
    console.log('\nbare runc in the same run (bench/runc-start.ts):');
    const bare = await run(process.execPath, ['--import', 'tsx', 'bench/runc-start.ts', '1', '10', '50'], { timeout: 300_000 });
    process.stdout.write(bare.stdout);
    const bareP50 = new Map<number, number>();
    const bareP99 = new Map<number, number>();
    for (const line of bare.stdout.split('\n')) {
      const m = /^bare-batch (\d+) at once: p50 ([\d.]+) ms, p99 ([\d.]+) ms/.exec(line);
      if (m !== null) {
        bareP50.set(Number(m[1]), Number(m[2]));
        bareP99.set(Number(m[1]), Number(m[3]));
      }
    }
    console.log('\nsummary: apply -> running through API, controllers, agent, image, CNI, conmon and runc, against N bare `runc run -d` launched at once (each from the batch start):');
    for (const r of results) {
      const b = bareP50.get(r.n);
      const b99 = bareP99.get(r.n);
      const ratio = (x: number, y: number | undefined): string => (y !== undefined ? (x / y).toFixed(2) : '?');
      console.log(`  ${String(r.n).padStart(2)} task(s): flotilla p50 ${r.p50} ms, p99 ${r.p99} ms | bare runc p50 ${b ?? '?'} ms, p99 ${b99 ?? '?'} ms | ratio p50 ${ratio(r.p50, b)}, p99 ${ratio(r.p99, b99)}`);
    }
  } finally {
    await watch?.stop().catch(() => undefined);
    await client.close();
    await cluster.stop();
    await registry.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
