/**
 * An informer keeps a local cache of one kind, fed by list-then-watch (STYLE.md 4): controllers
 * read the cache instead of the store, and its handlers only enqueue keys. When the watch fails
 * (GoneError after compaction, or the store went away) it lists again, diffs the new list
 * against its cache, and tells the handlers what changed while it was not watching.
 */
import { GoneError } from '../../api/errors.js';
import { keyOf, keyString, type ApiObject, type Kind } from '../../api/object.js';
import type { Store, Watch, WatchEvent } from '../../store/store.js';
import { systemClock, type Clock } from './clock.js';

/** Maps an object to the index values it is found under (e.g. a task to its service key). */
export type IndexFunc<T> = (obj: T) => string[];

/** Called on cache changes; must only enqueue work (no I/O, no throwing). */
export interface InformerHandler<T> {
  onAdd?(obj: T): void;
  onUpdate?(old: T, obj: T): void;
  onDelete?(obj: T): void;
}

/** What an informer watches and how it indexes. */
export interface InformerOptions<T> {
  store: Store;
  kind: Kind;
  namespace?: string;
  indexers?: Record<string, IndexFunc<T>>;
  clock?: Clock;
  log?: (msg: string) => void;
  /** Delay before re-listing after an error that is not GoneError. */
  retryDelayMs?: number;
}

interface Waiter {
  cond: () => boolean;
  resolve: (ok: boolean) => void;
}

/** The local cache of one kind; see the file comment. */
export class Informer<T extends ApiObject = ApiObject> {
  private readonly cache = new Map<string, T>();
  private readonly indexes = new Map<string, Map<string, Set<string>>>();
  private readonly handlers = new Set<InformerHandler<T>>();
  private waiters: Waiter[] = [];
  private revision = 0;
  private watch: Watch | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  private wakeLoop: (() => void) | undefined;
  private synced: Promise<void>;
  private markSynced!: () => void;
  private readonly log: (msg: string) => void;

  constructor(private readonly opts: InformerOptions<T>) {
    this.log = opts.log ?? (() => undefined);
    for (const name of Object.keys(opts.indexers ?? {})) this.indexes.set(name, new Map());
    this.synced = new Promise((resolve) => { this.markSynced = resolve; });
  }

  /** Registers a handler; returns a function that removes it. */
  addHandler(h: InformerHandler<T>): () => void {
    this.handlers.add(h);
    return () => this.handlers.delete(h);
  }

  /** Starts list+watch; resolves once the first list is in the cache. */
  start(): Promise<void> {
    this.running ??= this.loop();
    return this.synced;
  }

  /** The cached object under `Kind/namespace/name`. */
  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  /** Every cached object. */
  list(): T[] {
    return [...this.cache.values()];
  }

  /** Cached objects whose indexer returned `value` for index `name`. */
  byIndex(name: string, value: string): T[] {
    const keys = this.indexes.get(name)?.get(value);
    if (keys === undefined) return [];
    return [...keys].map((k) => this.cache.get(k)).filter((o): o is T => o !== undefined);
  }

  /** Highest store revision the cache reflects. */
  lastRevision(): number {
    return this.revision;
  }

  /**
   * Resolves true once `cond()` holds after a cache change, false after `timeoutMs`: lets a
   * controller wait until its own writes are visible before deciding again.
   */
  waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
    if (cond()) return Promise.resolve(true);
    const clock = this.opts.clock ?? systemClock;
    return new Promise((resolve) => {
      const w: Waiter = { cond, resolve: (ok) => { timer.clear(); resolve(ok); } };
      const timer = clock.setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        resolve(false);
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Stops the watch and the loop; idempotent; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.markSynced();
    this.wakeLoop?.();
    const w = this.watch;
    this.watch = undefined;
    await w?.stop();
    await this.running;
    for (const waiter of this.waiters.splice(0)) waiter.resolve(false);
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      let err: Error | undefined;
      try {
        err = await this.listAndWatch();
        failures = 0;
      } catch (e) {
        err = e instanceof Error ? e : new Error(String(e));
      }
      if (this.stopped) break;
      if (err instanceof GoneError) {
        this.log(`informer ${this.opts.kind}: watch history gone, re-listing`);
        continue;
      }
      failures++;
      const delay = Math.min(5_000, (this.opts.retryDelayMs ?? 100) * 2 ** Math.min(failures - 1, 10));
      this.log(`informer ${this.opts.kind}: ${err?.message ?? 'watch ended'}; re-listing in ${delay} ms`);
      await this.pause(delay);
    }
  }

  /** Lists, replaces the cache, watches until the watch fails; returns the watch's error. */
  private async listAndWatch(): Promise<Error | undefined> {
    const { items, revision } = await this.opts.store.list(this.opts.kind, { namespace: this.opts.namespace });
    if (this.stopped) return undefined;
    this.replace(items as T[], revision);
    this.markSynced();
    let fail!: (e: Error) => void;
    const failed = new Promise<Error>((resolve) => { fail = resolve; });
    this.wakeLoop = () => fail(new Error('stopped'));
    const w = await this.opts.store
      .watch(
        { kind: this.opts.kind, namespace: this.opts.namespace, fromRevision: revision },
        { onEvent: (ev) => this.apply(ev), onError: (e) => fail(e) },
      )
      .catch((e: unknown) => {
        fail(e instanceof Error ? e : new Error(String(e)));
        return undefined;
      });
    this.watch = w;
    if (this.stopped) fail(new Error('stopped'));
    const err = await failed;
    this.watch = undefined;
    await w?.stop();
    return err;
  }

  private pause(ms: number): Promise<void> {
    const clock = this.opts.clock ?? systemClock;
    return new Promise((resolve) => {
      const t = clock.setTimeout(resolve, ms);
      this.wakeLoop = () => { t.clear(); resolve(); };
    });
  }

  private replace(items: T[], revision: number): void {
    const seen = new Set<string>();
    for (const obj of items) {
      const key = keyString(keyOf(obj));
      seen.add(key);
      const old = this.cache.get(key);
      if (old === undefined) this.put(key, obj, undefined);
      else if (old.metadata.revision !== obj.metadata.revision) this.put(key, obj, old);
    }
    for (const [key, old] of [...this.cache]) if (!seen.has(key)) this.remove(key, old);
    this.revision = Math.max(this.revision, revision);
    this.checkWaiters();
  }

  private apply(ev: WatchEvent): void {
    if (this.stopped) return;
    const obj = ev.object as T;
    const key = keyString(keyOf(obj));
    if (ev.type === 'deleted') {
      const old = this.cache.get(key);
      if (old !== undefined) this.remove(key, old);
    } else {
      this.put(key, obj, this.cache.get(key));
    }
    this.revision = Math.max(this.revision, ev.revision);
    this.checkWaiters();
  }

  private put(key: string, obj: T, old: T | undefined): void {
    if (old !== undefined) this.unindex(key, old);
    this.cache.set(key, obj);
    this.index(key, obj);
    this.notify((h) => (old === undefined ? h.onAdd?.(obj) : h.onUpdate?.(old, obj)));
  }

  private remove(key: string, old: T): void {
    this.unindex(key, old);
    this.cache.delete(key);
    this.notify((h) => h.onDelete?.(old));
  }

  private notify(call: (h: InformerHandler<T>) => void): void {
    for (const h of this.handlers) {
      try {
        call(h);
      } catch (e) {
        this.log(`informer ${this.opts.kind}: handler failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  private index(key: string, obj: T): void {
    for (const [name, fn] of Object.entries(this.opts.indexers ?? {})) {
      const idx = this.indexes.get(name) as Map<string, Set<string>>;
      for (const v of fn(obj)) {
        let set = idx.get(v);
        if (set === undefined) idx.set(v, (set = new Set()));
        set.add(key);
      }
    }
  }

  private unindex(key: string, obj: T): void {
    for (const [name, fn] of Object.entries(this.opts.indexers ?? {})) {
      const idx = this.indexes.get(name) as Map<string, Set<string>>;
      for (const v of fn(obj)) {
        const set = idx.get(v);
        set?.delete(key);
        if (set?.size === 0) idx.delete(v);
      }
    }
  }

  private checkWaiters(): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.cond()) w.resolve(true);
      else still.push(w);
    }
    this.waiters = still;
  }
}
