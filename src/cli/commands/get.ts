/**
 * `flotilla get KIND [NAME] [-n NS] [-A] [-l SELECTOR] [-o table|wide|json|yaml]`: one object
 * by name or a list, in the chosen format.
 */
import { Option, type Command } from 'commander';
import { CLUSTER_SCOPED, type Kind } from '../../api/object.js';
import { NotFoundError } from '../../api/errors.js';
import { PLURAL } from '../../api/kind-names.js';
import { namespaceFor, objectKey, parseKind, parseSelector } from '../args.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { OUTPUT_FORMATS, renderList, renderOne, type OutputFormat } from '../format/output.js';

interface GetOptions {
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  output: OutputFormat;
}

/** Registers `get`. */
export function registerGet(program: Command, ctx: CliContext): void {
  program
    .command('get')
    .description('show one object or a list of objects')
    .argument('<kind>', 'kind, singular or plural (service, services, task, node, ...)')
    .argument('[name]', 'object name; omit to list')
    .option('-n, --namespace <ns>', 'namespace (default: default)')
    .option('-A, --all-namespaces', 'list across every namespace')
    .option('-l, --selector <selector>', 'label selector, e.g. app=web,tier=front')
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .action(async (kindArg: string, name: string | undefined, opts: GetOptions) => {
      const kind = parseKind(kindArg);
      if (name !== undefined) await getOne(ctx, kind, name, opts);
      else await getList(ctx, kind, opts);
    });
}

async function getOne(ctx: CliContext, kind: Kind, name: string, opts: GetOptions): Promise<void> {
  if (opts.allNamespaces === true) throw new UsageError('a NAME and -A cannot be combined: give -n NS instead');
  if (opts.selector !== undefined) throw new UsageError('a NAME and -l cannot be combined');
  const key = objectKey(kind, name, opts.namespace);
  const client = await ctx.client();
  const obj = await client.get(key);
  if (obj === undefined) throw notFound(kind, name, key.namespace);
  ctx.io.out(renderOne(obj, opts.output, ctx.now()));
}

async function getList(ctx: CliContext, kind: Kind, opts: GetOptions): Promise<void> {
  const all = opts.allNamespaces === true || CLUSTER_SCOPED.has(kind);
  if (opts.allNamespaces === true && opts.namespace !== undefined) throw new UsageError('-n and -A cannot be combined');
  const labelSelector = opts.selector !== undefined ? parseSelector(opts.selector) : undefined;
  const client = await ctx.client();
  const { items } = await client.list(kind, {
    ...(all ? {} : { namespace: namespaceFor(kind, opts.namespace) }),
    ...(labelSelector !== undefined ? { labelSelector } : {}),
  });
  if (items.length === 0 && (opts.output === 'table' || opts.output === 'wide')) {
    const where = all ? '' : ` in namespace ${namespaceFor(kind, opts.namespace)}`;
    ctx.io.err(`No ${PLURAL[kind]} found${where}.\n`);
    return;
  }
  ctx.io.out(renderList(kind, items, opts.output, { allNamespaces: opts.allNamespaces === true, now: ctx.now() }));
}

/** `service "web" not found in namespace default`. */
export function notFound(kind: Kind, name: string, namespace: string): NotFoundError {
  const where = namespace !== '' ? ` in namespace ${namespace}` : '';
  return new NotFoundError(`${kind.toLowerCase()} "${name}" not found${where}`);
}
