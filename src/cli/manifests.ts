/**
 * Reads `-f FILE|-` for apply and delete: the whole text, then parsed and validated locally
 * with the API's own parser, so a bad document is refused before anything reaches the server.
 */
import { readFile } from 'node:fs/promises';
import { parseManifests } from '../api/manifest.js';
import type { ApiObject } from '../api/object.js';
import type { CliContext } from './context.js';
import { UsageError } from './errors.js';

/** Reads and validates every document of FILE (or stdin for `-`); throws ValidationError listing all issues. */
export async function readManifests(file: string, ctx: CliContext): Promise<ApiObject[]> {
  const text = file === '-' ? await ctx.io.readStdin() : await readText(file);
  const objects = parseManifests(text, file);
  if (objects.length === 0) throw new UsageError(`${file}: no objects found`);
  return objects;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT') throw new UsageError(`${file}: no such file`);
    if (code === 'EISDIR') throw new UsageError(`${file}: is a directory, expected a YAML file`);
    if (code === 'EACCES') throw new UsageError(`${file}: permission denied`);
    throw err;
  }
}
