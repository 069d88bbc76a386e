/**
 * fdatasync of the SQLite WAL file off the main thread (libuv's thread pool), so the event loop
 * keeps serving requests while a group of commits is flushed to disk.
 *
 * Why this is as durable as `synchronous=FULL`: the connection runs with `synchronous=NORMAL`,
 * under which SQLite writes each commit's WAL frames with write(2) but does not fsync them (it
 * still fsyncs around checkpoints, so the WAL is never reused before the database file holds its
 * pages). FULL differs only by an fsync of the WAL at each commit; here that fsync is ours, on
 * our own descriptor of the same file (fsync flushes the file, whatever descriptor asks), and no
 * write is acknowledged or published before it has completed.
 */
import { closeSync, fdatasync, fstatSync, fsyncSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** Flushes the WAL of one database file to disk, asynchronously. */
export class WalSync {
  private readonly walPath: string;
  private fd: number;
  private ino: number;

  /** `dbPath` is the database file; its `-wal` must exist (the database is open in WAL mode). */
  constructor(dbPath: string) {
    this.walPath = `${dbPath}-wal`;
    this.fd = openSync(this.walPath, 'r');
    this.ino = fstatSync(this.fd).ino;
    // What opening wrote (WAL mode in the header, the schema), and the directory entries of
    // both files, become durable now: SQLite under FULL syncs the directory once, too.
    fsyncSync(this.fd);
    for (const path of [dbPath, dirname(dbPath)]) {
      const fd = openSync(path, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }

  /** Flushes every WAL write made before this call; `done` runs on the event loop afterwards. */
  flush(done: (err: Error | null) => void): void {
    try {
      this.followFile();
    } catch (err) {
      done(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    fdatasync(this.fd, done);
  }

  /** Closes the descriptor. Idempotent. */
  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }

  /** SQLite deletes the WAL only when the last connection closes; should it ever be recreated, follow it. */
  private followFile(): void {
    if (this.fd < 0) throw new Error('WAL sync closed');
    const st = statSync(this.walPath, { throwIfNoEntry: false });
    if (st === undefined) throw new Error(`${this.walPath} disappeared: cannot make commits durable`);
    if (st.ino === this.ino) return;
    closeSync(this.fd);
    this.fd = openSync(this.walPath, 'r');
    this.ino = fstatSync(this.fd).ino;
  }
}
