/**
 * The thin action half of "decide, then act" (STYLE.md 5): pure compute functions return
 * Actions; `applyActions` writes them in store transactions with expected revisions (a moved
 * revision fails the batch with ConflictError and the runner re-queues the key), and
 * `Expectations` lets the next sync of a key wait until the informers have seen its writes,
 * so a stale cache never makes a controller create the same task twice.
 */
import { keyString, type ApiObject, type Kind, type ObjectKey } from '../../api/object.js';
import type { Store, TxnOp } from '../../store/store.js';

/** One write a controller decided on; `reason` is for logs and tests. */
export type Action =
  | { type: 'create'; object: ApiObject; reason: string }
  | { type: 'update'; object: ApiObject; expectedRevision: number; reason: string }
  | { type: 'delete'; key: ObjectKey; expectedRevision: number; reason: string };

/** etcd refuses transactions above 128 operations by default; stay well below. */
export const MAX_TXN_OPS = 100;

/** What a batch of actions wrote: objects with their new revisions, and keys deleted. */
export interface AppliedWrites {
  written: ApiObject[];
  deleted: ObjectKey[];
}

function toOp(a: Action): TxnOp {
  switch (a.type) {
    case 'create': return { op: 'create', object: a.object };
    case 'update': return { op: 'update', object: a.object, expectedRevision: a.expectedRevision };
    case 'delete': return { op: 'delete', key: a.key, expectedRevision: a.expectedRevision };
  }
}

/** Performs the actions, in order, as transactions of at most MAX_TXN_OPS operations. */
export async function applyActions(store: Store, actions: readonly Action[]): Promise<AppliedWrites> {
  const out: AppliedWrites = { written: [], deleted: [] };
  for (let i = 0; i < actions.length; i += MAX_TXN_OPS) {
    const chunk = actions.slice(i, i + MAX_TXN_OPS);
    const results = await store.txn(chunk.map(toOp));
    chunk.forEach((a, j) => {
      if (a.type === 'delete') out.deleted.push(a.key);
      else if (results[j] !== undefined) out.written.push(results[j]);
    });
  }
  return out;
}

/** What Expectations reads of an informer (narrow, so any Informer<T> fits). */
export interface CacheView {
  get(key: string): unknown;
  lastRevision(): number;
  waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean>;
}

/** Per-key record of writes that the informers must reflect before the key is decided again. */
export class Expectations {
  private readonly pending = new Map<string, AppliedWrites>();

  constructor(private readonly informers: Partial<Record<Kind, CacheView>>) {}

  /** Remembers what a sync of `key` wrote. */
  record(key: string, writes: AppliedWrites): void {
    if (writes.written.length === 0 && writes.deleted.length === 0) this.pending.delete(key);
    else this.pending.set(key, writes);
  }

  /** Waits until every informer shows the key's last writes; false on timeout. */
  async wait(key: string, timeoutMs: number): Promise<boolean> {
    const w = this.pending.get(key);
    if (w === undefined) return true;
    for (const [kind, informer] of Object.entries(this.informers) as Array<[Kind, CacheView]>) {
      const written = w.written.filter((o) => o.kind === kind);
      const deleted = w.deleted.filter((k) => k.kind === kind);
      if (written.length + deleted.length === 0) continue;
      const seen = (): boolean =>
        written.every((o) => informer.lastRevision() >= o.metadata.revision) &&
        deleted.every((k) => informer.get(keyString(k)) === undefined);
      if (!(await informer.waitFor(seen, timeoutMs))) return false;
    }
    this.pending.delete(key);
    return true;
  }
}
