/**
 * Reads container logs in conmon's "k8s-file" format (`<RFC3339> <stdout|stderr> <F|P> <text>`,
 * P = partial line continued by the next record of the same stream), across rotated files
 * (`x.log.N` oldest ... `x.log.1`, `x.log` newest), with tail and follow.
 */
import { createReadStream } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { sleep } from '../../../lifecycle.js';
import type { LogEntry } from '../runtime.js';

/** One record as written by conmon, before partial lines are joined. */
export interface K8sRecord { time: string; stream: 'stdout' | 'stderr'; partial: boolean; text: string }

/** Parses one line of a k8s-file log; undefined for a line that is not a record. */
export function parseK8sLine(line: string): K8sRecord | undefined {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  if (a < 0 || b < 0) return undefined;
  const stream = line.slice(a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const c = line.indexOf(' ', b + 1);
  const tags = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  const text = c < 0 ? '' : line.slice(c + 1);
  return { time: line.slice(0, a), stream, partial: tags.split(':').includes('P'), text };
}

/** Joins partial records into whole lines, per stream. */
export class LineAssembler {
  private readonly pending: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };

  push(rec: K8sRecord): LogEntry | undefined {
    if (rec.partial) {
      this.pending[rec.stream] += rec.text;
      return undefined;
    }
    const line = this.pending[rec.stream] + rec.text;
    this.pending[rec.stream] = '';
    return { stream: rec.stream, line, time: rec.time };
  }
}

/** The log files of a container, oldest first, that exist now. */
export async function logFiles(base: string, maxFiles: number): Promise<string[]> {
  const files: string[] = [];
  for (let i = Math.max(maxFiles, 1) + 1; i >= 1; i--) {
    if (await exists(`${base}.${i}`)) files.push(`${base}.${i}`);
  }
  if (await exists(base)) files.push(base);
  return files;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function* readWholeFile(path: string, skipIno: number | undefined, asm: LineAssembler): AsyncGenerator<LogEntry> {
  let st;
  try {
    st = await stat(path);
  } catch {
    return;
  }
  if (st.ino === skipIno) return;
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of rl) {
    const rec = parseK8sLine(line);
    const entry = rec === undefined ? undefined : asm.push(rec);
    if (entry !== undefined) yield entry;
  }
}

/** Options of `readLogFiles`. */
export interface ReadLogFilesOptions {
  maxFiles: number;
  tail?: number;
  follow?: boolean;
  signal?: AbortSignal;
  /** How often follow looks for new output (default 100 ms). */
  pollMs?: number;
  /** Follow stops once this returns true and the file is drained (container gone). */
  isFinished?: () => Promise<boolean>;
}

/** Reads a container's log: rotated files, then the current file, then (follow) what comes. */
export async function* readLogFiles(base: string, opts: ReadLogFilesOptions): AsyncGenerator<LogEntry> {
  const asm = new LineAssembler();
  const current = await openIfExists(base);
  const currentIno = current === undefined ? undefined : (await current.stat()).ino;
  const tail = opts.tail !== undefined ? new TailBuffer(opts.tail) : undefined;
  try {
    const rotated = (await logFiles(base, opts.maxFiles)).filter((f) => f !== base);
    for (const f of rotated) {
      for await (const e of readWholeFile(f, currentIno, asm)) {
        if (tail !== undefined) tail.push(e);
        else yield e;
      }
    }
    const follower = new FileFollower(base, current, asm);
    for (const e of await follower.readAvailable()) {
      if (tail !== undefined) tail.push(e);
      else yield e;
    }
    if (tail !== undefined) yield* tail.drain();
    if (opts.follow !== true) return await follower.close();
    yield* followLoop(follower, opts);
  } finally {
    await current?.close().catch(() => undefined);
  }
}

async function* followLoop(follower: FileFollower, opts: ReadLogFilesOptions): AsyncGenerator<LogEntry> {
  try {
    while (opts.signal?.aborted !== true) {
      const batch = await follower.readAvailable();
      yield* batch;
      if (batch.length > 0) continue;
      if (opts.isFinished !== undefined && await opts.isFinished()) {
        yield* await follower.readAvailable();
        return;
      }
      await sleep(opts.pollMs ?? 100, opts.signal);
    }
  } finally {
    await follower.close();
  }
}

async function openIfExists(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r');
  } catch {
    return undefined;
  }
}

/** Keeps the last N entries. */
class TailBuffer {
  private readonly items: LogEntry[] = [];
  constructor(private readonly n: number) {}
  push(e: LogEntry): void {
    if (this.n <= 0) return;
    this.items.push(e);
    if (this.items.length > this.n) this.items.shift();
  }
  drain(): LogEntry[] {
    return this.items.splice(0);
  }
}

/** Reads a growing file by fd; moves to the new file when the path is rotated away. */
class FileFollower {
  private offset = 0;
  private rest = '';
  private ownsHandle = false;

  constructor(private readonly path: string, private fh: FileHandle | undefined, private readonly asm: LineAssembler) {}

  async readAvailable(): Promise<LogEntry[]> {
    const out: LogEntry[] = [];
    if (this.fh === undefined) await this.reopen();
    if (this.fh === undefined) return out;
    this.drain(await this.readToEnd(), out);
    const atPath = await stat(this.path).catch(() => undefined);
    const mine = await this.fh.stat();
    if (atPath !== undefined && atPath.ino !== mine.ino) {
      this.drain(await this.readToEnd(), out);
      await this.reopen();
      if (this.fh !== undefined) this.drain(await this.readToEnd(), out);
    } else if (atPath !== undefined && atPath.size < this.offset) {
      this.offset = 0; // truncated in place (conmon's own size cap)
    }
    return out;
  }

  private async readToEnd(): Promise<string> {
    if (this.fh === undefined) return '';
    const chunks: Buffer[] = [];
    for (;;) {
      const buf = Buffer.alloc(64 * 1024);
      const { bytesRead } = await this.fh.read(buf, 0, buf.length, this.offset);
      if (bytesRead === 0) break;
      this.offset += bytesRead;
      chunks.push(buf.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private drain(text: string, out: LogEntry[]): void {
    const all = this.rest + text;
    const lines = all.split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) {
      const rec = parseK8sLine(line);
      const e = rec === undefined ? undefined : this.asm.push(rec);
      if (e !== undefined) out.push(e);
    }
  }

  private async reopen(): Promise<void> {
    if (this.fh !== undefined && this.ownsHandle) await this.fh.close().catch(() => undefined);
    this.fh = await openIfExists(this.path);
    this.ownsHandle = true;
    this.offset = 0;
    this.rest = '';
  }

  async close(): Promise<void> {
    if (this.ownsHandle) await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
  }
}
