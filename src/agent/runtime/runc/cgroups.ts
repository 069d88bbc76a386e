/**
 * The cgroup side of a container, for cgroup v1 ("legacy" or "hybrid": one hierarchy per
 * controller) and v2 (one unified hierarchy). runc creates a container's cgroup from its
 * `cgroupsPath`; this file reads from it (limits, OOM kills) and removes what runc leaves:
 * the shared parent (`/flotilla`) once it is empty.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Which cgroup layout the machine has. */
export type CgroupVersion = 1 | 2;

/** Root of the cgroup filesystem(s). */
export const CGROUP_ROOT = '/sys/fs/cgroup';

/** v2 when /sys/fs/cgroup is the unified hierarchy (it has cgroup.controllers), else v1. */
export function detectCgroupVersion(root = CGROUP_ROOT): CgroupVersion {
  return existsSync(join(root, 'cgroup.controllers')) ? 2 : 1;
}

/** Every directory that may hold the cgroup `path` (one per v1 hierarchy, or the v2 one). */
export async function cgroupDirs(path: string, root = CGROUP_ROOT): Promise<string[]> {
  if (detectCgroupVersion(root) === 2) return [join(root, path)];
  const entries = await readdir(root, { withFileTypes: true });
  // Comma-joined hierarchies (cpu,cpuacct) are often also linked as cpu and cpuacct: keep real dirs.
  return entries.filter((e) => e.isDirectory()).map((e) => join(root, e.name, path));
}

/** The directory of one controller (v1) or the unified one (v2). */
export function controllerDir(path: string, controller: string, root = CGROUP_ROOT): string {
  return detectCgroupVersion(root) === 2 ? join(root, path) : join(root, controller, path);
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The memory limit the kernel enforces for the cgroup, or undefined when unlimited/absent. */
export async function readMemoryLimit(path: string, root = CGROUP_ROOT): Promise<number | undefined> {
  const v2 = detectCgroupVersion(root) === 2;
  const file = join(controllerDir(path, 'memory', root), v2 ? 'memory.max' : 'memory.limit_in_bytes');
  const text = (await readText(file))?.trim();
  if (text === undefined || text === 'max') return undefined;
  const n = Number(text);
  return n >= 2 ** 62 ? undefined : n;
}

/** How many processes the OOM killer has killed in the cgroup (0 when it cannot tell). */
export async function readOomKills(path: string, root = CGROUP_ROOT): Promise<number> {
  const v2 = detectCgroupVersion(root) === 2;
  const file = join(controllerDir(path, 'memory', root), v2 ? 'memory.events' : 'memory.oom_control');
  const text = await readText(file);
  const m = text?.match(/^oom_kill (\d+)$/m);
  return m === null || m === undefined ? 0 : Number(m[1]);
}

/** Removes the cgroup `path` in every hierarchy; a dir still holding processes stays (EBUSY). */
export async function removeCgroup(path: string, root = CGROUP_ROOT): Promise<string[]> {
  const left: string[] = [];
  for (const dir of await cgroupDirs(path, root)) {
    try {
      await rmdir(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') left.push(dir);
    }
  }
  return left;
}

/** Lists the cgroup dirs that exist for `path` (used by tests and `remove` to prove cleanup). */
export async function existingCgroupDirs(path: string, root = CGROUP_ROOT): Promise<string[]> {
  return (await cgroupDirs(path, root)).filter((d) => existsSync(d));
}
