/**
 * GET /api/v1/watch?kind=K&namespace=NS&revision=R: a store watch streamed as JSON lines.
 *
 *   authorize -> R (or the store's revision now) -> store.watch(from R)
 *   -> hold the answer up to HOLD_MS for an early error (compacted R -> 410 Gone JSON)
 *   -> 200, {"type":"bookmark","revision":R}, then one line per change:
 *      {"type":"added|modified|deleted","object":{...},"revision":N}
 *   -> every bookmark interval {"type":"bookmark","revision":<last delivered>}
 *   -> a later store error: {"type":"error","error":{code,status,message}} and the end
 *   client gone / server stopping -> store watch stopped
 *
 * A caller sees only the objects its authorizer makes visible (RBAC: its collections); an
 * object this stream delivered that moves out of them is sent once more as `deleted` (its key
 * only, not what it became).
 *
 * The bookmark carries the last revision delivered on this stream (not the store's head), so
 * resuming from it never skips a change still in flight.
 */
import type { ServerResponse } from 'node:http';
import { BadRequestError, FlotillaError } from '../../api/errors.js';
import { resolveKind } from '../../api/kind-names.js';
import { CLUSTER_SCOPED, keyOf, keyString, type Kind } from '../../api/object.js';
import { disposable, type Disposable } from '../../lifecycle.js';
import type { Watch, WatchEvent } from '../../store/store.js';
import type { Identity } from '../auth/identity.js';
import { present, revisionParam, type ApiContext } from './context.js';
import { sendError } from './respond.js';

/** How long the answer waits for an immediate store error before committing to 200. */
const HOLD_MS = 50;
/** A client this far behind is cut off; it resumes from its last revision. */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;

/** Serves one watch stream; registers it in `live` until it ends, so the server can stop it. */
export async function serveWatch(ctx: ApiContext, res: ServerResponse, identity: Identity, url: URL, live: Set<Disposable>): Promise<void> {
  const kindName = url.searchParams.get('kind');
  let kind: Kind | undefined;
  if (kindName !== null && kindName !== '') {
    kind = resolveKind(kindName);
    if (kind === undefined) throw new BadRequestError(`unknown kind ${JSON.stringify(kindName)}`);
  }
  const nsParam = url.searchParams.get('namespace');
  const namespace = nsParam === null || nsParam === '' || (kind !== undefined && CLUSTER_SCOPED.has(kind)) ? undefined : nsParam;
  await ctx.authorizer.authorize(identity, { verb: 'watch', kind, namespace });
  const from = revisionParam(url) ?? (await ctx.store.revision());
  const stream = new WatchStream(ctx, res, from, identity);
  const handle = disposable(() => stream.close());
  live.add(handle);
  res.on('close', () => {
    live.delete(handle);
    void handle.stop();
  });
  try {
    stream.watch = await ctx.store.watch({ kind, namespace, fromRevision: from }, { onEvent: (ev) => stream.onEvent(ev), onError: (err) => stream.onError(err) });
  } catch (err) {
    await handle.stop();
    throw err;
  }
  if (stream.closed) await stream.watch.stop();
  await stream.open(ctx.watchBookmarkMs);
}

/** One streaming answer: buffers until open, then writes lines in order. */
class WatchStream {
  watch: Watch | undefined;
  closed = false;
  private opened = false;
  private failed: Error | undefined;
  private pending: string[] = [];
  private lastRevision: number;
  /** Keys of the objects sent to a user on this stream (RBAC: to tell when one leaves its collections). */
  private readonly delivered = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly ctx: ApiContext, private readonly res: ServerResponse, private readonly from: number, private readonly identity: Identity) {
    this.lastRevision = from;
  }

  onEvent(ev: WatchEvent): void {
    const sent = this.filtered(ev);
    if (sent === null) return;
    ev = sent;
    // Decoding may be async (secret decryption): chain to keep revision order.
    this.chain = this.chain.then(async () => {
      if (this.closed) return;
      const object = await present(this.ctx, ev.object);
      this.lastRevision = ev.revision;
      this.write(JSON.stringify({ type: ev.type, object, revision: ev.revision }));
    }).catch((err: unknown) => this.onError(err as Error));
    this.wake?.();
  }

  /**
   * RBAC: objects outside the caller's collections are not sent (bookmarks still move on). An
   * object this stream delivered that leaves them is sent once more, as `deleted`.
   */
  private filtered(ev: WatchEvent): WatchEvent | null {
    const visible = this.ctx.authorizer.visible;
    if (visible === undefined) return ev;
    if (this.identity.kind !== 'user') return visible.call(this.ctx.authorizer, this.identity, 'watch', ev.object) ? ev : null;
    const key = keyString(keyOf(ev.object));
    if (visible.call(this.ctx.authorizer, this.identity, 'watch', ev.object)) {
      if (ev.type === 'deleted') this.delivered.delete(key);
      else this.delivered.add(key);
      return ev;
    }
    if (ev.type === 'deleted' || !this.delivered.delete(key)) return null;
    // Its key only: what it has become is outside the caller's reach.
    const m = ev.object.metadata;
    const tombstone = { kind: ev.object.kind, metadata: { name: m.name, namespace: m.namespace, uid: m.uid, labels: {}, revision: m.revision, generation: m.generation, creationTimestamp: m.creationTimestamp }, spec: {} };
    return { ...ev, type: 'deleted', object: tombstone };
  }

  onError(err: Error): void {
    if (this.closed) return;
    if (!this.opened) {
      this.failed = err;
      this.wake?.();
      return;
    }
    const fe = err instanceof FlotillaError ? err : new FlotillaError(err.message);
    this.chain = this.chain.then(() => {
      this.write(JSON.stringify({ type: 'error', error: fe.toJSON() }));
      this.res.end();
    });
  }

  /** Waits up to HOLD_MS for an early error; then answers 200 or the error. */
  async open(bookmarkMs: number): Promise<void> {
    if (this.failed === undefined && this.pending.length === 0 && !this.closed) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, HOLD_MS);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
    if (this.closed) return;
    if (this.failed !== undefined) {
      sendError(this.res, this.failed, 'watch');
      await this.close();
      return;
    }
    this.res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    this.opened = true;
    // The first line names where the stream starts (events buffered during the hold follow it).
    this.res.write(`${JSON.stringify({ type: 'bookmark', revision: this.from })}\n`);
    for (const line of this.pending) this.res.write(line);
    this.pending = [];
    this.timer = setInterval(() => this.write(JSON.stringify({ type: 'bookmark', revision: this.lastRevision })), bookmarkMs);
  }

  private write(line: string): void {
    if (this.closed) return;
    if (!this.opened) {
      this.pending.push(`${line}\n`);
      return;
    }
    this.res.write(`${line}\n`);
    if (this.res.writableLength > MAX_BUFFERED_BYTES) this.res.destroy();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.wake?.();
    if (!this.res.writableEnded) this.res.end();
    await this.watch?.stop();
  }
}
