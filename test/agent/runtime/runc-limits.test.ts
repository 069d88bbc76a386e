/**
 * Real runc: memory, CPU and pids limits land in the container's cgroup (v1 or v2 files) and
 * the kernel enforces them; an over-limit allocation is OOM-killed and reported as such.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { controllerDir, detectCgroupVersion, readMemoryLimit } from '../../../src/agent/runtime/runc/cgroups.js';
import { Collect, runtimeWorld, type RuntimeWorld } from './harness.js';

const T = { timeout: 40_000 };
const MI = 1024 * 1024;

describe('runc runtime limits', { timeout: 120_000 }, () => {
  let w: RuntimeWorld;
  before(async () => {
    w = await runtimeWorld();
  });
  after(async () => {
    await w.cleanup();
  });

  it('writes memory, cpu and pids limits into the container cgroup', T, async () => {
    await w.runtime.prepare(w.spec('limited', ['sleep', '60'], { limits: { memoryBytes: 32 * MI, cpuMillis: 500, pids: 16 } }));
    await w.runtime.start('limited');
    const cg = `/${w.cgroupParent}/limited`;
    assert.equal(await readMemoryLimit(cg), 32 * MI);
    const v2 = detectCgroupVersion() === 2;
    const memFile = join(controllerDir(cg, 'memory'), v2 ? 'memory.max' : 'memory.limit_in_bytes');
    assert.equal((await readFile(memFile, 'utf8')).trim(), String(32 * MI));
    if (v2) {
      assert.equal((await readFile(join(controllerDir(cg, 'cpu'), 'cpu.max'), 'utf8')).trim(), '50000 100000');
    } else {
      assert.equal((await readFile(join(controllerDir(cg, 'cpu'), 'cpu.cfs_quota_us'), 'utf8')).trim(), '50000');
      assert.equal((await readFile(join(controllerDir(cg, 'cpu'), 'cpu.cfs_period_us'), 'utf8')).trim(), '100000');
    }
    assert.equal((await readFile(join(controllerDir(cg, 'pids'), 'pids.max'), 'utf8')).trim(), '16');
    const stats = await w.runtime.stats!('limited');
    assert.equal(stats.memoryLimitBytes, 32 * MI);
    assert.ok(stats.pids >= 1);
    await w.runtime.remove('limited');
  });

  it('an allocation over the memory limit is OOM-killed: exit 137, oomKilled', T, async () => {
    await w.runtime.prepare(w.spec('oom', ['sh', '-c', 'head -c 200m /dev/zero | tail'], { limits: { memoryBytes: 32 * MI } }));
    await w.runtime.start('oom');
    const exit = await w.runtime.wait('oom');
    assert.equal(exit.exitCode, 137);
    assert.equal(exit.oomKilled, true);
    assert.equal((await w.runtime.state('oom'))?.exit?.oomKilled, true);
    // a container within its limit is not reported as OOM-killed
    await w.runtime.prepare(w.spec('fits', ['sh', '-c', 'head -c 4m /dev/zero | tail >/dev/null'], { limits: { memoryBytes: 32 * MI } }));
    await w.runtime.start('fits');
    assert.deepEqual({ ...(await w.runtime.wait('fits')), finishedAt: '' }, { exitCode: 0, oomKilled: false, finishedAt: '' });
  });

  it('the pids limit stops a fork bomb', T, async () => {
    // Room for `runc exec`'s own init (a multi-threaded Go process counts against pids.max) but not for 40 children.
    await w.runtime.prepare(w.spec('pids', ['sleep', '60'], { limits: { pids: 16 } }));
    await w.runtime.start('pids');
    const err = new Collect();
    const out = new Collect();
    await w.runtime.exec('pids', ['sh', '-c', 'n=0; for i in $(seq 1 40); do sleep 5 >/dev/null & n=$((n+1)); done; echo started'], { stdout: out, stderr: err, timeoutMs: 20_000 });
    assert.match(err.text, /can't fork|Resource temporarily unavailable/);
    await w.runtime.remove('pids');
  });
});
