/**
 * `flotilla get all [-n NS | -A] [-l SELECTOR] [-o ...] [-w]`: the namespaced workload kinds in
 * one output, one table per kind with names written `kind/name` (as `kubectl get all`). Events
 * are left out (`get events` shows them), as are cluster-scoped kinds (nodes, users, ...).
 */
import type { Kind } from '../../api/object.js';
import type { CliContext } from '../context.js';
import { renderGroups, isTableFormat } from '../format/grouped.js';
import { toJson, toYaml, renderList } from '../format/output.js';
import { listMatching, listScope, whereText, type GetOptions } from './get.js';
import { watchChanges, type WatchedKind } from './get-watch.js';

/** What `get all` lists, in this order. */
export const ALL_KINDS: readonly Kind[] = ['Service', 'Task', 'Volume', 'Ingress', 'Config', 'Secret', 'NetworkPolicy'];

/** Runs `get all`. */
export async function getAll(ctx: CliContext, opts: GetOptions): Promise<void> {
  const scope = listScope('Service', opts);
  const lists: WatchedKind[] = [];
  for (const kind of ALL_KINDS) {
    const { items, revision } = await listMatching(ctx, kind, scope);
    lists.push({ kind, initial: items, revision });
  }
  if (opts.watch === true) {
    await watchChanges(ctx, lists, scope, opts);
    return;
  }
  const items = lists.flatMap((l) => l.initial);
  if (opts.output === 'json') ctx.io.out(toJson({ items }));
  else if (opts.output === 'yaml') ctx.io.out(toYaml({ items }));
  else if (opts.output === 'name') ctx.io.out(lists.map((l) => renderList(l.kind, l.initial, 'name', { allNamespaces: false, now: ctx.now() })).join(''));
  else if (isTableFormat(opts.output) && items.length === 0) ctx.io.err(`No resources found${whereText(scope)}.\n`);
  else {
    const groups = lists.map((l) => ({ kind: l.kind, items: l.initial }));
    ctx.io.out(renderGroups(groups, { wide: opts.output === 'wide', allNamespaces: opts.allNamespaces === true, prefixKind: true, now: ctx.now() }));
  }
}
