/**
 * A container's resource use read straight from its cgroup files (no `runc events` fork per
 * sample: at 100 tasks every 10 s that would be 10 processes a second), for cgroup v1 (one
 * hierarchy per controller) and v2 (unified). Missing files read as 0: a controller that is not
 * mounted, or a cgroup that just went away, yields zeros rather than an error.
 *
 *            v1 (DIR = /sys/fs/cgroup/<controller>/<path>)      v2 (DIR = /sys/fs/cgroup/<path>)
 *   cpu      cpuacct/cpuacct.usage (ns)                          cpu.stat usage_usec
 *   throttle cpu/cpu.stat nr_throttled, throttled_time (ns)      cpu.stat nr_throttled, throttled_usec
 *   limit    cpu/cpu.cfs_quota_us / cpu.cfs_period_us            cpu.max "QUOTA PERIOD" | "max ..."
 *   memory   memory.usage_in_bytes - total_inactive_file          memory.current - inactive_file
 *   mem lim  memory.limit_in_bytes                                memory.max
 *   oom      memory.oom_control oom_kill                          memory.events oom_kill
 *   pids     pids/pids.current                                   pids.current
 *   block    blkio/blkio.throttle.io_service_bytes Read/Write     io.stat rbytes= wbytes=
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CGROUP_ROOT, detectCgroupVersion } from './cgroups.js';

/** What one read of a container's cgroup gives. */
export interface CgroupStats {
  cpuUsageNs: number;
  cpuThrottledPeriods: number;
  cpuThrottledNs: number;
  cpuLimitCores?: number;
  memoryBytes: number;
  memoryLimitBytes?: number;
  oomKills: number;
  pids: number;
  blockReadBytes: number;
  blockWriteBytes: number;
}

async function text(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return '';
  }
}

/** `key value` lines (cpu.stat, memory.stat, memory.events) as a map of numbers. */
export function parseFlatKeyed(t: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of t.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k !== undefined && k !== '' && v !== undefined && /^\d+$/.test(v)) m.set(k, Number(v));
  }
  return m;
}

/** A single number file; undefined when absent, empty or "max" (no limit). */
export function parseNumber(t: string): number | undefined {
  const s = t.trim();
  if (s === '' || s === 'max' || !/^-?\d+$/.test(s)) return undefined;
  return Number(s);
}

/** v1 blkio.throttle.io_service_bytes: sums of the per-device Read and Write lines. */
export function parseBlkioV1(t: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const line of t.split('\n')) {
    const [dev, op, v] = line.trim().split(/\s+/);
    if (dev === undefined || !dev.includes(':') || v === undefined) continue;
    if (op === 'Read') read += Number(v);
    else if (op === 'Write') write += Number(v);
  }
  return { read, write };
}

/** v2 io.stat: sums of rbytes= and wbytes= over the devices. */
export function parseIoStatV2(t: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const m of t.matchAll(/\b(rbytes|wbytes)=(\d+)/g)) {
    if (m[1] === 'rbytes') read += Number(m[2]);
    else write += Number(m[2]);
  }
  return { read, write };
}

/** v2 cpu.max "QUOTA PERIOD" (or "max PERIOD") as cores. */
export function parseCpuMaxV2(t: string): number | undefined {
  const [q, p] = t.trim().split(/\s+/);
  if (q === undefined || q === 'max' || p === undefined) return undefined;
  const quota = Number(q);
  const period = Number(p);
  return quota > 0 && period > 0 ? quota / period : undefined;
}

/** A limit that is really "none" (v1 writes 2^63 rounded to pages). */
function limit(n: number | undefined): number | undefined {
  return n === undefined || n <= 0 || n >= 2 ** 62 ? undefined : n;
}

/** Reads the stats of the cgroup `path` (a container's cgroupsPath). */
export async function readCgroupStats(path: string, root = CGROUP_ROOT): Promise<CgroupStats> {
  return detectCgroupVersion(root) === 2 ? readV2(join(root, path)) : readV1(path, root);
}

async function readV1(path: string, root: string): Promise<CgroupStats> {
  const dir = (c: string): string => join(root, c, path);
  const [usage, cpuStat, quota, period, mem, memStat, memLimit, oom, pids, blkio] = await Promise.all([
    text(join(dir('cpuacct'), 'cpuacct.usage')), text(join(dir('cpu'), 'cpu.stat')),
    text(join(dir('cpu'), 'cpu.cfs_quota_us')), text(join(dir('cpu'), 'cpu.cfs_period_us')),
    text(join(dir('memory'), 'memory.usage_in_bytes')), text(join(dir('memory'), 'memory.stat')),
    text(join(dir('memory'), 'memory.limit_in_bytes')), text(join(dir('memory'), 'memory.oom_control')),
    text(join(dir('pids'), 'pids.current')), text(join(dir('blkio'), 'blkio.throttle.io_service_bytes')),
  ]);
  const cs = parseFlatKeyed(cpuStat);
  const ms = parseFlatKeyed(memStat);
  const q = parseNumber(quota);
  const p = parseNumber(period);
  const inactive = ms.get('total_inactive_file') ?? ms.get('inactive_file') ?? 0;
  const io = parseBlkioV1(blkio);
  const memLim = limit(parseNumber(memLimit));
  return {
    cpuUsageNs: parseNumber(usage) ?? 0,
    cpuThrottledPeriods: cs.get('nr_throttled') ?? 0,
    cpuThrottledNs: cs.get('throttled_time') ?? 0,
    ...(q !== undefined && q > 0 && p !== undefined && p > 0 ? { cpuLimitCores: q / p } : {}),
    memoryBytes: Math.max(0, (parseNumber(mem) ?? 0) - inactive),
    ...(memLim !== undefined ? { memoryLimitBytes: memLim } : {}),
    oomKills: parseFlatKeyed(oom).get('oom_kill') ?? 0,
    pids: parseNumber(pids) ?? 0,
    blockReadBytes: io.read,
    blockWriteBytes: io.write,
  };
}

async function readV2(dir: string): Promise<CgroupStats> {
  const [cpuStat, cpuMax, mem, memStat, memMax, events, pids, ioStat] = await Promise.all([
    text(join(dir, 'cpu.stat')), text(join(dir, 'cpu.max')), text(join(dir, 'memory.current')), text(join(dir, 'memory.stat')),
    text(join(dir, 'memory.max')), text(join(dir, 'memory.events')), text(join(dir, 'pids.current')), text(join(dir, 'io.stat')),
  ]);
  const cs = parseFlatKeyed(cpuStat);
  const cores = parseCpuMaxV2(cpuMax);
  const io = parseIoStatV2(ioStat);
  const memLim = limit(parseNumber(memMax));
  return {
    cpuUsageNs: (cs.get('usage_usec') ?? 0) * 1000,
    cpuThrottledPeriods: cs.get('nr_throttled') ?? 0,
    cpuThrottledNs: (cs.get('throttled_usec') ?? 0) * 1000,
    ...(cores !== undefined ? { cpuLimitCores: cores } : {}),
    memoryBytes: Math.max(0, (parseNumber(mem) ?? 0) - (parseFlatKeyed(memStat).get('inactive_file') ?? 0)),
    ...(memLim !== undefined ? { memoryLimitBytes: memLim } : {}),
    oomKills: parseFlatKeyed(events).get('oom_kill') ?? 0,
    pids: parseNumber(pids) ?? 0,
    blockReadBytes: io.read,
    blockWriteBytes: io.write,
  };
}

/** Bytes received and sent on every interface but lo, from a /proc/PID/net/dev text. */
export function parseNetDev(t: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of t.split('\n')) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const name = line.slice(0, i).trim();
    if (name === 'lo') continue;
    const f = line.slice(i + 1).trim().split(/\s+/);
    if (f.length < 9) continue;
    rx += Number(f[0]);
    tx += Number(f[8]);
  }
  return { rx, tx };
}

/** Network bytes of the namespace process `pid` lives in (0s when it is gone). */
export async function readNetDev(pid: number | 'self'): Promise<{ rx: number; tx: number }> {
  return parseNetDev(await text(`/proc/${pid}/net/dev`));
}
