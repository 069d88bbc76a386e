/**
 * Size-based rotation of container logs written by conmon. conmon's own `--log-size-max`
 * truncates (drops the file), so the agent rotates instead: shift `x.log.N`, rename `x.log` to
 * `x.log.1` (conmon keeps writing into it: nothing is lost), then ask conmon through its `ctl`
 * fifo to reopen its log, which creates a fresh `x.log`. conmon's size cap stays as a backstop
 * for while the agent is down.
 */
import { constants } from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { disposable, sleep, type Disposable } from '../../../lifecycle.js';

/** conmon's control message "reopen log files" (REOPEN_LOGS_EVENT = 2). */
const REOPEN_LOGS = '2 0 0\n';

/** One log to keep within bounds. */
export interface RotationTarget {
  logPath: string;
  /** conmon's control fifo (`<bundle>/ctl`). */
  ctlPath: string;
  maxBytes: number;
  maxFiles: number;
}

/** Rotates `t` when its current file is over `maxBytes`; true when it rotated. */
export async function rotateIfNeeded(t: RotationTarget): Promise<boolean> {
  const st = await stat(t.logPath).catch(() => undefined);
  if (st === undefined || st.size <= t.maxBytes) return false;
  const keep = Math.max(t.maxFiles, 1) - 1; // rotated files kept besides the current one
  await unlink(`${t.logPath}.${Math.max(keep, 1)}`).catch(() => undefined);
  for (let i = keep - 1; i >= 1; i--) {
    await rename(`${t.logPath}.${i}`, `${t.logPath}.${i + 1}`).catch(() => undefined);
  }
  await rename(t.logPath, `${t.logPath}.1`);
  const reopened = await askReopen(t.ctlPath);
  if (keep === 0 && reopened) await unlink(`${t.logPath}.1`).catch(() => undefined);
  return true;
}

/** Writes the reopen message without blocking: no reader (conmon gone) is not an error. */
async function askReopen(ctlPath: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(ctlPath, constants.O_WRONLY | constants.O_NONBLOCK);
    await fh.write(REOPEN_LOGS);
    return true;
  } catch {
    return false;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Checks every target every `intervalMs` until stopped. */
export function startLogRotation(
  targets: () => Promise<RotationTarget[]>, intervalMs: number, onError: (err: unknown) => void,
): Disposable {
  const abort = new AbortController();
  const loop = (async () => {
    while (!abort.signal.aborted) {
      try {
        for (const t of await targets()) await rotateIfNeeded(t);
      } catch (err) {
        onError(err);
      }
      await sleep(intervalMs, abort.signal);
    }
  })();
  return disposable(async () => {
    abort.abort();
    await loop;
  });
}
