/**
 * Issue 13, fault 7 (the HTTP part): bodies over the size limit are refused with 413, with a
 * Content-Length and in chunks without one, and the server stops reading them; slow-loris
 * clients that dribble headers or bodies do not hold back a normal client, and are cut off by
 * the header and request deadlines; a watch stream outlives both deadlines. A real runServer
 * (HTTPS, SQLite) in this process, with short deadlines so the test sees them fire.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import path from 'node:path';
import { rounds, reportCounts } from '../helpers/chaos.js';
import { startTestServer, type TestServer } from '../server/helpers.js';
import { DEFAULT_BODY_LIMIT_BYTES } from '../../src/server/http/respond.js';
import { bigConfig, RawApi } from './raw-api.js';
import { chunkedUpload, SlowLoris, type Target } from './slow-clients.js';

const HEADERS_MS = 2_000;
const REQUEST_MS = 4_000;

describe('chaos bad-input-http: body limits and slow clients', { timeout: 180_000 }, () => {
  let ts: TestServer;
  let api: RawApi;
  let target: Target;

  before(async () => {
    ts = await startTestServer({ httpTimeouts: { headersMs: HEADERS_MS, requestMs: REQUEST_MS, checkIntervalMs: 250 }, watchBookmarkMs: 300 });
    api = new RawApi(path.join(ts.dir, 'admin.json'));
    target = { host: '127.0.0.1', port: ts.server.port, ca: api.ca };
  });
  after(async () => {
    api?.close();
    await ts?.cleanup();
  });

  it('refuses bodies over the limit with 413 and stops reading them', async () => {
    const over = bigConfig('too-big', DEFAULT_BODY_LIMIT_BYTES + 1024, 'm');
    const declared = await api.request('POST', '/api/v1/configs', over);
    assert.equal(declared.status, 413, declared.text.slice(0, 200));
    assert.equal((declared.json as { code?: string }).code, 'PayloadTooLarge');
    const apply = await api.request('POST', '/api/v1/apply', { objects: [over] });
    assert.equal(apply.status, 413, apply.text.slice(0, 200));

    // Chunked, no Content-Length: up to 64 MiB offered, the server must answer 413 near the
    // limit and stop taking the rest.
    const offered = 64 * 1024 * 1024;
    const chunked = await chunkedUpload(target, '/api/v1/configs', api.token, offered);
    assert.equal(chunked.status, 413, `chunked upload: ${JSON.stringify(chunked)}`);
    assert.ok(chunked.closed, `the server closed the connection: ${JSON.stringify(chunked)}`);
    assert.ok(chunked.bytesSent < 4 * DEFAULT_BODY_LIMIT_BYTES, `the server kept reading: ${chunked.bytesSent} bytes taken`);
    const stillThere = await api.request('GET', '/healthz');
    assert.equal(stillThere.status, 200);
    reportCounts('bad-input-413', { 'limit-bytes': DEFAULT_BODY_LIMIT_BYTES, declared: declared.status, apply: apply.status, chunked: chunked.status, 'chunked-offered-bytes': offered, 'chunked-sent-before-answer': chunked.bytesSentBeforeAnswer, 'chunked-sent-in-all': chunked.bytesSent });
  });

  it('slow-loris clients do not block others and are cut off; watches live on', async () => {
    const perMode = rounds(100, 400);
    // A watch opened before the attack must outlive both deadlines.
    let watchLines = 0;
    let watchClosed = false;
    const watchReq = https.get(`${api.url}/api/v1/watch?kind=Config`, { ca: api.ca, headers: { authorization: `Bearer ${api.token}` }, agent: false }, (res) => {
      res.on('data', (d: Buffer) => { watchLines += d.toString().split('\n').filter((l) => l !== '').length; });
      res.on('error', () => undefined);
      res.on('close', () => { watchClosed = true; });
    });
    watchReq.on('error', () => undefined);
    const headerLoris = await SlowLoris.open(target, { count: perMode, mode: 'headers', byteEveryMs: 200, token: api.token });
    const bodyLoris = await SlowLoris.open(target, { count: perMode, mode: 'body', byteEveryMs: 200, token: api.token });
    try {
      // A normal client meanwhile: every request answers in bounded time.
      const latencies: number[] = [];
      const started = Date.now();
      for (let i = 0; Date.now() - started < REQUEST_MS + 2_000; i++) {
        const t0 = Date.now();
        const r = i % 2 === 0 ? await api.request('GET', '/api/v1/configs', undefined, 10_000) : await api.request('POST', '/api/v1/configs', bigConfig(`normal-${i}`, 64, 'm'), 10_000);
        latencies.push(Date.now() - t0);
        assert.ok(r.status === 200 || r.status === 201, `normal client request ${i}: ${r.status} ${r.text.slice(0, 200)} ${r.error ?? ''}`);
        await new Promise((res) => setTimeout(res, 50));
      }
      const deadline = Date.now() + 15_000;
      while ((headerLoris.closedByServer < perMode || bodyLoris.closedByServer < perMode) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const watchLinesAtEnd = watchLines;
      await new Promise((r) => setTimeout(r, 1_000));
      const maxLatency = Math.max(...latencies);
      const closedMs = (l: SlowLoris): number => Math.max(...l.connections.map((c) => c.closedAfterMs ?? Infinity));
      reportCounts('bad-input-slowloris', {
        'header-dribblers': perMode,
        'body-dribblers': perMode,
        'header-cut': headerLoris.closedByServer,
        'body-cut': bodyLoris.closedByServer,
        'header-408': headerLoris.connections.filter((c) => c.status === 408).length,
        'body-408': bodyLoris.connections.filter((c) => c.status === 408).length,
        'last-header-cut-ms': closedMs(headerLoris),
        'last-body-cut-ms': closedMs(bodyLoris),
        'normal-requests': latencies.length,
        'normal-max-ms': maxLatency,
        'watch-lines': watchLines,
      });
      assert.equal(headerLoris.closedByServer, perMode, 'every header dribbler cut off');
      assert.equal(bodyLoris.closedByServer, perMode, 'every body dribbler cut off');
      assert.ok(maxLatency < 10_000, `normal client waited ${maxLatency} ms`);
      assert.ok(watchLines > watchLinesAtEnd, 'the watch still streams after the deadlines passed');
      assert.ok(!watchClosed, 'the watch is still open');
    } finally {
      headerLoris.stop();
      bodyLoris.stop();
      watchReq.destroy();
    }
  });
});
