/**
 * The RuntimeReady check (src/api/node-conditions.ts): can this node run containers at all?
 * The agent runs it at start and every few minutes, and reports the result as the Node's
 * `RuntimeReady` condition, so that a node that cannot run containers gets no tasks instead
 * of failing every task it is given. What it checks, in order (the first failure is the reason):
 *
 *   NoCgroupHierarchy   ROOT/cgroup.controllers (v2), or ROOT/{memory,cpu,pids}/ (v1, hybrid)
 *   RuncMissing         the runc binary is not an executable file
 *   CniPluginsMissing   bridge, host-local or loopback missing from the CNI plugin dir
 *                       (only when the agent wires task networks with CNI)
 *
 * Overlayfs is not a condition: without it (no `overlay` in /proc/filesystems) the rootfs code
 * copies the layers instead (src/agent/image/rootfs.ts). The check says so in its message, and
 * RuntimeReady stays true.
 */
import { constants as fsc, existsSync, statSync } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { NodeCondition } from '../../api/kinds.js';
import { RUNTIME_READY } from '../../api/node-conditions.js';
import { disposable, type Disposable } from '../../lifecycle.js';

/** Where the check looks; every path has the machine's default. */
export interface RuntimeCheckOptions {
  /** Root of the cgroup filesystem(s) (default /sys/fs/cgroup; `flotilla agent --cgroup-root`). */
  cgroupRoot?: string;
  /** The runc binary (default /usr/sbin/runc). */
  runcPath?: string;
  /** CNI plugin dir, or undefined when the agent does not use CNI (hollow nodes, tests' own hooks). */
  cniDir?: string;
  /** /proc/filesystems, for the overlay note. */
  filesystemsFile?: string;
}

/** The CNI plugins every task network needs (src/agent/network/task-network.ts). */
export const REQUIRED_CNI_PLUGINS = ['bridge', 'host-local', 'loopback'] as const;

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

async function executable(p: string): Promise<boolean> {
  try {
    await access(p, fsc.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Why cgroups cannot be used under `root`, or undefined when a v2 or v1 hierarchy is there. */
export function cgroupProblem(root: string): string | undefined {
  if (existsSync(path.join(root, 'cgroup.controllers'))) return undefined;
  const v1 = ['memory', 'pids'].every((c) => isDir(path.join(root, c))) && (isDir(path.join(root, 'cpu')) || isDir(path.join(root, 'cpu,cpuacct')));
  if (v1) return undefined;
  return `no cgroup hierarchy under ${root}: neither cgroup v2 (cgroup.controllers) nor the v1 memory, cpu and pids controllers`;
}

/** Runs every check once and answers the RuntimeReady condition (lastTransitionTime unset). */
export async function checkRuntime(o: RuntimeCheckOptions = {}): Promise<NodeCondition> {
  const fail = (reason: string, message: string): NodeCondition => ({ type: RUNTIME_READY, status: false, reason, message });
  const cg = cgroupProblem(o.cgroupRoot ?? '/sys/fs/cgroup');
  if (cg !== undefined) return fail('NoCgroupHierarchy', cg);
  const runc = o.runcPath ?? '/usr/sbin/runc';
  if (!(await executable(runc))) return fail('RuncMissing', `runc not found at ${runc} (Debian: apt-get install runc)`);
  if (o.cniDir !== undefined) {
    const missing: string[] = [];
    for (const p of REQUIRED_CNI_PLUGINS) if (!(await executable(path.join(o.cniDir, p)))) missing.push(p);
    if (missing.length > 0) return fail('CniPluginsMissing', `CNI plugin(s) ${missing.join(', ')} not found in ${o.cniDir} (Debian: apt-get install containernetworking-plugins)`);
  }
  const fsList = await readFile(o.filesystemsFile ?? '/proc/filesystems', 'utf8').catch(() => '');
  const overlay = /\boverlay$/m.test(fsList);
  return { type: RUNTIME_READY, status: true, reason: 'RuntimeWorks', message: overlay ? 'cgroups, runc and CNI found; overlayfs available' : 'cgroups, runc and CNI found; no overlayfs: root filesystems are copied' };
}

/** Keeps the condition up to date: checks now, then every `periodMs`; `current()` is what registration reports. */
export interface RuntimeConditionWatch extends Disposable {
  current(): NodeCondition;
}

/** Checks at start and every `periodMs` (default 5 min); logs every change. */
export async function watchRuntimeCondition(o: RuntimeCheckOptions, log: (l: string) => void, periodMs = 300_000): Promise<RuntimeConditionWatch> {
  const stamp = (c: NodeCondition): NodeCondition => ({ ...c, lastTransitionTime: new Date().toISOString() });
  let cur = stamp(await checkRuntime(o));
  const say = (c: NodeCondition): void => log(c.status ? `runtime ready: ${c.message ?? ''}` : `runtime NOT ready (${c.reason ?? ''}): ${c.message ?? ''}; this node gets no tasks`);
  say(cur);
  let inFlight: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    inFlight = checkRuntime(o).then((next) => {
      if (next.status === cur.status && next.reason === cur.reason && next.message === cur.message) return;
      cur = stamp(next);
      say(cur);
    }, (err: unknown) => log(`runtime check failed: ${(err as Error).message}`));
  }, periodMs);
  timer.unref();
  const stopper = disposable(async () => {
    clearInterval(timer);
    await inFlight;
  });
  return { current: () => cur, stop: () => stopper.stop() };
}
