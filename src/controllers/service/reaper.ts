/**
 * The task reaper's decision (STYLE.md 3: the controller marks, the reaper deletes): keeps at
 * most HISTORY_LIMIT ended tasks per slot (per node for global services) and deletes the
 * rest; deletes the tasks of a deleted service once they ended, and at once when no node ever
 * held them. Pure; the loop around it is in controller.ts.
 */
import type { Service, Task } from '../../api/kinds.js';
import { keyOf } from '../../api/object.js';
import type { Action } from '../framework/apply.js';
import { isDesiredRunning, isForeign, isTerminal, stateSince } from './tasks.js';

/** Ended tasks kept per slot (or node) as history. */
export const HISTORY_LIMIT = 5;

function del(t: Task, reason: string): Action {
  return { type: 'delete', key: keyOf(t), expectedRevision: t.metadata.revision, reason };
}

/** Deletions for one service's tasks; `service` undefined when the service is gone. */
export function computeReap(service: Service | undefined, tasks: readonly Task[]): Action[] {
  const out: Action[] = [];
  const history = new Map<string, Task[]>();
  for (const t of tasks) {
    const orphaned = service === undefined || isForeign(t, service);
    if (orphaned) {
      if (isTerminal(t) || t.spec.node === '') out.push(del(t, service === undefined ? 'service deleted' : 'service re-created'));
      continue;
    }
    if (isDesiredRunning(t) || !isTerminal(t)) continue;
    const unit = t.spec.slot > 0 ? `slot/${t.spec.slot}` : `node/${t.spec.node}`;
    const list = history.get(unit) ?? [];
    list.push(t);
    history.set(unit, list);
  }
  for (const list of history.values()) {
    if (list.length <= HISTORY_LIMIT) continue;
    list.sort((a, b) => stateSince(b) - stateSince(a) || b.metadata.name.localeCompare(a.metadata.name));
    for (const t of list.slice(HISTORY_LIMIT)) out.push(del(t, `history over ${HISTORY_LIMIT}`));
  }
  return out;
}
