/**
 * Shared setup for the real-runc tests: a runtime with its own state dir, runc root and cgroup
 * parent, and a cleanup that leaves nothing behind even when a test failed half-way
 * (containers killed, runc state deleted, monitors killed, cgroups removed, dirs deleted).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { existingCgroupDirs, removeCgroup } from '../../../src/agent/runtime/runc/cgroups.js';
import { RuncRuntime, type RuncRuntimeOptions } from '../../../src/agent/runtime/runc/runc-runtime.js';
import type { ContainerSpec } from '../../../src/agent/runtime/runtime.js';
import { busyboxRootfs } from '../../helpers/rootfs.js';

/** One test file's runtime world. */
export interface RuntimeWorld {
  stateDir: string;
  runcRoot: string;
  cgroupParent: string;
  rootfs: string;
  runtime: RuncRuntime;
  /** Another instance over the same state: an agent restart. */
  newInstance(): RuncRuntime;
  spec(id: string, args: string[], extra?: Partial<ContainerSpec>): ContainerSpec;
  cleanup(): Promise<void>;
}

/** Creates a runtime world; call cleanup() in `after`. */
export async function runtimeWorld(opts: Partial<RuncRuntimeOptions> = {}): Promise<RuntimeWorld> {
  const stateDir = await mkdtemp(join(tmpdir(), 'flrt-'));
  const runcRoot = join(stateDir, 'runc');
  const cgroupParent = `flotilla-test-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
  const rootfs = await busyboxRootfs();
  const instances: RuncRuntime[] = [];
  const make = (): RuncRuntime => {
    const rt = new RuncRuntime({ stateDir, runcRoot, cgroupParent, logRotateIntervalMs: 50, ...opts });
    instances.push(rt);
    return rt;
  };
  const runtime = make();
  return {
    stateDir, runcRoot, cgroupParent, rootfs, runtime,
    newInstance: make,
    spec: (id, args, extra = {}) => ({
      id, rootfs, readonlyRootfs: true, args,
      mounts: [{ type: 'tmpfs', target: '/tmp' }],
      ...extra,
    }),
    cleanup: async () => {
      for (const rt of instances) await rt.background.stop();
      await forceCleanup(stateDir, runcRoot, cgroupParent);
    },
  };
}

function runcQuiet(root: string, args: string[]): string {
  try {
    return execFileSync('/usr/sbin/runc', ['--root', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

/** Kills and deletes everything under the runc root and the cgroup parent, then the dirs. */
export async function forceCleanup(stateDir: string, runcRoot: string, cgroupParent: string): Promise<void> {
  const list = JSON.parse(runcQuiet(runcRoot, ['list', '-f', 'json']) || 'null') as Array<{ id: string }> | null;
  for (const c of list ?? []) {
    runcQuiet(runcRoot, ['kill', c.id, 'KILL']);
    runcQuiet(runcRoot, ['delete', '--force', c.id]);
  }
  const bundles = await readdir(join(stateDir, 'bundles')).catch(() => [] as string[]);
  for (const id of bundles) {
    const pid = Number.parseInt(await readFile(join(stateDir, 'bundles', id, 'conmon.pid'), 'utf8').catch(() => ''), 10);
    if (!Number.isNaN(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await removeCgroup(`/${cgroupParent}/${id}`);
  }
  for (const c of list ?? []) await removeCgroup(`/${cgroupParent}/${c.id}`);
  await removeCgroup(`/${cgroupParent}`);
  const left = await existingCgroupDirs(`/${cgroupParent}`);
  await rm(stateDir, { recursive: true, force: true });
  if (left.length > 0) throw new Error(`cgroups left behind: ${left.join(', ')}`);
}

/** A Writable that collects what is written to it. */
export class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString('utf8');
    cb();
  }
}

/** Polls `check` until it is truthy or `ms` pass. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, ms = 5000, stepMs = 50): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** True while a process with this PID exists (and is not a zombie). */
export function processAlive(pid: number): boolean {
  try {
    const stat = execFileSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}
