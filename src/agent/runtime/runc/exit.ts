/**
 * Learns how a container ended from the files its conmon monitor leaves: `<exitDir>/<id>`
 * (exit code), `<bundle>/oom` (OOM event seen). Works the same for containers started by an
 * earlier agent process: nothing is held in memory. The first answer is saved as exit.json,
 * so it stays the same after runc's state and cgroup are gone.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { constants } from 'node:os';
import { sleep } from '../../../lifecycle.js';
import type { ExitInfo } from '../runtime.js';
import type { BundleLayout } from './bundle.js';
import { readOomKills } from './cgroups.js';
import { CONMON_FILES } from './conmon.js';

const signalByNumber = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);

/** The signal an exit code of 128+N stands for. */
export function signalOfExitCode(code: number): NodeJS.Signals | undefined {
  return code > 128 && code < 128 + 65 ? signalByNumber.get(code - 128) : undefined;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** The exit of a container whose monitor has written one, else undefined. */
export async function readExit(layout: BundleLayout, id: string, cgroupsPath: string): Promise<ExitInfo | undefined> {
  const saved = await layout.readJson<ExitInfo>(id, 'exit.json');
  if (saved !== undefined) return saved;
  let text: string;
  let finishedAt: string;
  try {
    text = (await readFile(layout.exitFile(id), 'utf8')).trim();
    finishedAt = (await stat(layout.exitFile(id))).mtime.toISOString();
  } catch {
    return undefined;
  }
  const exitCode = Number.parseInt(text, 10);
  const oomKilled = await exists(layout.file(id, CONMON_FILES.oom)) || (await readOomKills(cgroupsPath)) > 0;
  const signal = signalOfExitCode(exitCode);
  const info: ExitInfo = { exitCode: Number.isNaN(exitCode) ? 255 : exitCode, oomKilled, finishedAt, ...(signal ? { signal } : {}) };
  await layout.writeJson(id, 'exit.json', info).catch(() => undefined);
  return info;
}

/** True while the conmon that monitors `id` runs (checked by PID and command name). */
export async function monitorAlive(layout: BundleLayout, id: string): Promise<boolean | undefined> {
  let pid: number;
  try {
    pid = Number.parseInt(await readFile(layout.file(id, CONMON_FILES.conmonPid), 'utf8'), 10);
  } catch {
    return undefined; // never started
  }
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.includes('(conmon)') && !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** The PID of the container's monitor, when one was started. */
export async function monitorPid(layout: BundleLayout, id: string): Promise<number | undefined> {
  try {
    return Number.parseInt(await readFile(layout.file(id, CONMON_FILES.conmonPid), 'utf8'), 10);
  } catch {
    return undefined;
  }
}

/**
 * Resolves once the exit file of `id` exists (fs watch on the exit dir, with a poll as
 * fallback). Gives up with a "monitor lost" exit when conmon died without writing one, and
 * with undefined when `gone()` says the container was removed or the signal aborts.
 */
export async function waitForExit(
  layout: BundleLayout, id: string, cgroupsPath: string,
  opts: { pollMs?: number; signal?: AbortSignal; gone?: () => Promise<boolean> } = {},
): Promise<ExitInfo | undefined> {
  let wake = new AbortController();
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(layout.exitDir, (_event, name) => {
      if (name === id) wake.abort();
    });
    watcher.on('error', () => undefined);
  } catch {
    watcher = undefined; // poll only
  }
  const onAbort = (): void => wake.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let lostChecks = 0;
    for (;;) {
      const info = await readExit(layout, id, cgroupsPath);
      if (info !== undefined) return info;
      if (opts.signal?.aborted === true) return undefined;
      if (opts.gone !== undefined && await opts.gone()) return undefined;
      // conmon writes the exit file just before it ends: only a dead monitor seen twice is lost.
      lostChecks = (await monitorAlive(layout, id)) === false ? lostChecks + 1 : 0;
      if (lostChecks >= 2) {
        return { exitCode: 255, oomKilled: false, finishedAt: new Date().toISOString(), message: 'container monitor (conmon) died without recording an exit code' };
      }
      await sleep(opts.pollMs ?? 250, wake.signal);
      if (wake.signal.aborted) wake = new AbortController();
    }
  } finally {
    watcher?.close();
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
