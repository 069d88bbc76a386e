/**
 * The lines of `GET /api/v1/watch` (src/server/http/watch.ts) and the objects they keep up to
 * date in the page. Pure: unit-tested in test/dashboard/watch-protocol.test.ts.
 *
 *   {"type":"bookmark","revision":R}                       where the stream is (resume from R)
 *   {"type":"added|modified|deleted","object":{..},"revision":N}
 *   {"type":"error","error":{code,status,message}}          last line of a failed stream
 */
import type { ApiObject } from '../api/object.js';

/** A change of one object. */
export interface WatchChange<T extends ApiObject = ApiObject> {
  type: 'added' | 'modified' | 'deleted';
  object: T;
  revision: number;
}

/** One line of a watch stream. */
export type WatchLine =
  | { type: 'bookmark'; revision: number }
  | WatchChange
  | { type: 'error'; error: { code: string; status: number; message: string } };

/** A line that is not what the watch API sends. */
export class WatchProtocolError extends Error {
  override name = 'WatchProtocolError';
}

/** Parses one line; WatchProtocolError (naming the field) when it is not a watch line. */
export function parseWatchLine(line: string): WatchLine {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    throw new WatchProtocolError(`watch line is not JSON: ${(err as Error).message}: ${line.slice(0, 80)}`);
  }
  const o = v as { type?: unknown; revision?: unknown; object?: unknown; error?: unknown } | null;
  if (typeof o !== 'object' || o === null) throw new WatchProtocolError('watch line: expected an object');
  if (o.type === 'error') {
    const e = (o.error ?? {}) as { code?: unknown; status?: unknown; message?: unknown };
    return { type: 'error', error: { code: typeof e.code === 'string' ? e.code : 'Internal', status: typeof e.status === 'number' ? e.status : 500, message: typeof e.message === 'string' ? e.message : 'watch failed' } };
  }
  if (typeof o.revision !== 'number' || !Number.isSafeInteger(o.revision) || o.revision < 0) throw new WatchProtocolError(`watch line: revision: expected a non-negative integer, found ${JSON.stringify(o.revision)}`);
  if (o.type === 'bookmark') return { type: 'bookmark', revision: o.revision };
  if (o.type !== 'added' && o.type !== 'modified' && o.type !== 'deleted') throw new WatchProtocolError(`watch line: type: expected bookmark, added, modified, deleted or error, found ${JSON.stringify(o.type)}`);
  const obj = o.object as Partial<ApiObject> | null | undefined;
  if (typeof obj !== 'object' || obj === null || typeof obj.metadata !== 'object' || obj.metadata === null || typeof obj.metadata.name !== 'string') {
    throw new WatchProtocolError('watch line: object: expected an object with metadata.name');
  }
  return { type: o.type, object: obj as ApiObject, revision: o.revision };
}

/** `namespace/name`: how the page keys objects of one kind. */
export function objectKey(o: { metadata: { namespace: string; name: string } }): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/**
 * The objects of one kind as the page knows them: a list, then changes. Applying a change is
 * idempotent and never goes back in time (a resumed stream may repeat the last revision).
 */
export class ObjectCollection<T extends ApiObject = ApiObject> {
  private readonly byKey = new Map<string, T>();
  /** Bumped on every change: views memoize on it. */
  version = 0;

  /** Replaces everything (a fresh list). */
  reset(items: readonly T[]): void {
    this.byKey.clear();
    for (const o of items) this.byKey.set(objectKey(o), o);
    this.version++;
  }

  /** Applies one change; false when it changed nothing (older than what is held). */
  apply(ch: WatchChange): boolean {
    const key = objectKey(ch.object);
    const held = this.byKey.get(key);
    if (held !== undefined && held.metadata.revision > ch.revision) return false;
    if (ch.type === 'deleted') {
      if (held === undefined) return false;
      this.byKey.delete(key);
    } else {
      this.byKey.set(key, ch.object as T);
    }
    this.version++;
    return true;
  }

  get(namespace: string, name: string): T | undefined {
    return this.byKey.get(`${namespace}/${name}`);
  }

  values(): T[] {
    return [...this.byKey.values()];
  }

  get size(): number {
    return this.byKey.size;
  }
}
