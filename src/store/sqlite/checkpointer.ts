/**
 * WAL checkpoints off the main thread. SQLite's auto-checkpoint runs inside the COMMIT that
 * pushes the WAL past 1,000 pages, on the connection's thread: an fsync of the WAL, the pages
 * copied into the database file, an fsync of the database. For the server that is the event
 * loop, blocked 80-125 ms every 1-2 s at 1,000 writes/s on this machine (strace of the bench
 * server: fsync(wal), fsync(db), fsync(wal) on the main thread). So the store's connection turns
 * auto-checkpoint off and a worker thread with its own connection to the same file runs
 * `PRAGMA wal_checkpoint(PASSIVE)` when the store has published `everyEvents` events since the
 * last one (about as often as SQLite's 1,000-page threshold would: a checkpoint every 200 ms
 * instead copied the same hot pages five to ten times as often and cost more CPU than it saved
 * on a saturated machine), and at least every `idleMs` if anything was written:
 *
 *   main thread:   commit ─ commit ─ ... (wal_autocheckpoint = 0) ── note(events) ─┐ postMessage
 *   worker thread:                      wal_checkpoint(PASSIVE) <───────────────────┘ (never blocks the writer)
 *
 * Durability is SQLite's own: a checkpoint by any connection fsyncs the WAL before it copies
 * frames and the database before the WAL may be reused (synchronous is not OFF on the worker's
 * connection), and the writer restarts the WAL from its start only after a checkpoint copied
 * every frame. Should the worker fail, the store turns auto-checkpoint back on.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Store events (about one per written object) between two checkpoints. */
export const DEFAULT_CHECKPOINT_EVERY_EVENTS = 1000;
/** A WAL with fewer events than that is checkpointed after this long all the same. */
export const DEFAULT_CHECKPOINT_IDLE_MS = 5_000;

// The worker's code, CommonJS (eval). It loads better-sqlite3 from the path the main thread
// resolved, checkpoints when told to, and closes its connection when told to stop.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const step = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
parentPort.on('message', (m) => {
  if (m === 'checkpoint') {
    try {
      step.get();
    } catch (err) {
      // SQLITE_BUSY (a restart of the WAL in progress): the next request tries again.
      if (!(err && err.code === 'SQLITE_BUSY')) throw err;
    }
    parentPort.postMessage('done');
  } else if (m === 'stop') {
    db.close();
    parentPort.close();
  }
});
`;

/** Runs checkpoints of one database file in a worker thread until stopped. */
export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private stopping: Promise<void> | undefined;
  private events = 0;
  private inFlight = false;
  private readonly idleTimer: NodeJS.Timeout;
  /** Checkpoints the worker has finished (for tests). */
  checkpoints = 0;

  /**
   * @param dbPath the database file (open in WAL mode by the caller)
   * @param onFailure called once if the worker dies with an error (turn auto-checkpoint back on)
   */
  constructor(
    dbPath: string,
    onFailure: (err: Error) => void,
    private readonly everyEvents = DEFAULT_CHECKPOINT_EVERY_EVENTS,
    idleMs = DEFAULT_CHECKPOINT_IDLE_MS,
  ) {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, path: dbPath } });
    this.worker.on('message', () => {
      this.inFlight = false;
      this.checkpoints++;
    });
    this.idleTimer = setInterval(() => {
      if (this.events > 0) this.request();
    }, idleMs);
    this.idleTimer.unref();
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

  /** The store published `n` more events (committed writes): checkpoint once enough have piled up. */
  note(n: number): void {
    this.events += n;
    if (this.events >= this.everyEvents) this.request();
  }

  private request(): void {
    if (this.inFlight || this.stopping !== undefined) return;
    this.inFlight = true;
    this.events = 0;
    this.worker.postMessage('checkpoint');
  }

  /** Stops the timer, closes the worker's connection and waits for the thread to end. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.idleTimer);
      this.worker.postMessage('stop');
      const kill = setTimeout(() => void this.worker.terminate(), 5_000);
      await this.exited;
      clearTimeout(kill);
    })();
    return this.stopping;
  }
}
