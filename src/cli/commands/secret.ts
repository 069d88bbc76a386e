/**
 * `flotilla secret create NAME (--from-file F | --from-literal V)... [-n NS]` and
 * `flotilla secret rotate-key`. A file's key is its base name, a literal's `value`; keys must
 * not repeat. Values are read here and sent once; nothing prints them.
 *
 *   create      read files/literals -> Secret {data: base64} -> POST (409 if it exists)
 *   rotate-key  POST /api/v1/secret-key/rotate -> "re-wrapped N secrets under KEK ID (FILE)"
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type { ApiObject } from '../../api/object.js';
import { collect } from '../args.js';
import type { CliClient, CliContext } from '../context.js';
import { UsageError } from '../errors.js';

/** What the secret commands need of the client beyond CliClient (ApiClient has it). */
export interface SecretClient {
  create(obj: ApiObject): Promise<ApiObject>;
  rotateSecretKey(): Promise<{ kek: string; file: string; rewrapped: number }>;
}

function secretClient(c: CliClient): SecretClient {
  const s = c as CliClient & Partial<SecretClient>;
  if (typeof s.create !== 'function' || typeof s.rotateSecretKey !== 'function') throw new UsageError('this client cannot manage secrets');
  return s as CliClient & SecretClient;
}

/** The data of a new secret: key -> base64, from files (base name) and literals (`value`). */
export async function secretData(files: string[], literals: string[]): Promise<Record<string, string>> {
  if (files.length + literals.length === 0) throw new UsageError('secret create: give --from-file FILE or --from-literal VALUE');
  const data: Record<string, string> = {};
  const put = (key: string, value: Buffer, from: string): void => {
    if (data[key] !== undefined) throw new UsageError(`secret create: key "${key}" given twice (${from}); each file's base name and "value" (a literal) must be unique`);
    data[key] = value.toString('base64');
  };
  for (const f of files) {
    let bytes: Buffer;
    try {
      bytes = await readFile(f);
    } catch (err) {
      throw new UsageError(`--from-file ${f}: cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    put(path.basename(f), bytes, `--from-file ${f}`);
  }
  for (const v of literals) put('value', Buffer.from(v, 'utf8'), '--from-literal');
  return data;
}

/** Registers `secret create` and `secret rotate-key`. */
export function registerSecretCommands(program: Command, ctx: CliContext): void {
  const secret = program.command('secret').description('manage secrets');
  secret
    .command('create')
    .description('create a secret from files or literal values (never printed back)')
    .argument('<name>', 'secret name')
    .option('--from-file <file>', 'a file; its base name is the key (repeatable)', collect, [])
    .option('--from-literal <value>', 'a value, key "value" (repeatable)', collect, [])
    .option('-n, --namespace <ns>', 'namespace (default: default)')
    .action(async (name: string, opts: { fromFile: string[]; fromLiteral: string[]; namespace?: string }) => {
      const data = await secretData(opts.fromFile, opts.fromLiteral);
      const obj = { kind: 'Secret', metadata: { name, namespace: opts.namespace ?? 'default', labels: {} }, spec: { data } } as unknown as ApiObject;
      await secretClient(await ctx.client()).create(obj);
      ctx.io.out(`secret/${name} created (${Object.keys(data).sort().join(', ')})\n`);
    });
  secret
    .command('rotate-key')
    .description('re-wrap every secret under a new key-encryption key (the server replaces its KEK file)')
    .action(async () => {
      const r = await secretClient(await ctx.client()).rotateSecretKey();
      ctx.io.out(`re-wrapped ${r.rewrapped} secret(s) under KEK ${r.kek}; the new KEK file is ${r.file} on the server (copy it to every other server of the cluster)\n`);
    });
}
