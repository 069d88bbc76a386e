/**
 * The DiskPressure condition (src/api/node-conditions.ts): is the agent's data dir (images,
 * layers, container root filesystems, logs, its own state) nearly full? The agent checks the
 * free space of that filesystem (statfs) every few seconds and reports
 *
 *   status true,  reason LowDiskSpace:  "data dir /var/lib/flotilla has 1.2MiB free of 64MiB (below 16MiB): no new tasks until space is freed"
 *   status false, reason DiskSpaceOk:   "data dir /var/lib/flotilla has 48MiB free of 64MiB"
 *
 * Pressure below max(10% of the filesystem, 16 MiB) available, as the kubelet's default hard
 * eviction threshold (nodefs.available < 10%). While it holds the scheduler gives the node no new
 * task; the running ones stay (no eviction). The agent's state files are written to a temporary
 * name and renamed, so a full disk leaves the previous version whole.
 */
import { statfs } from 'node:fs/promises';
import type { NodeCondition } from '../../api/kinds.js';
import { DISK_PRESSURE } from '../../api/node-conditions.js';
import { disposable, type Disposable } from '../../lifecycle.js';

/** Below this share of the filesystem available: pressure. */
export const DISK_PRESSURE_RATIO = 0.1;
/** ... or below this many bytes available, whichever is larger. */
export const DISK_PRESSURE_MIN_FREE_BYTES = 16 * 1024 * 1024;

/** `1.2MiB`, `512KiB`, `0 bytes`. */
export function formatBytes(n: number): string {
  if (n <= 0) return '0 bytes';
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} bytes` : `${Number(v.toFixed(1))}${units[i]}`;
}

/** The condition for `availableBytes` free of `totalBytes` in `dir` (pure). */
export function diskCondition(dir: string, availableBytes: number, totalBytes: number): NodeCondition {
  const threshold = Math.max(DISK_PRESSURE_MIN_FREE_BYTES, Math.floor(totalBytes * DISK_PRESSURE_RATIO));
  const has = `data dir ${dir} has ${formatBytes(availableBytes)} free of ${formatBytes(totalBytes)}`;
  if (availableBytes < threshold) return { type: DISK_PRESSURE, status: true, reason: 'LowDiskSpace', message: `${has} (below ${formatBytes(threshold)}): no new tasks until space is freed` };
  return { type: DISK_PRESSURE, status: false, reason: 'DiskSpaceOk', message: has };
}

/** Checks the filesystem of `dir` once. */
export async function checkDisk(dir: string): Promise<NodeCondition> {
  const s = await statfs(dir);
  return diskCondition(dir, s.bavail * s.bsize, s.blocks * s.bsize);
}

/** Keeps the condition up to date; `current()` is what registration reports. */
export interface DiskConditionWatch extends Disposable {
  current(): NodeCondition;
}

/** Checks at start and every `periodMs` (default 5 s); logs every change of status. */
export async function watchDiskCondition(dir: string, log: (l: string) => void, periodMs = 5_000): Promise<DiskConditionWatch> {
  const stamp = (c: NodeCondition): NodeCondition => ({ ...c, lastTransitionTime: new Date().toISOString() });
  let cur = stamp(await checkDisk(dir));
  const say = (c: NodeCondition): void => log(c.status ? `disk pressure: ${c.message ?? ''}` : `disk ok: ${c.message ?? ''}`);
  if (cur.status) say(cur);
  let inFlight: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    inFlight = checkDisk(dir).then((next) => {
      if (next.status !== cur.status) {
        cur = stamp(next);
        say(cur);
      } else {
        cur = { ...next, ...(cur.lastTransitionTime !== undefined ? { lastTransitionTime: cur.lastTransitionTime } : {}) };
      }
    }, (err: unknown) => log(`disk check of ${dir} failed: ${(err as Error).message}`));
  }, periodMs);
  timer.unref();
  const stopper = disposable(async () => {
    clearInterval(timer);
    await inFlight;
  });
  return { current: () => cur, stop: () => stopper.stop() };
}
