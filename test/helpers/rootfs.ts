/**
 * A busybox root filesystem for tests that run real containers: /bin/busybox (static) plus an
 * applet symlink per command, /etc/passwd and /etc/group with `root`, `app` (1000) and
 * `nobody`, and the mount points runc needs. Built once and cached (immutable, keyed by the
 * busybox binary), so tests share it: mount it read-only (`readonlyRootfs: true`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { copyFile, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BUSYBOX = '/bin/busybox';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'app:x:1000:1000:app:/home/app:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
].join('\n') + '\n';

const GROUP = ['root:x:0:', 'staff:x:50:app', 'app:x:1000:', 'nogroup:x:65534:'].join('\n') + '\n';

const DIRS = ['bin', 'proc', 'sys', 'dev', 'etc', 'tmp', 'root', 'home/app', 'data', 'www', 'var', 'run'];

async function build(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const d of DIRS) await mkdir(join(dir, d), { recursive: true });
  await copyFile(BUSYBOX, join(dir, 'bin/busybox'));
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a !== '' && a !== 'busybox');
  for (const a of applets) await symlink('busybox', join(dir, 'bin', a));
  await writeFile(join(dir, 'etc/passwd'), PASSWD);
  await writeFile(join(dir, 'etc/group'), GROUP);
  await writeFile(join(dir, 'www/index.html'), 'hello from flotilla\n');
  await writeFile(join(dir, '.complete'), new Date().toISOString());
}

/** Path of the cached busybox rootfs, building it on first use. */
export async function busyboxRootfs(): Promise<string> {
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: apt-get install busybox-static`);
  const st = statSync(BUSYBOX);
  const dir = join(tmpdir(), 'flotilla-test-rootfs', `busybox-${st.size}-${Math.floor(st.mtimeMs)}`);
  if (existsSync(join(dir, '.complete'))) return dir;
  const staging = `${dir}.tmp-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await build(staging);
  if (existsSync(dir) && !existsSync(join(dir, '.complete'))) await rm(dir, { recursive: true, force: true });
  try {
    await rename(staging, dir);
  } catch {
    await rm(staging, { recursive: true, force: true }); // another process won the race
  }
  if (!existsSync(join(dir, '.complete'))) throw new Error(`could not build the test rootfs at ${dir}`);
  return dir;
}
