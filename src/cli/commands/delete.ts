/**
 * `flotilla delete KIND NAME` and `flotilla delete -f FILE`: deletes by key; every object that
 * is missing is reported on its own line, and the exit status is non-zero if any failed.
 */
import type { Command } from 'commander';
import { NotFoundError } from '../../api/errors.js';
import type { ObjectKey } from '../../api/object.js';
import { displayName, objectKey, parseKind } from '../args.js';
import type { CliContext } from '../context.js';
import { MultiError, UsageError } from '../errors.js';
import { readManifests } from '../manifests.js';
import { notFound } from './get.js';

interface DeleteOptions {
  filename?: string;
  namespace?: string;
}

/** Registers `delete`. */
export function registerDelete(program: Command, ctx: CliContext): void {
  program
    .command('delete')
    .description('delete an object by kind and name, or every object of a file')
    .argument('[kind]', 'kind, singular or plural')
    .argument('[name]', 'object name')
    .option('-f, --filename <file>', 'YAML file (or - for stdin) whose objects to delete')
    .option('-n, --namespace <ns>', 'namespace (default: default)')
    .action(async (kindArg: string | undefined, name: string | undefined, opts: DeleteOptions) => {
      const keys = await keysToDelete(ctx, kindArg, name, opts);
      await deleteAll(ctx, keys);
    });
}

async function keysToDelete(ctx: CliContext, kindArg: string | undefined, name: string | undefined, opts: DeleteOptions): Promise<ObjectKey[]> {
  if (opts.filename !== undefined) {
    if (kindArg !== undefined) throw new UsageError('give either KIND NAME or -f FILE, not both');
    const objects = await readManifests(opts.filename, ctx);
    return objects.map((o) => ({ kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name }));
  }
  if (kindArg === undefined) throw new UsageError('delete needs KIND NAME or -f FILE');
  const kind = parseKind(kindArg);
  if (name === undefined) throw new UsageError(`delete ${kindArg} needs a NAME`);
  return [objectKey(kind, name, opts.namespace)];
}

async function deleteAll(ctx: CliContext, keys: ObjectKey[]): Promise<void> {
  const client = await ctx.client();
  const failures: unknown[] = [];
  for (const key of keys) {
    try {
      await client.delete(key);
      ctx.io.out(`${displayName(key)} deleted\n`);
    } catch (err) {
      failures.push(err instanceof NotFoundError ? notFound(key.kind, key.name, key.namespace) : err);
    }
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new MultiError(failures);
}
