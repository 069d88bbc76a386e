/**
 * A Store watch on etcd. The etcd3 library re-attaches a watcher after a lost stream, but it
 * resumes from the last *header* revision it saw, which can lie past events it has not yet
 * delivered (catch-up batches carry the current store revision). So this watch tracks the
 * revision of the last event it delivered and, on every disconnect, rewinds the library's
 * resume point to just after it: nothing is skipped; duplicates are dropped by revision.
 */
import { FlotillaError, GoneError, UnavailableError } from '../../api/errors.js';
import { isKind, type ApiObject } from '../../api/object.js';
import type { Watch, WatchEvent, WatchHandlers, WatchOptions } from '../store.js';
import type { IEvent, IWatchResponse, Watcher } from 'etcd3';
import type { EtcdCaller } from './client.js';
import { decodeObject, type KeyLayout } from './keys.js';

/** What a watch needs from its store. */
export interface WatchContext {
  caller: EtcdCaller;
  keys: KeyLayout;
  /** Give up on the first connection after this long. */
  connectTimeoutMs: number;
}

const STOP_TIMEOUT_MS = 2_000;

/** A running etcd watch that delivers Store events exactly once, in order. */
export class EtcdWatch implements Watch {
  private readonly watcher: Watcher;
  /** Revision of the last event delivered (or the watch's start): resume after it. */
  private lastRevision: number;
  private stopped = false;
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly ctx: WatchContext,
    private readonly opts: WatchOptions,
    private readonly handlers: WatchHandlers,
    fromRevision: number,
    private readonly onStopped: (w: EtcdWatch) => void,
  ) {
    this.lastRevision = fromRevision;
    // Without a kind, the namespace is filtered here: keys are kind-first.
    const scope = ctx.keys.scope(opts.kind, opts.kind === undefined ? undefined : opts.namespace);
    this.watcher = ctx.caller.client.watch().prefix(scope).withPreviousKV().startRevision(String(fromRevision + 1)).watcher();
    this.watcher.on('data', (res) => this.onData(res));
    this.watcher.on('disconnected', () => this.rewind());
    this.watcher.on('error', (err) => this.onCanceled(err));
  }

  /** Starts a watch from `fromRevision` (exclusive) and waits until etcd has accepted it. */
  static async start(ctx: WatchContext, opts: WatchOptions, handlers: WatchHandlers, fromRevision: number, onStopped: (w: EtcdWatch) => void): Promise<EtcdWatch> {
    const w = new EtcdWatch(ctx, opts, handlers, fromRevision, onStopped);
    try {
      await w.connected();
    } catch (err) {
      await w.stop();
      throw err;
    }
    return w;
  }

  /** Idempotent; once it resolves no event is delivered and etcd has dropped the watcher. */
  stop(): Promise<void> {
    this.stopped = true;
    this.stopping ??= this.teardown();
    return this.stopping;
  }

  private connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        done();
        reject(new UnavailableError(`etcd unavailable: watch not established after ${this.ctx.connectTimeoutMs} ms`));
      }, this.ctx.connectTimeoutMs);
      const ok = (): void => {
        done();
        resolve();
      };
      const failed = (err: Error): void => {
        done();
        reject(new FlotillaError(`etcd refused the watch: ${err.message}`));
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
   * Delivers one watch response, skipping what was already delivered. etcd sends the events of
   * one txn together, in op order (sub-revision order), like the SQLite store: kept as is.
   */
  private onData(res: IWatchResponse): void {
    if (this.stopped) return;
    const fresh = res.events.filter((e) => Number(e.kv.mod_revision) > this.lastRevision);
    let last = this.lastRevision;
    for (const e of fresh) {
      const ev = toWatchEvent(e, this.ctx.keys);
      last = ev.revision;
      if (this.opts.namespace !== undefined && ev.object.metadata.namespace !== this.opts.namespace) continue;
      try {
        this.handlers.onEvent(ev);
      } catch (err) {
        this.fail(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (this.stopped) return;
    }
    this.lastRevision = last;
  }

  /** The stream broke: make the library re-attach right after the last delivered event. */
  private rewind(): void {
    this.watcher.request.start_revision = String(this.lastRevision + 1);
  }

  /** etcd canceled the watcher; almost always because our resume revision was compacted. */
  private onCanceled(err: Error): void {
    if (this.stopped) return;
    const at = this.lastRevision + 1;
    this.ctx.caller
      .call('read', 'watch resume check', (deadline) => this.ctx.caller.client.kv.range({ key: this.ctx.keys.probeKey, revision: at }, { deadline }))
      .then(
        () => this.fail(new FlotillaError(`etcd canceled the watch: ${err.message}`)),
        (e: unknown) => this.fail(e instanceof GoneError ? new GoneError(`watch from revision ${at - 1}: history compacted`) : new FlotillaError(`etcd canceled the watch: ${err.message}`)),
      );
  }

  /** Ends the watch with `err` (the store is closing): onError, then no more events. */
  abort(err: Error): Promise<void> {
    this.fail(err);
    return this.stop();
  }

  private fail(err: Error): void {
    if (this.stopped) return;
    void this.stop();
    this.handlers.onError?.(err);
  }

  private async teardown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT_MS)));
    try {
      await Promise.race([this.watcher.cancel().catch(() => undefined), timeout]);
    } finally {
      clearTimeout(timer);
      this.watcher.removeAllListeners('data');
      this.watcher.on('error', () => undefined); // a late cancel must not throw as unhandled 'error'
      this.onStopped(this);
    }
  }
}

/** etcd event -> Store event. A delete carries the last object, stamped with the delete revision. */
function toWatchEvent(e: IEvent, keys: KeyLayout): WatchEvent {
  const revision = Number(e.kv.mod_revision);
  if (e.type === 'Delete') {
    const object = e.prev_kv?.value !== undefined && e.prev_kv.value.length > 0 ? decodeObject(e.prev_kv.value, revision) : stubFromKey(e.kv.key, keys, revision);
    return { type: 'deleted', object, revision };
  }
  const type = e.kv.create_revision === e.kv.mod_revision ? 'added' : 'modified';
  return { type, object: decodeObject(e.kv.value, revision), revision };
}

/** Only when etcd could not give the previous value: an object with just its identity. */
function stubFromKey(key: Buffer, keys: KeyLayout, revision: number): ApiObject {
  const [kind = '', namespace = '', name = ''] = key.toString('utf8').slice(keys.objectsPrefix.length).split('/');
  return {
    kind: isKind(kind) ? kind : 'Event',
    metadata: { name, namespace, uid: '', labels: {}, revision, generation: 0, creationTimestamp: '' },
    spec: {},
  };
}
