/**
 * `flotilla get KIND [NAME] [-n NS] [-A] [-l SELECTOR] [-o table|wide|json|yaml|name] [-w]`:
 * one object by name or a list, in the chosen format; `get all` lists every namespaced kind
 * (get-all.ts); `--watch` keeps printing one line per change (get-watch.ts).
 */
import { Option, type Command } from 'commander';
import { CLUSTER_SCOPED, type ApiObject, type Kind } from '../../api/object.js';
import { NotFoundError } from '../../api/errors.js';
import { PLURAL } from '../../api/kind-names.js';
import { namespaceFor, objectKey, parseKind } from '../args.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { OUTPUT_FORMATS, renderList, renderOne, type OutputFormat } from '../format/output.js';
import { parseSelector, SelectorSyntaxError, type Selector } from '../../api/label-selector.js';
import { getAll } from './get-all.js';
import { watchChanges } from './get-watch.js';

/** The options of `get`. */
export interface GetOptions {
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  output: OutputFormat;
  watch?: boolean;
}

/** Where a listing looks: one namespace, or every one (undefined). */
export interface ListScope {
  namespace: string | undefined;
  selector: Selector | undefined;
}

/** Registers `get`. */
export function registerGet(program: Command, ctx: CliContext): void {
  program
    .command('get')
    .description('show one object or a list of objects')
    .argument('<kind>', 'kind, singular or plural (service, services, task, node, ...), or all')
    .argument('[name]', 'object name; omit to list')
    .option('-n, --namespace <ns>', 'namespace (default: default)')
    .option('-A, --all-namespaces', 'list across every namespace')
    .option('-l, --selector <selector>', 'label selector: app=web,tier!=front,canary,!legacy')
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .option('-w, --watch', 'after the list, print a line per change until Ctrl-C')
    .action(async (kindArg: string, name: string | undefined, opts: GetOptions) => {
      if (kindArg.toLowerCase() === 'all') {
        if (name !== undefined) throw new UsageError('get all takes no NAME: give a kind, e.g. get service NAME');
        await getAll(ctx, opts);
        return;
      }
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
  if (opts.watch === true) {
    await watchChanges(ctx, [{ kind, initial: [obj], revision: obj.metadata.revision }], { namespace: key.namespace, selector: undefined }, opts, name);
    return;
  }
  ctx.io.out(renderOne(obj, opts.output, ctx.now()));
}

async function getList(ctx: CliContext, kind: Kind, opts: GetOptions): Promise<void> {
  const scope = listScope(kind, opts);
  const { items, revision } = await listMatching(ctx, kind, scope);
  if (opts.watch === true) {
    await watchChanges(ctx, [{ kind, initial: items, revision }], scope, opts);
    return;
  }
  if (items.length === 0 && !isStructured(opts.output)) {
    ctx.io.err(`No ${PLURAL[kind]} found${whereText(scope)}.\n`);
    return;
  }
  ctx.io.out(renderList(kind, items, opts.output, tableOptions(ctx, opts)));
}

/** The scope of a listing from -n, -A and -l; refuses contradictory flags. */
export function listScope(kind: Kind, opts: { namespace?: string; allNamespaces?: boolean; selector?: string }): ListScope {
  if (opts.allNamespaces === true && opts.namespace !== undefined) throw new UsageError('-n and -A cannot be combined');
  const all = opts.allNamespaces === true || CLUSTER_SCOPED.has(kind);
  return {
    namespace: all ? undefined : namespaceFor(kind, opts.namespace),
    selector: opts.selector !== undefined ? selectorArg(opts.selector) : undefined,
  };
}

/** `-l TEXT` parsed; a syntax error is a usage error naming the flag. */
function selectorArg(text: string): Selector {
  try {
    return parseSelector(text);
  } catch (err) {
    if (err instanceof SelectorSyntaxError) throw new UsageError(`-l ${text}: ${err.message}`);
    throw err;
  }
}

/**
 * Lists a kind in a scope: equality terms filtered by the server, the others (`!=`, `key`,
 * `!key`) here.
 */
export async function listMatching(ctx: CliContext, kind: Kind, scope: ListScope): Promise<{ items: ApiObject[]; revision: number }> {
  const client = await ctx.client();
  const sel = scope.selector;
  const { items, revision } = await client.list(kind, {
    ...(scope.namespace !== undefined ? { namespace: scope.namespace } : {}),
    ...(sel !== undefined && Object.keys(sel.equality).length > 0 ? { labelSelector: sel.equality } : {}),
  });
  return { items: sel === undefined ? items : items.filter((o) => sel.matches(o.metadata.labels)), revision };
}

/** ` in namespace default`: where an empty listing looked. */
export function whereText(scope: ListScope): string {
  return scope.namespace !== undefined && scope.namespace !== '' ? ` in namespace ${scope.namespace}` : '';
}

/** Formats that print something (an empty list) even when nothing matched. */
function isStructured(format: OutputFormat): boolean {
  return format === 'json' || format === 'yaml';
}

/** Table options of a get run. */
function tableOptions(ctx: CliContext, opts: GetOptions): { allNamespaces: boolean; now: Date } {
  return { allNamespaces: opts.allNamespaces === true, now: ctx.now() };
}

/** `service "web" not found in namespace default`. */
export function notFound(kind: Kind, name: string, namespace: string): NotFoundError {
  const where = namespace !== '' ? ` in namespace ${namespace}` : '';
  return new NotFoundError(`${kind.toLowerCase()} "${name}" not found${where}`);
}
