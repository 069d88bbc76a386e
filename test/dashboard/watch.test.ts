/**
 * The page's watch client: the line parser and the object collection (src/dashboard/
 * watch-protocol.ts), and LiveCollection (src/dashboard/live.ts) against a fake fetch that
 * serves lists and streamed watch bodies: resume after a drop, relist after 410, 401 ends it,
 * 403 is shown.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiObject } from '../../src/api/object.js';
import { Api } from '../../src/dashboard/api.js';
import { LiveCollection } from '../../src/dashboard/live.js';
import { ObjectCollection, parseWatchLine, WatchProtocolError } from '../../src/dashboard/watch-protocol.js';
import { eventually } from '../helpers/flotilla.js';

function obj(name: string, revision: number, extra: Record<string, unknown> = {}): ApiObject {
  return { kind: 'Task', metadata: { name, namespace: 'default', uid: `u-${name}`, labels: {}, revision, generation: 1, creationTimestamp: '2026-12-04T00:00:00Z' }, spec: extra };
}

describe('dashboard watch lines', () => {
  it('parses bookmarks, changes and errors', () => {
    assert.deepEqual(parseWatchLine('{"type":"bookmark","revision":12}'), { type: 'bookmark', revision: 12 });
    const ch = parseWatchLine(JSON.stringify({ type: 'modified', object: obj('a', 13), revision: 13 }));
    assert.equal(ch.type, 'modified');
    assert.deepEqual(parseWatchLine('{"type":"error","error":{"code":"Gone","status":410,"message":"compacted"}}'), { type: 'error', error: { code: 'Gone', status: 410, message: 'compacted' } });
  });

  it('refuses what the watch API does not send, naming the field', () => {
    assert.throws(() => parseWatchLine('{"type":'), WatchProtocolError);
    assert.throws(() => parseWatchLine('[1]'), /revision: expected a non-negative integer/);
    assert.throws(() => parseWatchLine('{"type":"bookmark","revision":-1}'), /revision/);
    assert.throws(() => parseWatchLine('{"type":"renamed","revision":3}'), /type: expected bookmark/);
    assert.throws(() => parseWatchLine('{"type":"added","revision":3,"object":{"metadata":{}}}'), /object: expected an object with metadata.name/);
  });

  it('a collection applies changes idempotently and never goes back in time', () => {
    const c = new ObjectCollection();
    c.reset([obj('a', 5), obj('b', 6)]);
    assert.equal(c.size, 2);
    assert.equal(c.apply({ type: 'modified', object: obj('a', 4), revision: 4 }), false, 'older than held');
    assert.equal(c.apply({ type: 'modified', object: obj('a', 7, { v: 1 }), revision: 7 }), true);
    assert.equal(c.apply({ type: 'modified', object: obj('a', 7, { v: 1 }), revision: 7 }), true, 'a repeat is harmless');
    assert.deepEqual(c.get('default', 'a')?.spec, { v: 1 });
    assert.equal(c.apply({ type: 'deleted', object: obj('b', 6), revision: 8 }), true);
    assert.equal(c.apply({ type: 'deleted', object: obj('b', 6), revision: 8 }), false, 'already gone');
    assert.deepEqual(c.values().map((o) => o.metadata.name), ['a']);
  });
});

/** A fake server: each request is answered by the next handler; the URLs are recorded. */
class FakeServer {
  readonly urls: string[] = [];
  readonly tokens: string[] = [];
  private readonly streams: Array<ReadableStreamDefaultController<Uint8Array>> = [];
  constructor(readonly answers: Array<(url: string) => Response>) {}

  fetch = async (url: string, init?: RequestInit): Promise<Response> => {
    this.urls.push(url);
    this.tokens.push(String((init?.headers as Record<string, string> | undefined)?.authorization));
    const next = this.answers.shift();
    const signal = init?.signal;
    // Like fetch: an abort rejects a request still waiting for its answer.
    if (next === undefined) return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
    return next(url);
  };

  /** A 200 watch stream; its controller is kept to push more lines or end it. */
  stream(lines: object[], end: boolean): (url: string) => Response {
    return () => {
      const enc = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        start: (c) => {
          this.streams.push(c);
          for (const l of lines) c.enqueue(enc.encode(`${JSON.stringify(l)}\n`));
          if (end) c.close();
        },
      });
      return new Response(body, { status: 200, headers: { 'content-type': 'application/x-ndjson' } });
    };
  }
}

const json = (status: number, body: unknown) => (): Response => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('dashboard LiveCollection', () => {
  it('lists, watches from the list revision, resumes after a drop from before the last event, relists after 410', async () => {
    const server = new FakeServer([]);
    server.answers.push(
      json(200, { items: [obj('a', 3)], revision: 5 }),
      server.stream([{ type: 'bookmark', revision: 5 }, { type: 'modified', object: obj('a', 6, { v: 2 }), revision: 6 }, { type: 'added', object: obj('b', 7), revision: 7 }], true),
      json(410, { code: 'Gone', status: 410, message: 'revision 6 is compacted' }),
      json(200, { items: [obj('b', 7), obj('c', 9)], revision: 9 }),
      server.stream([{ type: 'bookmark', revision: 9 }], false),
    );
    let changes = 0;
    const live = new LiveCollection(new Api('tok', server.fetch), { kind: 'Task', plural: 'tasks', onChange: () => { changes++; }, onUnauthorized: () => assert.fail('no 401 here'), minBackoffMs: 1, maxBackoffMs: 2 }).start();
    try {
      await eventually('the second list', 5_000, async () => (live.items.get('default', 'c') !== undefined && server.urls.length === 5 ? true : undefined));
      assert.deepEqual(server.urls, [
        '/api/v1/tasks',
        '/api/v1/watch?kind=Task&revision=5',
        '/api/v1/watch?kind=Task&revision=6',
        '/api/v1/tasks',
        '/api/v1/watch?kind=Task&revision=9',
      ]);
      assert.ok(server.tokens.every((t) => t === 'Bearer tok'));
      assert.deepEqual(live.items.values().map((o) => o.metadata.name).sort(), ['b', 'c'], 'the relist replaced what was held');
      assert.equal(live.state, 'live');
      assert.ok(changes >= 3);
    } finally {
      await live.stop();
    }
  });

  it('a 401 ends it and asks for a login; a 403 is kept to be shown and retried', async () => {
    let unauthorized = '';
    const s401 = new FakeServer([json(401, { code: 'Unauthorized', status: 401, message: 'unknown token' })]);
    const a = new LiveCollection(new Api('bad', s401.fetch), { kind: 'Node', plural: 'nodes', onChange: () => undefined, onUnauthorized: (e) => { unauthorized = e.message; } }).start();
    await eventually('the 401', 5_000, async () => (unauthorized !== '' ? true : undefined));
    assert.equal(unauthorized, 'unknown token');
    assert.equal(a.state, 'stopped');
    await a.stop();

    const s403 = new FakeServer([json(403, { code: 'Forbidden', status: 403, message: 'user:ann may not list nodes' })]);
    const b = new LiveCollection(new Api('ann', s403.fetch), { kind: 'Node', plural: 'nodes', onChange: () => undefined, onUnauthorized: () => assert.fail('403 is not 401') }).start();
    await eventually('the 403', 5_000, async () => (b.state === 'forbidden' ? true : undefined));
    assert.equal(b.error?.status, 403);
    assert.equal(b.error?.message, 'user:ann may not list nodes');
    await b.stop();
  });

  it('an error line in the stream reconnects; a silent stream is cut after idleMs', async () => {
    const server = new FakeServer([]);
    server.answers.push(
      json(200, { items: [], revision: 1 }),
      server.stream([{ type: 'bookmark', revision: 1 }, { type: 'error', error: { code: 'Unavailable', status: 503, message: 'store down' } }], false),
      server.stream([{ type: 'bookmark', revision: 1 }], false),
      server.stream([{ type: 'bookmark', revision: 1 }, { type: 'added', object: obj('z', 2), revision: 2 }], false),
    );
    const live = new LiveCollection(new Api('tok', server.fetch), { kind: 'Task', plural: 'tasks', onChange: () => undefined, onUnauthorized: () => undefined, minBackoffMs: 1, maxBackoffMs: 2, idleMs: 200 }).start();
    try {
      await eventually('z after the reconnects', 5_000, async () => (live.items.get('default', 'z') !== undefined ? true : undefined));
      assert.equal(live.connects, 3);
    } finally {
      await live.stop();
    }
  });
});
