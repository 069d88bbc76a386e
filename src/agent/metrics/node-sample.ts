/**
 * The node's own figures for a metrics report: CPU from /proc/stat (busy = total - idle -
 * iowait, in ns), memory from /proc/meminfo (MemTotal, MemAvailable), the data dir's filesystem
 * (statfs), and the network bytes of the agent's network namespace (the node's: /proc/self/net/dev).
 */
import { statfs } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { NodeSample } from '../../api/metrics.js';
import { readNetDev } from '../runtime/runc/cgroup-stats.js';

/** USER_HZ: the unit of /proc/stat (100 on every Linux this runs on). */
const TICK_NS = 10_000_000;

/** /proc/stat's first `cpu` line as busy and total CPU time in ns. */
export function parseProcStat(t: string): { busyNs: number; totalNs: number } {
  const line = t.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return { busyNs: 0, totalNs: 0 };
  // user nice system idle iowait irq softirq steal (guest time is already in user/nice)
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busyNs: (total - idle) * TICK_NS, totalNs: total * TICK_NS };
}

/** /proc/meminfo's MemTotal and MemAvailable in bytes. */
export function parseMeminfo(t: string): { totalBytes: number; availableBytes: number } {
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(t)?.[1] ?? 0) * 1024;
  return { totalBytes: kb('MemTotal'), availableBytes: kb('MemAvailable') };
}

/** Samples the node now. */
export async function sampleNode(dataDir: string): Promise<NodeSample> {
  const [stat, meminfo, fsStat, net] = await Promise.all([
    readFile('/proc/stat', 'utf8').catch(() => ''),
    readFile('/proc/meminfo', 'utf8').catch(() => ''),
    statfs(dataDir).catch(() => undefined),
    readNetDev('self'),
  ]);
  const cpu = parseProcStat(stat);
  const mem = parseMeminfo(meminfo);
  return {
    cpuBusyNs: cpu.busyNs,
    cpuTotalNs: cpu.totalNs,
    cores: os.availableParallelism(),
    memoryTotalBytes: mem.totalBytes,
    memoryAvailableBytes: mem.availableBytes,
    diskTotalBytes: fsStat !== undefined ? fsStat.blocks * fsStat.bsize : 0,
    diskFreeBytes: fsStat !== undefined ? fsStat.bavail * fsStat.bsize : 0,
    netRxBytes: net.rx,
    netTxBytes: net.tx,
  };
}
