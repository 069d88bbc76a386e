/**
 * The cost of metrics (issue 11 figures):
 *  1. agent: CPU time to sample 100 task cgroups (readCgroupStats on 100 real cgroups made for
 *     the bench under /sys/fs/cgroup/<controller>/flotilla-bench-metrics/tN, empty: the kernel
 *     files are the same as a container's; removed at the end) plus one node sample;
 *  2. server: heap per 10,000 task series with a full hour of points (360 per series), and the
 *     time of one report of 100 tasks and of one `taskUsage()` over 10,000 series.
 *
 *   node --expose-gc --import tsx bench/metrics.ts [--rounds 20] [--series 10000]
 */
import { mkdirSync, rmdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { readCgroupStats } from '../src/agent/runtime/runc/cgroup-stats.js';
import { CGROUP_ROOT, detectCgroupVersion } from '../src/agent/runtime/runc/cgroups.js';
import { sampleNode } from '../src/agent/metrics/node-sample.js';
import { MetricsSeries } from '../src/server/metrics/series.js';
import type { TaskSample } from '../src/api/metrics.js';
import { loadavg } from './children.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const ROUNDS = arg('rounds', 20);
const SERIES = arg('series', 10_000);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const PARENT = 'flotilla-bench-metrics';
const CONTROLLERS = ['cpu', 'cpuacct', 'memory', 'pids', 'blkio'];

function cgroupDirs(n: number): string[] {
  if (detectCgroupVersion() === 2) return [path.join(CGROUP_ROOT, PARENT, `t${n}`)];
  return CONTROLLERS.map((c) => path.join(CGROUP_ROOT, c, PARENT, `t${n}`));
}

async function agentCost(): Promise<void> {
  const made: string[] = [];
  try {
    for (let i = 0; i < 100; i++) for (const d of cgroupDirs(i)) { mkdirSync(d, { recursive: true }); made.push(d); }
    const cpuMs: number[] = [];
    const wallMs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await Promise.all([sampleNode('/tmp'), ...Array.from({ length: 100 }, (_x, i) => readCgroupStats(`${PARENT}/t${i}`))]);
      wallMs.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpuMs.push((c.user + c.system) / 1000);
    }
    const perInterval = median(cpuMs);
    console.log(`agent: one sample of 100 task cgroups + the node: CPU median ${perInterval.toFixed(1)} ms, wall median ${median(wallMs).toFixed(1)} ms (${ROUNDS} rounds); at one sample per 10 s that is ${(perInterval / 100).toFixed(2)}% of one core`);
  } finally {
    for (const d of made.reverse()) if (existsSync(d)) rmdirSync(d);
    for (const c of detectCgroupVersion() === 2 ? [''] : CONTROLLERS) {
      const p = path.join(CGROUP_ROOT, c, PARENT);
      if (existsSync(p)) rmdirSync(p);
    }
  }
}

function sample(i: number, t: number): TaskSample {
  return {
    task: `svc${i % 100}-${i}`, namespace: 'default', service: `svc${i % 100}`, cpuUsageNs: t * 1e7 + i, cpuThrottledPeriods: 0, cpuThrottledNs: 0,
    memoryBytes: 1e6 + i, memoryLimitBytes: 64e6, oomKills: 0, pids: 1, netRxBytes: t, netTxBytes: t, blockReadBytes: 0, blockWriteBytes: 0,
  };
}

function serverCost(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) console.log('server: run with node --expose-gc for the heap figure');
  gc?.();
  const mem = (): number => { const u = process.memoryUsage(); return u.heapUsed + u.arrayBuffers; };
  const before = mem();
  const rss0 = process.memoryUsage().rss;
  let now = Date.parse('2026-12-04T00:00:00Z');
  const m = new MetricsSeries({ now: () => now });
  const nodes = SERIES / 100;
  const node = { cpuBusyNs: 0, cpuTotalNs: 0, cores: 4, memoryTotalBytes: 16e9, memoryAvailableBytes: 8e9, diskTotalBytes: 1e11, diskFreeBytes: 5e10, netRxBytes: 0, netTxBytes: 0 };
  const reportMs: number[] = [];
  for (let t = 0; t < 360; t++) {
    for (let n = 0; n < nodes; n++) {
      const tasks = Array.from({ length: 100 }, (_x, k) => sample(n * 100 + k, t));
      const t0 = performance.now();
      m.record(`node${n}`, { time: new Date(now).toISOString(), intervalMs: 10_000, node, tasks });
      if (t === 359) reportMs.push(performance.now() - t0);
    }
    now += 10_000;
  }
  gc?.();
  const heapMiB = (mem() - before) / 2 ** 20;
  const rssMiB = (process.memoryUsage().rss - rss0) / 2 ** 20;
  const u0 = performance.now();
  const usage = m.taskUsage();
  const usageMs = performance.now() - u0;
  console.log(`server: ${m.seriesCount()} series (${SERIES} tasks on ${nodes} nodes) with 360 points each: heap and buffers +${heapMiB.toFixed(0)} MiB (${((heapMiB * 1024) / SERIES).toFixed(1)} KiB per task series); RSS +${rssMiB.toFixed(0)} MiB`);
  console.log(`server: one report of 100 tasks recorded in median ${median(reportMs).toFixed(2)} ms; taskUsage() over ${usage.length} tasks in ${usageMs.toFixed(0)} ms`);
}

console.log(`bench/metrics (${new Date().toISOString()}, load average ${loadavg()})`);
await agentCost();
serverCost();
