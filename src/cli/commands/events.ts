/**
 * `flotilla events [-n NS | -A] [--for KIND/NAME] [--watch] [-o ...]`: the Events of a namespace
 * (or of one object), oldest first and newest last, as `kubectl events` prints them; with
 * --watch it goes on printing a row for each new or counted-again Event until interrupted.
 *
 *   list Event (ns) ──► filter --for ──► table, newest last
 *        │ revision R
 *        └─ --watch ──► watch Event from R ──► added/modified & matches? ──► one row
 */
import { Option, type Command } from 'commander';
import { CLUSTER_SCOPED, type ApiObject } from '../../api/object.js';
import type { EventSpec } from '../../api/kinds.js';
import type { Watch, WatchHandlers, WatchOptions } from '../../store/store.js';
import { namespaceFor, parseKind } from '../args.js';
import type { CliClient, CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { columnsFor, sortForTable } from '../format/columns.js';
import { OUTPUT_FORMATS, renderList, type OutputFormat } from '../format/output.js';
import { untilSignal } from './server.js';

interface EventsOptions {
  namespace?: string;
  allNamespaces?: boolean;
  for?: string;
  watch?: boolean;
  output: OutputFormat;
}

/** What --watch needs of the client beyond CliClient (ApiClient has it). */
interface WatchingClient {
  watch(opts: WatchOptions, handlers: WatchHandlers): Promise<Watch>;
}

/** The object `--for` names. */
export interface Involved {
  kind: string;
  /** "" for cluster-scoped kinds. */
  namespace: string;
  name: string;
}

/** `KIND/NAME` -> the object whose Events to show. */
export function involvedOf(text: string, namespace: string | undefined): Involved {
  const i = text.indexOf('/');
  if (i <= 0 || i === text.length - 1 || text.indexOf('/', i + 1) >= 0) throw new UsageError(`--for ${text}: expected KIND/NAME, e.g. service/web or task/web-1-abc`);
  const kind = parseKind(text.slice(0, i));
  return { kind, namespace: CLUSTER_SCOPED.has(kind) ? '' : namespaceFor(kind, namespace), name: text.slice(i + 1) };
}

/** Whether an Event's `involved` (`Task/default/web-1-abc`, `Node/n1` or `Node//n1`) is `o`. */
export function isAbout(involved: string | undefined, o: Involved): boolean {
  const parts = (involved ?? '').split('/');
  if (parts[0] !== o.kind || parts[parts.length - 1] !== o.name) return false;
  return parts.length === 2 ? o.namespace === '' : parts.length === 3 && parts[1] === o.namespace;
}

/** Events about `o` (every Event when undefined). */
export function eventsFor(items: readonly ApiObject[], o: Involved | undefined): ApiObject[] {
  return o === undefined ? [...items] : items.filter((e) => isAbout((e.spec as Partial<EventSpec>).involved, o));
}

/** One table row (no header) for a watched Event, with the columns of `get events`. */
export function eventRow(e: ApiObject, now: Date, allNamespaces: boolean): string {
  return columnsFor('Event', { wide: false, allNamespaces }).map((c) => c.cell(e, now)).join('   ');
}

/** Registers `events`. */
export function registerEvents(program: Command, ctx: CliContext): void {
  program
    .command('events')
    .description('show what happened to objects (Events), newest last; --watch follows new ones')
    .option('-n, --namespace <ns>', 'namespace (default: default)')
    .option('-A, --all-namespaces', 'Events of every namespace')
    .option('--for <kind/name>', 'only the Events about this object, e.g. service/web, task/web-1-abc, node/n1')
    .option('-w, --watch', 'after the list, print new Events as they come (until Ctrl-C)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .action(async (opts: EventsOptions) => {
      if (opts.allNamespaces === true && opts.namespace !== undefined) throw new UsageError('-n and -A cannot be combined');
      const all = opts.allNamespaces === true;
      const involved = opts.for !== undefined ? involvedOf(opts.for, opts.namespace) : undefined;
      // Events live in the namespace of their object; cluster-scoped objects' Events in "default".
      const namespace = all ? undefined : namespaceFor('Event', opts.namespace);
      const client = await ctx.client();
      const { items, revision } = await client.list('Event', namespace !== undefined ? { namespace } : {});
      const shown = sortForTable('Event', eventsFor(items, involved));
      if (shown.length > 0) ctx.io.out(renderList('Event', shown, opts.output, { allNamespaces: all, now: ctx.now() }));
      else if (opts.watch !== true) ctx.io.err(`No events found${involved !== undefined ? ` for ${opts.for ?? ''}` : ''}${namespace !== undefined ? ` in namespace ${namespace}` : ''}.\n`);
      if (opts.watch === true) await follow(ctx, watchingClient(client), { namespace, revision, involved, all });
    });
}

function watchingClient(c: CliClient): WatchingClient {
  const w = c as CliClient & Partial<WatchingClient>;
  if (typeof w.watch !== 'function') throw new UsageError('this client cannot watch');
  return w as CliClient & WatchingClient;
}

/** Prints a row per new or re-counted Event until SIGINT/SIGTERM or a fatal watch error. */
async function follow(ctx: CliContext, client: WatchingClient, o: { namespace: string | undefined; revision: number; involved: Involved | undefined; all: boolean }): Promise<void> {
  let fail: (err: Error) => void = () => undefined;
  const failed = new Promise<never>((_resolve, reject) => { fail = reject; });
  const watch = await client.watch({ kind: 'Event', fromRevision: o.revision, ...(o.namespace !== undefined ? { namespace: o.namespace } : {}) }, {
    onEvent: (ev) => {
      if (ev.type === 'deleted' || eventsFor([ev.object], o.involved).length === 0) return;
      ctx.io.out(`${eventRow(ev.object, ctx.now(), o.all)}\n`);
    },
    onError: (err) => fail(err),
  });
  try {
    await Promise.race([untilSignal(['SIGINT', 'SIGTERM']), failed]);
  } finally {
    await watch.stop();
  }
}
