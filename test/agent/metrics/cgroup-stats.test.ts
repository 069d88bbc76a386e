/** Reading container figures from cgroup v1 and v2 files (a fake hierarchy in a temp dir), and the node's procfs parsers. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseNetDev, readCgroupStats } from '../../../src/agent/runtime/runc/cgroup-stats.js';
import { parseMeminfo, parseProcStat } from '../../../src/agent/metrics/node-sample.js';

const roots: string[] = [];
after(() => { for (const r of roots) rmSync(r, { recursive: true, force: true }); });

function files(root: string, entries: Record<string, string>): void {
  for (const [rel, content] of Object.entries(entries)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), content);
  }
}

describe('readCgroupStats', () => {
  it('v1: one directory per controller', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'cg-v1-'));
    roots.push(root);
    const p = 'flotilla/default_web-1';
    files(root, {
      [`cpuacct/${p}/cpuacct.usage`]: '1500000000\n',
      [`cpu/${p}/cpu.stat`]: 'nr_periods 40\nnr_throttled 7\nthrottled_time 250000000\n',
      [`cpu/${p}/cpu.cfs_quota_us`]: '50000\n',
      [`cpu/${p}/cpu.cfs_period_us`]: '100000\n',
      [`memory/${p}/memory.usage_in_bytes`]: '10485760\n',
      [`memory/${p}/memory.stat`]: 'cache 4096\ninactive_file 1000\ntotal_inactive_file 2097152\n',
      [`memory/${p}/memory.limit_in_bytes`]: '67108864\n',
      [`memory/${p}/memory.oom_control`]: 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
      [`pids/${p}/pids.current`]: '3\n',
      [`blkio/${p}/blkio.throttle.io_service_bytes`]: '8:0 Read 4096\n8:0 Write 8192\n8:0 Total 12288\n8:16 Read 100\nTotal 12388\n',
    });
    assert.deepEqual(await readCgroupStats(p, root), {
      cpuUsageNs: 1_500_000_000, cpuThrottledPeriods: 7, cpuThrottledNs: 250_000_000, cpuLimitCores: 0.5,
      memoryBytes: 10485760 - 2097152, memoryLimitBytes: 67108864, oomKills: 2, pids: 3, blockReadBytes: 4196, blockWriteBytes: 8192,
    });
  });

  it('v2: the unified hierarchy; "max" means no limit', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'cg-v2-'));
    roots.push(root);
    const p = 'flotilla/default_web-2';
    files(root, {
      'cgroup.controllers': 'cpu memory pids io\n',
      [`${p}/cpu.stat`]: 'usage_usec 2000\nuser_usec 1500\nsystem_usec 500\nnr_periods 5\nnr_throttled 1\nthrottled_usec 30\n',
      [`${p}/cpu.max`]: 'max 100000\n',
      [`${p}/memory.current`]: '5000000\n',
      [`${p}/memory.stat`]: 'anon 3000000\ninactive_file 1000000\n',
      [`${p}/memory.max`]: 'max\n',
      [`${p}/memory.events`]: 'low 0\nhigh 0\nmax 0\noom 1\noom_kill 1\n',
      [`${p}/pids.current`]: '2\n',
      [`${p}/io.stat`]: '8:0 rbytes=100 wbytes=200 rios=1 wios=2\n8:16 rbytes=1 wbytes=2 rios=1 wios=1\n',
    });
    assert.deepEqual(await readCgroupStats(p, root), {
      cpuUsageNs: 2_000_000, cpuThrottledPeriods: 1, cpuThrottledNs: 30_000,
      memoryBytes: 4_000_000, oomKills: 1, pids: 2, blockReadBytes: 101, blockWriteBytes: 202,
    });
  });

  it('a cgroup that is gone reads as zeros', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'cg-gone-'));
    roots.push(root);
    const s = await readCgroupStats('flotilla/nothing', root);
    assert.equal(s.cpuUsageNs, 0);
    assert.equal(s.memoryBytes, 0);
    assert.equal(s.memoryLimitBytes, undefined);
  });
});

describe('procfs parsers', () => {
  it('net/dev sums every interface but lo', () => {
    const t = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0
  eth0:    5000      50    0    0    0     0          0         0     7000      70    0    0    0     0       0          0
  eth1:      10       1    0    0    0     0          0         0       20       2    0    0    0     0       0          0
`;
    assert.deepEqual(parseNetDev(t), { rx: 5010, tx: 7020 });
  });

  it('/proc/stat: busy is everything but idle and iowait, in ns', () => {
    const s = parseProcStat('cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\n');
    assert.deepEqual(s, { busyNs: 150 * 10_000_000, totalNs: 1000 * 10_000_000 });
  });

  it('/proc/meminfo: total and available in bytes', () => {
    assert.deepEqual(parseMeminfo('MemTotal:       1000 kB\nMemFree:  10 kB\nMemAvailable:    600 kB\n'), { totalBytes: 1024000, availableBytes: 614400 });
  });
});
