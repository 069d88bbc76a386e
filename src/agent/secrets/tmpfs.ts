/**
 * A small tmpfs per task for its secrets and configs: values live in memory only, never on the
 * node's disk. Behind an interface so the hook's tests run without root.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Mounts and unmounts the per-task tmpfs. */
export interface TmpfsMounter {
  /** Mounts a tmpfs of `sizeBytes` at `dir` (created, mode 0700). */
  mount(dir: string, sizeBytes: number): Promise<void>;
  /** Unmounts `dir` if something is mounted there (no error when nothing is). */
  unmount(dir: string): Promise<void>;
}

/** True when `dir` is a mount point (listed in /proc/self/mountinfo). */
export async function isMountPoint(dir: string): Promise<boolean> {
  const info = await fs.readFile('/proc/self/mountinfo', 'utf8');
  const esc = dir.replace(/ /g, '\\040');
  return info.split('\n').some((l) => l.split(' ')[4] === esc);
}

/** The real thing: `mount -t tmpfs` / `umount` (needs root, as the agent runs). */
export const SYSTEM_TMPFS: TmpfsMounter = {
  async mount(dir, sizeBytes) {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700,nosuid,nodev,noexec`, 'tmpfs', dir]);
  },
  async unmount(dir) {
    while (await isMountPoint(dir)) await run('umount', [dir]);
  },
};
