/**
 * A hand-written in-memory Store for unit tests only (STYLE.md 10: fakes, not mocks). Keeps the
 * Store contract that controllers rely on: global revisions, expected-revision conflicts,
 * all-or-nothing txns with one revision, ordered watches from a revision, GoneError after
 * `compact()`. It also records every write so tests can assert on what a controller did.
 */
import { AlreadyExistsError, ConflictError, GoneError, NotFoundError } from '../../src/api/errors.js';
import { keyOf, keyString, type ApiObject, type Kind, type ObjectKey } from '../../src/api/object.js';
import { matchesSelector, type ListOptions, type ListResult, type Store, type TxnOp, type Watch, type WatchEvent, type WatchHandlers, type WatchOptions } from '../../src/store/store.js';

interface Watcher {
  opts: WatchOptions;
  handlers: WatchHandlers;
  queue: WatchEvent[];
  stopped: boolean;
  flushing: boolean;
}

const clone = <T>(o: T): T => structuredClone(o);

/** The in-memory fake; see the file comment. */
export class MemoryStore implements Store {
  private readonly objects = new Map<string, ApiObject>();
  private readonly history: WatchEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private rev = 0;
  private compactedTo = 0;
  /** Every successful write op, in order (for assertions). */
  readonly writes: TxnOp[] = [];
  /** When set, the next write (txn/update/delete/create) whose ops `when` accepts fails with `error`, once. */
  failNext: { error: Error; when?: (ops: TxnOp[]) => boolean } | undefined;

  async create(obj: ApiObject): Promise<ApiObject> {
    return (await this.txn([{ op: 'create', object: obj }]))[0] as ApiObject;
  }

  async get(key: ObjectKey): Promise<ApiObject | undefined> {
    const o = this.objects.get(keyString(key));
    return o === undefined ? undefined : clone(o);
  }

  async list(kind: Kind, opts: ListOptions = {}): Promise<ListResult> {
    const items = [...this.objects.values()]
      .filter((o) => o.kind === kind && (opts.namespace === undefined || o.metadata.namespace === opts.namespace))
      .filter((o) => matchesSelector(o.metadata.labels, opts.labelSelector))
      .sort((a, b) => keyString(keyOf(a)).localeCompare(keyString(keyOf(b))));
    return { items: items.map(clone), revision: this.rev };
  }

  async update(obj: ApiObject, expectedRevision?: number): Promise<ApiObject> {
    return (await this.txn([{ op: 'update', object: obj, expectedRevision }]))[0] as ApiObject;
  }

  async delete(key: ObjectKey, expectedRevision?: number): Promise<ApiObject> {
    return (await this.txn([{ op: 'delete', key, expectedRevision }]))[0] as ApiObject;
  }

  async txn(ops: TxnOp[]): Promise<ApiObject[]> {
    if (this.failNext !== undefined && (this.failNext.when?.(ops) ?? true)) {
      const e = this.failNext.error;
      this.failNext = undefined;
      throw e;
    }
    this.check(ops);
    const rev = ++this.rev;
    const results: ApiObject[] = [];
    for (const op of ops) {
      if (op.op === 'delete') {
        const k = keyString(op.key);
        const old = this.objects.get(k) as ApiObject;
        this.objects.delete(k);
        this.emit({ type: 'deleted', object: { ...clone(old), metadata: { ...clone(old.metadata), revision: rev } }, revision: rev });
        results.push(clone(old));
      } else {
        const stored = clone(op.object);
        stored.metadata.revision = rev;
        const k = keyString(keyOf(stored));
        const existed = this.objects.has(k);
        this.objects.set(k, stored);
        this.emit({ type: existed ? 'modified' : 'added', object: clone(stored), revision: rev });
        results.push(clone(stored));
      }
      this.writes.push(clone(op));
    }
    return results;
  }

  async watch(opts: WatchOptions, handlers: WatchHandlers): Promise<Watch> {
    const w: Watcher = { opts, handlers, queue: [], stopped: false, flushing: false };
    if (opts.fromRevision !== undefined && opts.fromRevision < this.compactedTo) {
      setImmediate(() => handlers.onError?.(new GoneError(`revision ${opts.fromRevision} was compacted (oldest kept: ${this.compactedTo})`)));
      return { stop: async () => { w.stopped = true; } };
    }
    if (opts.fromRevision !== undefined) w.queue.push(...this.history.filter((e) => e.revision > (opts.fromRevision as number) && this.matches(w, e)));
    this.watchers.add(w);
    this.flush(w);
    return {
      stop: async () => {
        w.stopped = true;
        this.watchers.delete(w);
      },
    };
  }

  async revision(): Promise<number> {
    return this.rev;
  }

  async close(): Promise<void> {
    for (const w of this.watchers) w.stopped = true;
    this.watchers.clear();
  }

  /** Drops history up to `revision`: later watches from older revisions fail with GoneError. */
  compact(revision: number): void {
    this.compactedTo = revision;
    while (this.history.length > 0 && (this.history[0] as WatchEvent).revision <= revision) this.history.shift();
  }

  /** Fails every open watch with `err`, as a lost connection would. */
  breakWatches(err: Error): void {
    for (const w of this.watchers) {
      w.stopped = true;
      w.handlers.onError?.(err);
    }
    this.watchers.clear();
  }

  /** Current objects of a kind, synchronously (for test assertions). */
  snapshot(kind: Kind): ApiObject[] {
    return [...this.objects.values()].filter((o) => o.kind === kind).map(clone);
  }

  private check(ops: TxnOp[]): void {
    for (const op of ops) {
      const key = op.op === 'delete' ? op.key : keyOf(op.object);
      const cur = this.objects.get(keyString(key));
      if (op.op === 'create' && cur !== undefined) throw new AlreadyExistsError(`${keyString(key)} already exists`);
      if (op.op !== 'create' && cur === undefined) throw new NotFoundError(`${keyString(key)} not found`);
      const expected = op.op === 'create' ? undefined : op.expectedRevision;
      if (expected !== undefined && cur !== undefined && cur.metadata.revision !== expected) {
        throw new ConflictError(`${keyString(key)}: expected revision ${expected}, found ${cur.metadata.revision}`);
      }
    }
  }

  private matches(w: Watcher, e: WatchEvent): boolean {
    return (w.opts.kind === undefined || w.opts.kind === e.object.kind) && (w.opts.namespace === undefined || w.opts.namespace === e.object.metadata.namespace);
  }

  private emit(e: WatchEvent): void {
    this.history.push(e);
    for (const w of this.watchers) {
      if (!this.matches(w, e)) continue;
      w.queue.push(clone(e));
      this.flush(w);
    }
  }

  /** Delivers queued events asynchronously, in order, one at a time. */
  private flush(w: Watcher): void {
    if (w.flushing) return;
    w.flushing = true;
    setImmediate(() => {
      w.flushing = false;
      while (!w.stopped && w.queue.length > 0) w.handlers.onEvent(w.queue.shift() as WatchEvent);
    });
  }
}
