/**
 * Store watches on etcd. Watches of one scope (kind, kind+namespace, or everything) that start
 * at or after where a running etcd watcher already is share that watcher: etcd sends each event
 * once and it is fanned out here (100 watchers = 1 etcd watcher, not 100 event streams).
 *
 * Exactly once across reconnects: the etcd3 library re-attaches a watcher after a lost stream,
 * but resumes from the last *header* revision it saw, which can lie past events it has not yet
 * delivered (replay batches carry the current store revision). So each stream tracks the
 * revision of the last event it delivered and, on every disconnect, rewinds the library's resume
 * point to just after it; events at or below it are dropped.
 */
import { FlotillaError, GoneError, UnavailableError } from '../../api/errors.js';
import type { Watch, WatchEvent, WatchHandlers, WatchOptions } from '../store.js';
import type { IEvent, IWatchResponse, Watcher } from 'etcd3';
import type { EtcdCaller } from './client.js';
import { decodeObject, stubFromKey, type KeyLayout } from './keys.js';

/** What watches need from their store. */
export interface WatchContext {
  caller: EtcdCaller;
  keys: KeyLayout;
  /** Give up on the first connection after this long. */
  connectTimeoutMs: number;
}

const STOP_TIMEOUT_MS = 2_000;

/** Owns the shared etcd watchers of one store; hands out Store watches. */
export class WatchHub {
  private readonly streams = new Map<string, Set<EtcdWatchStream>>();
  private closed = false;

  constructor(private readonly ctx: WatchContext) {}

  /** A Store watch delivering changes after `fromRevision`, on a shared stream when one fits. */
  async watch(opts: WatchOptions, handlers: WatchHandlers, fromRevision: number): Promise<Watch> {
    if (this.closed) throw new UnavailableError('etcd store closed');
    // Without a kind, the namespace is filtered per subscriber: keys are kind-first.
    const scope = this.ctx.keys.scope(opts.kind, opts.kind === undefined ? undefined : opts.namespace);
    let set = this.streams.get(scope);
    if (set === undefined) this.streams.set(scope, (set = new Set()));
    let stream = [...set].find((s) => s.canJoin(fromRevision));
    if (stream === undefined) {
      const own = new EtcdWatchStream(this.ctx, scope, fromRevision, () => {
        set.delete(own);
        if (set.size === 0 && this.streams.get(scope) === set) this.streams.delete(scope);
      });
      set.add(own);
      stream = own;
    }
    const sub = new Subscriber(stream, opts, handlers, fromRevision);
    stream.add(sub);
    try {
      await stream.ready;
    } catch (err) {
      await sub.stop();
      throw err;
    }
    return sub;
  }

  /** Ends every watch with `err` and waits until the etcd watchers are gone. */
  async close(err: Error): Promise<void> {
    this.closed = true;
    const all = [...this.streams.values()].flatMap((set) => [...set]);
    await Promise.all(all.map((s) => s.failAll(err)));
  }
}

/** One Store watch: filters the shared stream by revision and namespace, calls the handlers. */
class Subscriber implements Watch {
  private stopped = false;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly stream: EtcdWatchStream,
    private readonly opts: WatchOptions,
    private readonly handlers: WatchHandlers,
    private readonly fromRevision: number,
  ) {}

  /** Delivers one event; a fresh object per subscriber (handlers may mutate what they get). */
  deliver(e: IEvent, revision: number, namespace: string | undefined): void {
    if (this.stopped || revision <= this.fromRevision) return;
    if (this.opts.namespace !== undefined && namespace !== this.opts.namespace) return;
    try {
      this.handlers.onEvent(toWatchEvent(e, revision, this.stream.keys));
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Fatal for this watch: onError once, then nothing more. */
  fail(err: Error): void {
    if (this.stopped) return;
    void this.stop();
    this.handlers.onError?.(err);
  }

  /** Idempotent; once it resolves no event is delivered (and an unused etcd watcher is canceled). */
  stop(): Promise<void> {
    this.stopped = true;
    this.stopping ??= this.stream.remove(this);
    return this.stopping;
  }
}

/** One etcd watcher on a prefix, gap-free from its start revision, fanned out to subscribers. */
class EtcdWatchStream {
  readonly keys: KeyLayout;
  /** Resolves once etcd accepted the watcher; rejects with UnavailableError on timeout. */
  readonly ready: Promise<void>;
  private readonly watcher: Watcher;
  private readonly subs = new Set<Subscriber>();
  /** Revision of the last event delivered (or the start): resume after it. */
  private lastRevision: number;
  private dead = false;
  private teardownDone: Promise<void> | undefined;

  constructor(
    private readonly ctx: WatchContext,
    private readonly scope: string,
    fromRevision: number,
    private readonly onDead: () => void,
  ) {
    this.keys = ctx.keys;
    this.lastRevision = fromRevision;
    this.watcher = ctx.caller.client.watch().prefix(scope).withPreviousKV().startRevision(String(fromRevision + 1)).watcher();
    this.watcher.on('data', (res) => this.onData(res));
    this.watcher.on('disconnected', () => this.rewind());
    this.watcher.on('error', (err) => this.onCanceled(err));
    this.ready = this.connected();
    this.ready.catch(() => undefined); // observed by every subscriber that awaits it
  }

  /** A watch from `from` may share this stream if it has not delivered anything after `from`. */
  canJoin(from: number): boolean {
    return !this.dead && from >= this.lastRevision;
  }

  add(sub: Subscriber): void {
    this.subs.add(sub);
  }

  /** Drops a subscriber; the last one out cancels the etcd watcher and waits for it. */
  remove(sub: Subscriber): Promise<void> {
    this.subs.delete(sub);
    return this.subs.size === 0 ? this.teardown() : Promise.resolve();
  }

  /** Ends every subscriber with `err` (compaction, store closed) and the watcher with them. */
  failAll(err: Error): Promise<void> {
    this.dead = true;
    for (const s of [...this.subs]) s.fail(err);
    return this.teardown();
  }

  private connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        done();
        reject(new UnavailableError(`etcd unavailable: watch on ${this.scope} not established after ${this.ctx.connectTimeoutMs} ms`));
      }, this.ctx.connectTimeoutMs);
      const ok = (): void => {
        done();
        resolve();
      };
      const failed = (err: Error): void => {
        done();
        reject(new FlotillaError(`etcd refused the watch on ${this.scope}: ${err.message}`));
      };
      const done = (): void => {
        clearTimeout(timer);
        this.watcher.off('connected', ok);
        this.watcher.off('error', failed);
      };
      this.watcher.on('connected', ok);
      this.watcher.on('error', failed);
    });
  }

  /**
   * Fans out one watch response, skipping what was already delivered. etcd sends the events of
   * one txn together, in op order (sub-revision order), like the SQLite store: kept as is.
   */
  private onData(res: IWatchResponse): void {
    if (this.dead) return;
    let last = this.lastRevision;
    for (const e of res.events) {
      const revision = Number(e.kv.mod_revision);
      if (revision <= this.lastRevision) continue;
      last = revision;
      const namespace = namespaceOf(e.kv.key, this.keys);
      for (const s of [...this.subs]) s.deliver(e, revision, namespace);
    }
    this.lastRevision = last;
  }

  /** The stream broke: make the library re-attach right after the last delivered event. */
  private rewind(): void {
    this.watcher.request.start_revision = String(this.lastRevision + 1);
  }

  /** etcd canceled the watcher; almost always because the resume revision was compacted. */
  private onCanceled(err: Error): void {
    if (this.dead) return;
    this.dead = true;
    const at = this.lastRevision + 1;
    const kv = this.ctx.caller.client.kv;
    this.ctx.caller.call('read', 'watch resume check', (deadline) => kv.range({ key: this.keys.probeKey, revision: at }, { deadline })).then(
      () => this.failAll(new FlotillaError(`etcd canceled the watch: ${err.message}`)),
      (e: unknown) => this.failAll(e instanceof GoneError ? new GoneError(`watch from revision ${at - 1}: history compacted`) : new FlotillaError(`etcd canceled the watch: ${err.message}`)),
    );
  }

  private teardown(): Promise<void> {
    this.dead = true;
    this.teardownDone ??= (async () => {
      this.onDead();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT_MS)));
      try {
        await Promise.race([this.watcher.cancel().catch(() => undefined), timeout]);
      } finally {
        clearTimeout(timer);
        this.watcher.removeAllListeners('data');
        this.watcher.on('error', () => undefined); // a late cancel must not throw as unhandled 'error'
      }
    })();
    return this.teardownDone;
  }
}

/** The namespace segment of an object key (`PREFIX/objects/Kind/ns/name`). */
function namespaceOf(key: Buffer, keys: KeyLayout): string | undefined {
  return key.toString('utf8', keys.objectsPrefix.length).split('/')[1];
}

/** etcd event -> Store event. A delete carries the last object, stamped with the delete revision. */
function toWatchEvent(e: IEvent, revision: number, keys: KeyLayout): WatchEvent {
  if (e.type === 'Delete') {
    const prev = e.prev_kv?.value;
    const object = prev !== undefined && prev.length > 0 ? decodeObject(prev, revision) : stubFromKey(e.kv.key, keys, revision);
    return { type: 'deleted', object, revision };
  }
  const type = e.kv.create_revision === e.kv.mod_revision ? 'added' : 'modified';
  return { type, object: decodeObject(e.kv.value, revision), revision };
}
