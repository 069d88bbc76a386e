/**
 * Runs the compose mapping on a fixture file or an inline text, with a fixed environment and
 * the real file system (fixtures' secrets and env files sit beside them).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ValidationError } from '../../src/api/errors.js';
import type { ApiObject } from '../../src/api/object.js';
import { composeToStack, type ComposeStack } from '../../src/compose/stack.js';

export const FIXTURES = path.join(import.meta.dirname, 'fixtures');

/** Maps `text` as if it were `dir/compose.yaml`. */
export function mapText(text: string, opts: { env?: Record<string, string>; dir?: string; stack?: string } = {}): ComposeStack {
  return composeToStack({ text, file: 'compose.yaml', dir: opts.dir ?? FIXTURES, stack: opts.stack ?? 'demo', env: opts.env ?? {}, readFile: (p) => readFileSync(p) });
}

/** Maps a fixture (`voting/compose.yaml`). */
export function mapFixture(rel: string, env: Record<string, string> = {}): ComposeStack {
  const file = path.join(FIXTURES, rel);
  return composeToStack({ text: readFileSync(file, 'utf8'), file: 'compose.yaml', dir: path.dirname(file), stack: 'voting', env, readFile: (p) => readFileSync(p) });
}

/** The error lines a mapping throws (ValidationError issues, formatted). */
export function errorsOf(text: string, opts: { env?: Record<string, string> } = {}): string[] {
  try {
    mapText(text, opts);
  } catch (err) {
    if (err instanceof ValidationError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected the mapping to fail');
}

/** The object of that kind and name. */
export function objectOf(stack: ComposeStack, kind: string, name: string): ApiObject {
  const o = stack.objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (o === undefined) throw new Error(`no ${kind} ${name} in ${stack.objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
}
