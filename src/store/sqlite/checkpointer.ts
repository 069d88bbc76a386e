/**
 * WAL checkpoints off the main thread. SQLite's auto-checkpoint runs inside the COMMIT that
 * pushes the WAL past 1,000 pages, on the connection's thread: an fsync of the WAL, the pages
 * copied into the database file, an fsync of the database. For the server that is the event
 * loop, blocked 80-125 ms every 1-2 s at 1,000 writes/s on this machine (strace of the bench
 * server: fsync(wal), fsync(db), fsync(wal) on the main thread). So the store's connection turns
 * auto-checkpoint off and a worker thread with its own connection to the same file runs
 * `PRAGMA wal_checkpoint(PASSIVE)` every `intervalMs`:
 *
 *   main thread:   commit ─ commit ─ commit ─ ...          (wal_autocheckpoint = 0)
 *   worker thread: every intervalMs: wal_checkpoint(PASSIVE)  (never blocks the writer)
 *
 * Durability is SQLite's own: a checkpoint by any connection fsyncs the WAL before it copies
 * frames and the database before the WAL may be reused (synchronous is not OFF on the worker's
 * connection), and the writer restarts the WAL from its start only after a checkpoint copied
 * every frame. Should the worker fail, the store turns auto-checkpoint back on.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Default pause between two checkpoints of the worker. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 200;

// The worker's code, CommonJS (eval). It loads better-sqlite3 from the path the main thread
// resolved, checkpoints on a timer, and closes its connection when told to stop.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const step = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
let timer;
const tick = () => {
  try {
    step.get();
  } catch (err) {
    // SQLITE_BUSY (another checkpoint or a restart in progress): try again next time.
    if (!(err && err.code === 'SQLITE_BUSY')) throw err;
  }
  timer = setTimeout(tick, workerData.intervalMs);
};
timer = setTimeout(tick, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
`;

/** Runs checkpoints of one database file in a worker thread until stopped. */
export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private stopping: Promise<void> | undefined;

  /**
   * @param dbPath the database file (open in WAL mode by the caller)
   * @param onFailure called once if the worker dies with an error (turn auto-checkpoint back on)
   */
  constructor(dbPath: string, onFailure: (err: Error) => void, intervalMs = DEFAULT_CHECKPOINT_INTERVAL_MS) {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, path: dbPath, intervalMs } });
    // The worker must not keep a process alive that has nothing else to do.
    this.worker.unref();
    let failed = false;
    this.worker.on('error', (err) => {
      if (failed || this.stopping !== undefined) return;
      failed = true;
      onFailure(err);
    });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
  }

  /** Stops the timer, closes the worker's connection and waits for the thread to end. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.worker.postMessage('stop');
      const kill = setTimeout(() => void this.worker.terminate(), 5_000);
      await this.exited;
      clearTimeout(kill);
    })();
    return this.stopping;
  }
}
