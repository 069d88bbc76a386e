/**
 * A task's root filesystem from an image's unpacked layers: an overlay mount whose lower
 * dirs are the shared layers (top first) and whose upper/work dirs belong to the task. Only
 * when overlayfs cannot mount (no privilege, data dir on an overlay, whiteouts not in overlay
 * form) does it copy the layers instead, applying whiteouts by deletion, and it says so.
 *
 *   dir/rootfs   the mount point (or the copy)
 *   dir/upper    the task's writes     dir/work   overlayfs scratch
 */
import { execFile } from 'node:child_process';
import { lstat, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { LayerRecord } from './layer-store.js';

const run = promisify(execFile);

/** A prepared root filesystem; `cleanup()` unmounts and removes it (idempotent). */
export interface PreparedRootfs {
  rootfs: string;
  method: 'overlay' | 'copy';
  cleanup(): Promise<void>;
}

/** Options of prepareRootfs. */
export interface PrepareRootfsOptions {
  /** Where the fallback line goes (default: console.warn). */
  log?: (line: string) => void;
  /** Skip overlayfs (tests of the fallback; filesystems known not to work). */
  forceCopy?: boolean;
}

/** Builds `dir/rootfs` from the image's layers (bottom first in `image.layers`). */
export async function prepareRootfs(image: { layers: LayerRecord[] }, dir: string, opts: PrepareRootfsOptions = {}): Promise<PreparedRootfs> {
  const log = opts.log ?? ((l: string) => console.warn(l));
  const rootfs = path.join(dir, 'rootfs');
  await mkdir(rootfs, { recursive: true });
  let reason = 'forced';
  if (!opts.forceCopy) {
    try {
      await mountOverlay(image.layers, dir, rootfs);
      return { rootfs, method: 'overlay', cleanup: once(() => teardown(dir, rootfs, true)) };
    } catch (err) {
      reason = (err as Error).message.trim().split('\n')[0] ?? 'unknown';
    }
  }
  log(`rootfs ${rootfs}: overlayfs unavailable (${reason}); copying ${image.layers.length} layer(s) instead`);
  try {
    await copyLayers(image.layers, rootfs);
  } catch (err) {
    await teardown(dir, rootfs, false);
    throw err;
  }
  return { rootfs, method: 'copy', cleanup: once(() => teardown(dir, rootfs, false)) };
}

async function mountOverlay(layers: LayerRecord[], dir: string, rootfs: string): Promise<void> {
  if (layers.length === 0) throw new Error('image has no layers');
  const notReady = layers.find((l) => !l.overlayReady);
  if (notReady !== undefined) throw new Error(`layer ${notReady.digest} has no overlay-form whiteouts`);
  const upper = path.join(dir, 'upper');
  const work = path.join(dir, 'work');
  await mkdir(upper, { recursive: true });
  await mkdir(work, { recursive: true });
  // Lower dirs relative to their common parent keep the option string short (page-size limit).
  const base = path.dirname(path.dirname(layers[0]?.dir ?? ''));
  const lowers = [...layers].reverse().map((l) => path.relative(base, l.dir));
  if ([...lowers, upper, work].some((p) => /[,:]/.test(p) || p.startsWith('..'))) throw new Error('layer paths contain "," or ":"');
  const options = `lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${work}`;
  await run('mount', ['-t', 'overlay', 'overlay', '-o', options, rootfs], { cwd: base });
}

/** Applies layers bottom to top by copying; whiteouts and opaque dirs delete what is below. */
async function copyLayers(layers: LayerRecord[], rootfs: string): Promise<void> {
  for (const layer of layers) {
    for (const rel of layer.opaques) {
      const abs = path.join(rootfs, rel);
      for (const name of await readdir(abs).catch(() => [] as string[])) await rm(path.join(abs, name), { recursive: true, force: true });
    }
    for (const rel of layer.whiteouts) await rm(path.join(rootfs, rel), { recursive: true, force: true });
    await run('cp', ['-a', '--', `${layer.dir}/.`, `${rootfs}/`]);
    for (const rel of layer.whiteouts) {
      const abs = path.join(rootfs, rel);
      const st = await lstat(abs).catch(() => undefined);
      if (st?.isCharacterDevice() === true && st.rdev === 0) await rm(abs, { force: true });
    }
  }
}

/** Unmounts and removes a root filesystem prepared earlier in `dir`, e.g. by an agent before a restart. */
export async function releaseRootfsDir(dir: string): Promise<void> {
  await teardown(dir, path.join(dir, 'rootfs'), true);
}

async function isMounted(target: string): Promise<boolean> {
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  return mounts.split('\n').some((line) => line.split(' ')[4] === target);
}

async function teardown(dir: string, rootfs: string, mounted: boolean): Promise<void> {
  if (mounted) {
    for (let i = 0; i < 5 && (await isMounted(rootfs)); i++) {
      try {
        await run('umount', [rootfs]);
      } catch {
        await new Promise((r) => setTimeout(r, 100 * (i + 1)));
      }
    }
    if (await isMounted(rootfs)) await run('umount', ['-l', rootfs]);
  }
  await rm(dir, { recursive: true, force: true });
}

function once(f: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= f());
}
