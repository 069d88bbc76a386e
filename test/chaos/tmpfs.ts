/**
 * A small tmpfs for the chaos tests: a data dir whose disk can be filled for real (ENOSPC from
 * the kernel, not a fake), and a filler file that takes every free byte and gives them back.
 */
import { execFile } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A mounted tmpfs; `unmount()` is idempotent and also removes the mount point. */
export class Tmpfs {
  private mounted = false;
  private constructor(readonly dir: string) {}

  /** Mounts a tmpfs of `sizeBytes` on a new temp dir. */
  static async mount(sizeBytes: number, prefix = 'flotilla-chaos-tmpfs-'): Promise<Tmpfs> {
    const dir = mkdtempSync(path.join(tmpdir(), prefix));
    const fs = new Tmpfs(dir);
    try {
      await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', dir]);
      fs.mounted = true;
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    return fs;
  }

  /** Free bytes left for files. */
  freeBytes(): number {
    const s = statfsSync(this.dir);
    return s.bavail * s.bsize;
  }

  /**
   * Writes `file` until the kernel answers ENOSPC (1 MiB writes, then 4 KiB ones to take the
   * last pages): afterwards the filesystem has no free block. Returns the bytes written.
   */
  fill(file: string): number {
    const fd = openSync(file, 'a');
    let written = 0;
    try {
      for (const size of [1024 * 1024, 4096, 512]) {
        const buf = Buffer.alloc(size, 0x5a);
        for (;;) {
          try {
            const n = writeSync(fd, buf);
            written += n;
            if (n < size) break;
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw err;
          }
        }
      }
    } finally {
      closeSync(fd);
    }
    return written;
  }

  /** Unmounts (lazily, so a process still holding a file cannot block it) and removes the dir. */
  async unmount(): Promise<void> {
    if (this.mounted) {
      await run('umount', ['-l', this.dir]).catch(() => undefined);
      this.mounted = false;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
