/**
 * Image garbage collection on the agent (docs/first-contact.md): removes unused images, layers,
 * blobs and left-over task root filesystems, when the data dir's filesystem passes a high-water
 * mark (checked every minute) or on request (`flotilla node prune NAME`). Never removes what a
 * task uses:
 *
 *   in use = images of this node's tasks (any state: a task that still exists keeps its image)
 *          + layers that a mounted overlay rootfs has as lowerdir (/proc/self/mountinfo)
 *          + digests pinned by pulls in flight (LayerStore.pin)
 *   rootfs = DATA_DIR/containers/<id> whose id is neither a container the runtime knows nor a
 *            task of this node
 *
 *   every periodMs: used% of the data dir's filesystem >= highWaterPercent ? prune()
 *   prune(): inUse() -> LayerStore.gc(images in use, mounted layers) -> release stale rootfs dirs
 *            -> {images, layers, blobs, rootfs, bytesFreed}
 */
import { lstat, readdir, readFile, statfs } from 'node:fs/promises';
import path from 'node:path';
import { disposable, type Disposable } from '../../lifecycle.js';
import type { LayerStore } from './layer-store.js';
import { formatReference, parseReference } from './reference.js';
import { releaseRootfsDir } from './rootfs.js';

/** What a prune removed. */
export interface PruneResult {
  images: number;
  layers: number;
  blobs: number;
  /** Task root filesystem dirs removed. */
  rootfs: number;
  bytesFreed: number;
}

/** What the collector must know about the node's tasks. */
export interface NodeUsage {
  /** Image references of the node's tasks (every state: a task that still exists keeps its image). */
  images: string[];
  /** Container ids that may still need their rootfs: the node's tasks and the runtime's containers. */
  containers: Set<string>;
}

/** Options of ImageCollector. */
export interface ImageCollectorOptions {
  store: LayerStore;
  /** Makes the store's directories before the first collection (ImagePuller.ready). */
  ready?: () => Promise<void>;
  /** DATA_DIR/containers: one dir per task rootfs. */
  containersDir: string;
  usage: () => Promise<NodeUsage>;
  /** Used percentage of the data dir's filesystem that triggers a prune (default 85). */
  highWaterPercent?: number;
  /** How often the mark is checked (default 60 s). */
  periodMs?: number;
  /** Used percent of the filesystem holding `dir` (default: statfs). */
  usedPercent?: (dir: string) => Promise<number>;
  /** Mount table to read (default /proc/self/mountinfo). */
  mountInfoFile?: string;
  log?: (line: string) => void;
}

/** Used percentage as df computes it: used / (used + available to users). */
export async function filesystemUsedPercent(dir: string): Promise<number> {
  const s = await statfs(dir);
  const used = s.blocks - s.bfree;
  const total = used + s.bavail;
  return total === 0 ? 0 : (used * 100) / total;
}

/** Bytes under a path (files' sizes; directories that are mount points are not entered). */
async function treeBytes(p: string, mountPoints: Set<string>): Promise<number> {
  let st;
  try {
    st = await lstat(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.size;
  if (mountPoints.has(p)) return 0;
  let n = 0;
  for (const e of await readdir(p).catch(() => [] as string[])) n += await treeBytes(path.join(p, e), mountPoints);
  return n;
}

/** Mount points and overlay lowerdirs from a mountinfo file. */
async function readMounts(file: string): Promise<{ points: Set<string>; lowerDirs: string[] }> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const points = new Set<string>();
  const lowerDirs: string[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f[4] !== undefined) points.add(f[4]);
    const opts = f[f.length - 1] ?? '';
    const m = /(?:^|,)lowerdir=([^,]+)/.exec(opts);
    if (m?.[1] !== undefined) lowerDirs.push(...m[1].split(':'));
  }
  return { points, lowerDirs };
}

/** Normalized form of a reference (`busybox` -> `docker.io/library/busybox:latest`), or the text itself. */
function normalized(ref: string): string {
  try {
    return formatReference(parseReference(ref));
  } catch {
    return ref;
  }
}

/** See the file comment. */
export class ImageCollector {
  private running: Promise<PruneResult> | undefined;

  constructor(private readonly o: ImageCollectorOptions) {}

  /** Removes everything unused now (one at a time: a second call shares the first). */
  prune(): Promise<PruneResult> {
    this.running ??= this.collect().finally(() => { this.running = undefined; });
    return this.running;
  }

  private async collect(): Promise<PruneResult> {
    await this.o.ready?.();
    const usage = await this.o.usage();
    const mounts = await readMounts(this.o.mountInfoFile ?? '/proc/self/mountinfo');
    const storeDir = this.o.store.dataDir;
    const before = await treeBytes(storeDir, mounts.points);
    const wanted = new Set(usage.images.map(normalized));
    const inUse = new Set<string>();
    for (const rec of await this.o.store.listImages()) {
      const byDigest = usage.images.some((r) => r.endsWith(`@${rec.digest}`) || r.endsWith(`@${rec.manifestDigest}`));
      if (byDigest || wanted.has(normalized(rec.reference))) {
        inUse.add(rec.digest);
        inUse.add(rec.manifestDigest);
      }
    }
    // rootfs.ts mounts with the layers dir as cwd: lowerdirs show as `HEX/fs` (kept whichever store they are from: conservative).
    const mountedLayers = mounts.lowerDirs
      .map((d) => (path.isAbsolute(d) ? this.o.store.layerOfPath(d) : /^([a-f0-9]{64})(\/|$)/.exec(d)?.[1] !== undefined ? `sha256:${d.slice(0, 64)}` : undefined))
      .filter((d): d is string => d !== undefined);
    const gc = await this.o.store.gc(inUse, mountedLayers);
    let rootfs = 0;
    let rootfsBytes = 0;
    for (const id of await readdir(this.o.containersDir).catch(() => [] as string[])) {
      if (usage.containers.has(id)) continue;
      const dir = path.join(this.o.containersDir, id);
      rootfsBytes += await treeBytes(dir, mounts.points);
      await releaseRootfsDir(dir);
      rootfs++;
    }
    const after = await treeBytes(storeDir, mounts.points);
    return { ...gc, rootfs, bytesFreed: Math.max(0, before - after) + rootfsBytes };
  }

  /** Checks the high-water mark every periodMs and prunes above it; stop() waits for a prune in progress. */
  start(): Disposable {
    const mark = this.o.highWaterPercent ?? 85;
    const log = this.o.log ?? (() => undefined);
    const used = this.o.usedPercent ?? filesystemUsedPercent;
    let inFlight: Promise<unknown> = Promise.resolve();
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      inFlight = (async () => {
        const pct = await used(this.o.store.dataDir);
        if (pct < mark) return;
        const r = await this.prune();
        log(`image gc: data dir filesystem ${pct.toFixed(1)}% used (high-water mark ${mark}%): ${formatPrune(r)}`);
      })().catch((err: unknown) => log(`image gc failed: ${(err as Error).message}`)).finally(() => { busy = false; });
    }, this.o.periodMs ?? 60_000);
    timer.unref();
    return disposable(async () => {
      clearInterval(timer);
      await inFlight;
    });
  }
}

/** `removed 2 images, 3 layers, 5 blobs, 1 rootfs; freed 1.2 MiB`. */
export function formatPrune(r: PruneResult): string {
  const mib = r.bytesFreed / (1024 * 1024);
  const size = mib >= 1 ? `${mib.toFixed(1)} MiB` : `${Math.round(r.bytesFreed / 1024)} KiB`;
  return `removed ${r.images} image(s), ${r.layers} layer(s), ${r.blobs} blob(s), ${r.rootfs} rootfs dir(s); freed ${size}`;
}
