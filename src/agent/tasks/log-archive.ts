/**
 * Logs outlive their container: `flotilla logs` of a task that ended must still answer while
 * the Task object is kept as history. Before the supervisor removes an ended container (which
 * deletes its log files), its log directory moves into the archive; the archive of a task is
 * deleted once the Task object is gone (or, at start, for every task the server no longer has).
 *
 *   <logDir>/<id>/<id>.log[.N]   live container (the runtime writes, rotates)
 *        | archiveLogs (before runtime.remove)
 *        v
 *   <logDir>/archive/<id>/<id>.log[.N]   read by the agent endpoint
 *        | dropArchivedLogs (Task deleted) / gcArchivedLogs (agent start)
 *        v
 *   (gone)
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { logFiles, readLogFiles } from '../runtime/logs/k8s-log.js';
import type { LogEntry, ReadLogsOptions } from '../runtime/runtime.js';

/** Rotated files looked for in an archive (the runtime keeps 3 by default). */
const ARCHIVE_MAX_FILES = 10;

/** The archive folder of container `id`. */
export function archiveDirOf(logDir: string, id: string): string {
  return path.join(logDir, 'archive', id);
}

/** Moves `<logDir>/<id>` into the archive (replacing an older archive); no-op when there are no logs. */
export async function archiveLogs(logDir: string, id: string): Promise<void> {
  const from = path.join(logDir, id);
  const to = archiveDirOf(logDir, id);
  try {
    await fs.stat(from);
  } catch {
    return;
  }
  await fs.mkdir(path.dirname(to), { recursive: true });
  await fs.rm(to, { recursive: true, force: true });
  await fs.rename(from, to);
}

/** Deletes the archived logs of container `id` (idempotent). */
export async function dropArchivedLogs(logDir: string, id: string): Promise<void> {
  await fs.rm(archiveDirOf(logDir, id), { recursive: true, force: true });
}

/** Deletes every archive whose container id `keep` refuses; returns the ids deleted. */
export async function gcArchivedLogs(logDir: string, keep: (id: string) => boolean): Promise<string[]> {
  const ids = await fs.readdir(path.join(logDir, 'archive')).catch(() => [] as string[]);
  const dropped: string[] = [];
  for (const id of ids) {
    if (keep(id)) continue;
    await dropArchivedLogs(logDir, id);
    dropped.push(id);
  }
  return dropped;
}

/** True when container `id` has archived logs. */
export async function hasArchivedLogs(logDir: string, id: string): Promise<boolean> {
  return (await logFiles(path.join(archiveDirOf(logDir, id), `${id}.log`), ARCHIVE_MAX_FILES)).length > 0;
}

/** Reads archived logs (tail applies; follow ends at once: nothing writes there any more). */
export function readArchivedLogs(logDir: string, id: string, opts: Pick<ReadLogsOptions, 'tail' | 'signal'> = {}): AsyncGenerator<LogEntry> {
  return readLogFiles(path.join(archiveDirOf(logDir, id), `${id}.log`), {
    maxFiles: ARCHIVE_MAX_FILES,
    ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
    ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
  });
}
