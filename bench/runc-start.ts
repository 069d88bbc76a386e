/**
 * Start latency of containers through Flotilla's runtime (prepare + start: bundle, conmon,
 * runc create, runc start) against bare `runc run -d` of the same bundle, in the same run, for
 * batches of 1, 10 and 50 containers on a cached busybox rootfs. Prints p50/p99 and ratios.
 * Bounded (BENCH_TIMEOUT_MS, default 300 s) and cleans up everything it started.
 *
 *   node --import tsx bench/runc-start.ts [sizes...]      e.g. `bench/runc-start.ts 1 10 50`
 */
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { removeCgroup } from '../src/agent/runtime/runc/cgroups.js';
import { RuncRuntime } from '../src/agent/runtime/runc/runc-runtime.js';
import { busyboxRootfs } from '../test/helpers/rootfs.js';

const run = promisify(execFile);
const RUNC = '/usr/sbin/runc';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summary(ms: number[]): { p50: number; p99: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99) };
}

interface World { dir: string; rt: RuncRuntime; bareRoot: string; parent: string; rootfs: string; signal: AbortSignal }

/** `runc run -d` hands its stdio to the container: give it none, or the caller waits forever. */
function runDetached(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(RUNC, args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => code === 0 ? resolve() : reject(new Error(`runc ${args.join(' ')} exited ${code}`)));
  });
}

async function flotillaBatch(w: World, n: number, tag: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = `fl-${tag}-${i}`;
    w.signal.throwIfAborted();
    const t0 = performance.now();
    await w.rt.prepare({ id, rootfs: w.rootfs, readonlyRootfs: true, args: ['sleep', '600'] });
    await w.rt.start(id);
    times.push(performance.now() - t0);
  }
  return times;
}

/** Bare runc: the bundle our runtime wrote for `fl-<tag>-0`, copied with its own cgroup path. */
async function bareBatch(w: World, n: number, tag: string): Promise<number[]> {
  const template = JSON.parse(await readFile(w.rt.layout.file(`fl-${tag}-0`, 'config.json'), 'utf8')) as { linux: { cgroupsPath: string } };
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = `bare-${tag}-${i}`;
    const bundle = join(w.dir, 'bare', id);
    await mkdir(bundle, { recursive: true });
    template.linux.cgroupsPath = `/${w.parent}-bare/${id}`;
    await writeFile(join(bundle, 'config.json'), JSON.stringify(template));
    w.signal.throwIfAborted();
    const t0 = performance.now();
    await runDetached(['--root', w.bareRoot, 'run', '-d', '--bundle', bundle, id]);
    times.push(performance.now() - t0);
  }
  return times;
}

/**
 * Bare runc, N containers launched at once (as a node starting a batch would): each one's time
 * from the batch start until its `runc run -d` returned. The fair yardstick for apply -> running.
 */
async function bareConcurrentBatch(w: World, n: number, tag: string): Promise<number[]> {
  const template = JSON.parse(await readFile(w.rt.layout.file(`fl-${tag}-0`, 'config.json'), 'utf8')) as { linux: { cgroupsPath: string } };
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `barec-${tag}-${i}`;
    const bundle = join(w.dir, 'bare', id);
    await mkdir(bundle, { recursive: true });
    template.linux.cgroupsPath = `/${w.parent}-bare/${id}`;
    await writeFile(join(bundle, 'config.json'), JSON.stringify(template));
    ids.push(id);
  }
  w.signal.throwIfAborted();
  const t0 = performance.now();
  return Promise.all(ids.map(async (id) => {
    await runDetached(['--root', w.bareRoot, 'run', '-d', '--bundle', join(w.dir, 'bare', id), id]);
    return performance.now() - t0;
  }));
}

async function cleanup(w: World): Promise<void> {
  for (const c of await w.rt.list()) await w.rt.remove(c.id).catch(() => undefined);
  const out = await run(RUNC, ['--root', w.bareRoot, 'list', '-q']).then((r) => r.stdout, () => '');
  for (const id of out.split('\n').filter((s) => s !== '')) {
    await run(RUNC, ['--root', w.bareRoot, 'delete', '--force', id]).catch(() => undefined);
    await removeCgroup(`/${w.parent}-bare/${id}`);
  }
  await removeCgroup(`/${w.parent}-bare`);
  await removeCgroup(`/${w.parent}`);
}

async function main(): Promise<void> {
  const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
  const batches = sizes.length > 0 ? sizes : [1, 10, 50];
  const dir = await mkdtemp(join(tmpdir(), 'flbench-'));
  const parent = `flotilla-bench-${process.pid}`;
  const rootfs = await busyboxRootfs();
  await copyFile('/bin/busybox', join(dir, 'probe')); // warm the page cache like a cached image
  const signal = AbortSignal.timeout(Number(process.env.BENCH_TIMEOUT_MS ?? 300_000));
  const w: World = { dir, rt: new RuncRuntime({ stateDir: join(dir, 'state'), cgroupParent: parent }), bareRoot: join(dir, 'bare-root'), parent, rootfs, signal };
  try {
    await flotillaBatch(w, 1, 'warm');
    await cleanup(w);
    console.log('containers | flotilla p50 / p99 (ms) | bare runc run -d p50 / p99 (ms) | ratio p50 / p99');
    for (const n of batches) {
      const fl = summary(await flotillaBatch(w, n, `n${n}`));
      const bare = summary(await bareBatch(w, n, `n${n}`));
      const together = summary(await bareConcurrentBatch(w, n, `n${n}`));
      console.log(`${String(n).padStart(10)} | ${fl.p50.toFixed(1).padStart(8)} / ${fl.p99.toFixed(1).padStart(7)}      | ${bare.p50.toFixed(1).padStart(8)} / ${bare.p99.toFixed(1).padStart(7)}               | ${(fl.p50 / bare.p50).toFixed(2)} / ${(fl.p99 / bare.p99).toFixed(2)}`);
      console.log(`bare-batch ${n} at once: p50 ${together.p50.toFixed(1)} ms, p99 ${together.p99.toFixed(1)} ms from the batch start`);
      await cleanup(w);
    }
  } finally {
    await cleanup(w);
    await w.rt.background.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
