/**
 * The key-encryption key (KEK): 32 random bytes in a 0600 file outside the store (default
 * DATA_DIR/kek, or `--kek-file FILE`), created on the first start. It wraps the data key of
 * every Secret; the store never holds it. During `flotilla secret rotate-key` the next KEK sits
 * beside it in FILE.next until every secret is re-wrapped, then replaces FILE (one rename).
 *
 *   FILE        current KEK (base64 line)
 *   FILE.next   present only while a rotation is under way (or was interrupted)
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Bytes of a KEK (AES-256). */
export const KEK_BYTES = 32;

/** One key-encryption key and its id (stored beside each wrapped data key). */
export interface Kek {
  /** First 16 hex digits of sha256(key): names the KEK without revealing it. */
  id: string;
  key: Buffer;
  /** The file it was read from. */
  file: string;
}

/** The id of a KEK. */
export function kekIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** The file of the next KEK during a rotation. */
export function nextKekFile(file: string): string {
  return `${file}.next`;
}

/** Reads a KEK file; undefined when it does not exist; a clear error when it is malformed. */
export async function readKekFile(file: string): Promise<Kek | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`KEK file ${file}: cannot read it: ${(err as Error).message}`);
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEK_BYTES || key.toString('base64') !== text.trim()) {
    throw new Error(`KEK file ${file}: expected one line of base64 holding ${KEK_BYTES} bytes (found ${key.length} bytes)`);
  }
  return { id: kekIdOf(key), key, file };
}

/** Writes a new random KEK to `file` (0600, fsynced, atomic rename); refuses to overwrite. */
export async function createKekFile(file: string): Promise<Kek> {
  const key = randomBytes(KEK_BYTES);
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await fs.open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(`${key.toString('base64')}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fs.link(tmp, file); // fails if `file` appeared meanwhile: never replace a KEK silently
  } finally {
    await fs.rm(tmp, { force: true });
  }
  await syncDir(path.dirname(file));
  return { id: kekIdOf(key), key, file };
}

/** Makes `next` the current KEK file (atomic rename over `file`). */
export async function promoteKekFile(next: string, file: string): Promise<void> {
  await fs.rename(next, file);
  await syncDir(path.dirname(file));
}

async function syncDir(dir: string): Promise<void> {
  const d = await fs.open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
