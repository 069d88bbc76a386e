/**
 * The agent's RuntimeReady check on fake roots in a temp dir: cgroup v2 and v1 layouts pass,
 * an empty cgroup root fails with NoCgroupHierarchy, a missing runc or CNI plugin with its own
 * reason; a missing overlayfs is noted, not fatal.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkRuntime, watchRuntimeCondition, type RuntimeCheckOptions } from '../../../src/agent/node/runtime-check.js';

describe('runtime check', { timeout: 30_000 }, () => {
  let dir = '';
  let base: RuntimeCheckOptions;

  const exe = async (p: string): Promise<void> => {
    await mkdir(path.dirname(p), { recursive: true });
    await writeFile(p, '#!/bin/sh\n');
    await chmod(p, 0o755);
  };

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'runtime-check-'));
    for (const c of ['memory', 'cpu,cpuacct', 'pids']) await mkdir(path.join(dir, 'v1', c), { recursive: true });
    await mkdir(path.join(dir, 'v2'), { recursive: true });
    await writeFile(path.join(dir, 'v2', 'cgroup.controllers'), 'cpu memory pids\n');
    await mkdir(path.join(dir, 'empty'));
    await exe(path.join(dir, 'bin', 'runc'));
    for (const p of ['bridge', 'host-local', 'loopback']) await exe(path.join(dir, 'cni', p));
    await writeFile(path.join(dir, 'fs-overlay'), 'nodev\tsysfs\nnodev\toverlay\n');
    await writeFile(path.join(dir, 'fs-none'), 'nodev\tsysfs\n');
    base = { cgroupRoot: path.join(dir, 'v1'), runcPath: path.join(dir, 'bin', 'runc'), cniDir: path.join(dir, 'cni'), filesystemsFile: path.join(dir, 'fs-overlay') };
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('passes with cgroup v1 controllers, runc and the CNI plugins', async () => {
    const c = await checkRuntime(base);
    assert.equal(c.type, 'RuntimeReady');
    assert.equal(c.status, true);
    assert.match(c.message ?? '', /overlayfs available/);
  });
  it('passes with a cgroup v2 hierarchy', async () => {
    assert.equal((await checkRuntime({ ...base, cgroupRoot: path.join(dir, 'v2') })).status, true);
  });
  it('fails without a visible cgroup hierarchy', async () => {
    const c = await checkRuntime({ ...base, cgroupRoot: path.join(dir, 'empty') });
    assert.deepEqual([c.status, c.reason], [false, 'NoCgroupHierarchy']);
    assert.match(c.message ?? '', /no cgroup hierarchy under .*empty/);
  });
  it('fails without runc', async () => {
    const c = await checkRuntime({ ...base, runcPath: path.join(dir, 'bin', 'nope') });
    assert.deepEqual([c.status, c.reason], [false, 'RuncMissing']);
  });
  it('fails when a CNI plugin is missing, naming it', async () => {
    await rm(path.join(dir, 'cni', 'host-local'));
    try {
      const c = await checkRuntime(base);
      assert.deepEqual([c.status, c.reason], [false, 'CniPluginsMissing']);
      assert.match(c.message ?? '', /host-local/);
      assert.equal((await checkRuntime({ ...base, cniDir: undefined })).status, true, 'no CNI check when the agent does not use CNI');
    } finally {
      await exe(path.join(dir, 'cni', 'host-local'));
    }
  });
  it('notes a missing overlayfs without failing (rootfs copy fallback)', async () => {
    const c = await checkRuntime({ ...base, filesystemsFile: path.join(dir, 'fs-none') });
    assert.equal(c.status, true);
    assert.match(c.message ?? '', /copied/);
  });
  it('the watch reports the condition now, stamped, and stops', async () => {
    const lines: string[] = [];
    const w = await watchRuntimeCondition({ ...base, cgroupRoot: path.join(dir, 'empty') }, (l) => lines.push(l), 60_000);
    assert.equal(w.current().status, false);
    assert.ok(w.current().lastTransitionTime !== undefined);
    assert.match(lines.join('\n'), /runtime NOT ready \(NoCgroupHierarchy\)/);
    await w.stop();
  });
});
