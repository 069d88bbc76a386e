/**
 * `flotilla delete KIND NAME`, `flotilla delete KIND -l SELECTOR [-A]` and `flotilla delete -f
 * FILE`: deletes by key; every object that is missing is reported on its own line, and the exit
 * status is non-zero if any failed.
 */
import type { Command } from 'commander';
import { NotFoundError } from '../../api/errors.js';
import { PLURAL } from '../../api/kind-names.js';
import { keyOf, type Kind, type ObjectKey } from '../../api/object.js';
import { displayName, objectKey, parseKind } from '../args.js';
import type { CliContext } from '../context.js';
import { MultiError, UsageError } from '../errors.js';
import { sortForTable } from '../format/columns.js';
import { readManifests } from '../manifests.js';
import { listMatching, listScope, notFound, whereText } from './get.js';

interface DeleteOptions {
  filename?: string;
  namespace?: string;
  selector?: string;
  allNamespaces?: boolean;
}

/** Registers `delete`. */
export function registerDelete(program: Command, ctx: CliContext): void {
  program
    .command('delete')
    .description('delete an object by kind and name, the objects a label selector matches, or every object of a file')
    .argument('[kind]', 'kind, singular or plural')
    .argument('[name]', 'object name')
    .option('-f, --filename <file>', 'YAML file (or - for stdin) whose objects to delete')
    .option('-n, --namespace <ns>', 'namespace (default: default)')
    .option('-l, --selector <selector>', 'delete every object of KIND whose labels match, e.g. app=web')
    .option('-A, --all-namespaces', 'with -l: in every namespace')
    .action(async (kindArg: string | undefined, name: string | undefined, opts: DeleteOptions) => {
      const keys = await keysToDelete(ctx, kindArg, name, opts);
      await deleteAll(ctx, keys);
    });
}

async function keysToDelete(ctx: CliContext, kindArg: string | undefined, name: string | undefined, opts: DeleteOptions): Promise<ObjectKey[]> {
  if (opts.filename !== undefined) {
    if (kindArg !== undefined || opts.selector !== undefined) throw new UsageError('give either KIND NAME, KIND -l SELECTOR or -f FILE, not two of them');
    const objects = await readManifests(opts.filename, ctx);
    return objects.map((o) => ({ kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name }));
  }
  if (kindArg === undefined) throw new UsageError('delete needs KIND NAME or -f FILE');
  const kind = parseKind(kindArg);
  if (opts.selector !== undefined) {
    if (name !== undefined) throw new UsageError('a NAME and -l cannot be combined');
    return keysBySelector(ctx, kind, opts);
  }
  if (opts.allNamespaces === true) throw new UsageError('-A needs -l SELECTOR');
  if (name === undefined) throw new UsageError(`delete ${kindArg} needs a NAME or -l SELECTOR`);
  return [objectKey(kind, name, opts.namespace)];
}

/** The keys of every object of `kind` that the selector matches; none is not an error (as kubectl). */
async function keysBySelector(ctx: CliContext, kind: Kind, opts: DeleteOptions): Promise<ObjectKey[]> {
  const scope = listScope(kind, opts);
  const { items } = await listMatching(ctx, kind, scope);
  if (items.length === 0) ctx.io.err(`No ${PLURAL[kind]} match -l ${opts.selector ?? ''}${whereText(scope)}: nothing deleted.\n`);
  return sortForTable(kind, items).map((o) => keyOf(o));
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
