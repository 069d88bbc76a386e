/**
 * Exclusive ownership of a data dir: one server per DATA_DIR. The lock is a file created with
 * O_EXCL holding the owner's PID. A lock whose PID is dead is stale and taken over; a lock of a
 * live PID refuses the start with a message naming the dir and the PID.
 *
 *   create DATA_DIR/server.lock (O_EXCL) --ok--> held
 *        | EEXIST
 *        v
 *   read PID --alive (and not a lock this process already released)--> refuse
 *        | dead / unreadable
 *        v
 *   remove, create again (once)
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { FlotillaError } from '../api/errors.js';
import { disposable, type Disposable } from '../lifecycle.js';

/** Another live process holds the data dir. */
export class DataDirLockedError extends FlotillaError {
  override readonly status = 409;
  override readonly code = 'DataDirLocked';
}

/** Lock files this process holds right now (a PID reused from a crashed earlier run is not us). */
const heldHere = new Set<string>();

/** Takes the lock of dataDir; stop() releases it (idempotent). */
export async function lockDataDir(dataDir: string): Promise<Disposable> {
  const file = path.join(dataDir, 'server.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await fs.open(file, 'wx', 0o644);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      heldHere.add(file);
      return disposable(async () => {
        heldHere.delete(file);
        await fs.rm(file, { force: true });
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number.parseInt((await fs.readFile(file, 'utf8').catch(() => '')).trim(), 10);
    const live = Number.isInteger(pid) && pid > 0 && (pid !== process.pid || heldHere.has(file)) && pidAlive(pid);
    if (live) {
      throw new DataDirLockedError(`data dir ${dataDir} is in use by another flotilla server (PID ${pid}, lock file ${file}); stop it first or use another --data-dir`);
    }
    await fs.rm(file, { force: true });
  }
  throw new DataDirLockedError(`data dir ${dataDir}: could not take the lock ${file} (another server is starting at the same time?)`);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
