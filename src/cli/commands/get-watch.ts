/**
 * `get --watch`: prints what the list showed, then one line per change from the watch API
 * (GET /api/v1/watch, started at the list's revision so nothing is missed or repeated) until
 * SIGINT or SIGTERM (exit 0) or until the watch fails (its error, exit 1).
 *
 *   table/wide  the table, then one aligned row per change ("(deleted)" after a removed one)
 *   name        kind/name per object, then per change
 *   json        JSON lines: {"items":[...]} on one line, then {"type":..., "object":...} per change
 *   yaml        the list document, then a `---` document {type, object} per change
 *
 * With -l, an object that stops matching is reported as deleted (it left the selection).
 */
import { keyOf, keyString, type ApiObject, type Kind } from '../../api/object.js';
import { PLURAL } from '../../api/kind-names.js';
import type { Watch, WatchEvent, WatchHandlers, WatchOptions } from '../../store/store.js';
import type { CliClient, CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { changeRow, isTableFormat, renderGroups, tableCells, type GroupTableOptions, type TableCells } from '../format/grouped.js';
import { nameLine, renderList, toYaml } from '../format/output.js';
import type { GetOptions, ListScope } from './get.js';

/** What `get --watch` needs of the client beyond CliClient (ApiClient has it). */
export interface WatchClient {
  watch(opts: WatchOptions, handlers: WatchHandlers): Promise<Watch>;
}

/** One kind being watched: what its list showed, and the revision that list is consistent with. */
export interface WatchedKind {
  kind: Kind;
  initial: ApiObject[];
  revision: number;
}

function watchClient(c: CliClient): WatchClient {
  const w = c as CliClient & Partial<WatchClient>;
  if (typeof w.watch !== 'function') throw new UsageError('this client cannot watch');
  return w as CliClient & WatchClient;
}

/** Prints the lists, then every change until interrupted; see the module comment. */
export async function watchChanges(ctx: CliContext, kinds: WatchedKind[], scope: ListScope, opts: GetOptions, name?: string): Promise<void> {
  const client = watchClient(await ctx.client());
  const tableOpts: GroupTableOptions = { wide: opts.output === 'wide', allNamespaces: opts.allNamespaces === true, prefixKind: kinds.length > 1, now: ctx.now() };
  const bases = printInitial(ctx, kinds, scope, opts, tableOpts);
  const seen = new Set(kinds.flatMap((k) => k.initial.map((o) => keyString(keyOf(o)))));
  const print = (type: WatchEvent['type'], o: ApiObject): void => ctx.io.out(changeText(type, o, opts, bases.get(o.kind), ctx.now()));
  const onEvent = (ev: WatchEvent): void => {
    const o = ev.object;
    if (name !== undefined && o.metadata.name !== name) return;
    if (scope.namespace !== undefined && o.metadata.namespace !== scope.namespace) return;
    const key = keyString(keyOf(o));
    const inSelection = scope.selector?.matches(o.metadata.labels) ?? true;
    if (ev.type === 'deleted') {
      if (seen.delete(key) || inSelection) print('deleted', o);
    } else if (inSelection) {
      seen.add(key);
      print(ev.type, o);
    } else if (seen.delete(key)) {
      print('deleted', o);
    }
  };
  let fail: (err: Error) => void = () => undefined;
  const failed = new Promise<Error>((resolve) => (fail = resolve));
  const watches: Watch[] = [];
  const interrupt = interruption();
  try {
    for (const k of kinds) {
      const wopts: WatchOptions = { kind: k.kind, fromRevision: k.revision, ...(scope.namespace !== undefined ? { namespace: scope.namespace } : {}) };
      watches.push(await client.watch(wopts, { onEvent, onError: fail }));
    }
    const outcome = await Promise.race([interrupt.signalled, failed]);
    if (outcome instanceof Error) throw outcome;
  } finally {
    interrupt.dispose();
    await Promise.all(watches.map((w) => w.stop()));
  }
}

/** Prints what the lists showed; returns each kind's table cells (for aligned change rows). */
function printInitial(ctx: CliContext, kinds: WatchedKind[], scope: ListScope, opts: GetOptions, tableOpts: GroupTableOptions): Map<Kind, TableCells> {
  const bases = new Map<Kind, TableCells>();
  const all = kinds.flatMap((k) => k.initial);
  if (opts.output === 'json') ctx.io.out(`${JSON.stringify({ items: all })}\n`);
  else if (opts.output === 'yaml') ctx.io.out(toYaml({ items: all }));
  else if (opts.output === 'name') ctx.io.out(kinds.map((k) => renderList(k.kind, k.initial, 'name', tableOpts)).join(''));
  if (!isTableFormat(opts.output)) return bases;
  for (const k of kinds) bases.set(k.kind, tableCells(k.kind, k.initial, tableOpts));
  if (all.length > 0) ctx.io.out(renderGroups(kinds.map((k) => ({ kind: k.kind, items: k.initial })), tableOpts));
  else {
    const what = kinds.length === 1 ? PLURAL[(kinds[0] as WatchedKind).kind] : 'resources';
    const where = scope.namespace !== undefined && scope.namespace !== '' ? ` in namespace ${scope.namespace}` : '';
    ctx.io.err(`No ${what} found${where}; watching for changes (Ctrl-C to stop).\n`);
  }
  return bases;
}

function changeText(type: WatchEvent['type'], o: ApiObject, opts: GetOptions, base: TableCells | undefined, now: Date): string {
  switch (opts.output) {
    case 'json': return `${JSON.stringify({ type, object: o })}\n`;
    case 'yaml': return `---\n${toYaml({ type, object: o })}`;
    case 'name': return `${nameLine(o)}\n`;
    default: {
      const row = base !== undefined ? changeRow(base, o, now) : nameLine(o);
      return `${row}${type === 'deleted' ? '   (deleted)' : ''}\n`;
    }
  }
}

/** `signalled` resolves on the first SIGINT or SIGTERM; dispose() removes the handlers. */
function interruption(): { signalled: Promise<void>; dispose(): void } {
  let handler: () => void = () => undefined;
  const signalled = new Promise<void>((resolve) => (handler = () => resolve()));
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signalled,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
