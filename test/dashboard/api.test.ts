/** The page's API client (src/dashboard/api.ts): the bearer token, errors with the server's status and message. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Api, ApiError } from '../../src/dashboard/api.js';

/** The error a request failed with (the test fails when it did not fail). */
async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    return err as ApiError;
  }
  throw new Error('expected the request to fail');
}

describe('dashboard Api', () => {
  it('sends the token and returns the JSON answer', async () => {
    let seen: RequestInit | undefined;
    const api = new Api('t0k', async (_url, init) => { seen = init; return new Response('{"revision":7}', { status: 200 }); });
    assert.deepEqual(await api.get('/api/v1/revision'), { revision: 7 });
    assert.equal((seen?.headers as Record<string, string>).authorization, 'Bearer t0k');
  });

  it('errors carry the status, code and message of the server; 401, 403 and retryable are told apart', async () => {
    const answer = (status: number, body: string) => new Api('t', async () => new Response(body, { status }));
    const e403 = await failure(answer(403, '{"code":"Forbidden","status":403,"message":"user:ann may not list nodes"}').get('/api/v1/metrics/nodes'));
    assert.ok(e403 instanceof ApiError);
    assert.deepEqual([e403.status, e403.code, e403.message, e403.forbidden, e403.unauthorized, e403.retryable], [403, 'Forbidden', 'user:ann may not list nodes', true, false, false]);
    const e401 = await failure(answer(401, '{"code":"Unauthorized","message":"no such token"}').get('/x'));
    assert.equal(e401.unauthorized, true);
    const e502 = await failure(answer(502, 'Bad Gateway from a proxy').get('/x'));
    assert.equal(e502.retryable, true);
    assert.match(e502.message, /GET \/x: 502 .*Bad Gateway from a proxy/);
    const down = await failure(new Api('t', async () => { throw new TypeError('Failed to fetch'); }).get('/x'));
    assert.deepEqual([down.status, down.retryable], [0, true]);
    assert.match(down.message, /Failed to fetch/);
  });

  it('an aborted request stays an AbortError (not an ApiError)', async () => {
    const api = new Api('t', async () => { throw new DOMException('aborted', 'AbortError'); });
    await assert.rejects(api.get('/x'), (e: Error) => e.name === 'AbortError');
  });
});
