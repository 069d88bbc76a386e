/**
 * The dashboard's static files (src/server/http/ui.ts): content types, cache headers of hashed
 * assets, path traversal refused before any file is read, the "not built" 404; and through the
 * real API server: /ui needs no credential, the API still does.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NOT_BUILT, serveUi } from '../../src/server/http/ui.js';
import { startTestServer, type TestServer } from './helpers.js';

interface Answer { status: number; headers: IncomingHttpHeaders; text: string }

/** One request with the path sent as given (no client-side normalization). */
function request(base: string, rawPath: string, opts: { method?: string; ca?: string; token?: string } = {}): Promise<Answer> {
  const u = new URL(base);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request({ host: u.hostname, port: u.port, path: rawPath, method: opts.method ?? 'GET', agent: false, ...(opts.ca !== undefined ? { ca: opts.ca } : {}), headers: opts.token !== undefined ? { authorization: `Bearer ${opts.token}` } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard static files', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'flotilla-ui-test-'));
  const built = path.join(root, 'ui');
  const notBuilt = path.join(root, 'none');
  let server: http.Server;
  let base = '';

  before(async () => {
    mkdirSync(built);
    writeFileSync(path.join(root, 'secret.txt'), 'outside the bundle\n');
    writeFileSync(path.join(built, 'index.html'), '<!doctype html><div id="app"></div>');
    writeFileSync(path.join(built, 'main-ABCD2345.js'), 'console.log(1)');
    writeFileSync(path.join(built, 'style-ABCD2345.css'), 'body{}');
    writeFileSync(path.join(built, '.hidden'), 'no');
    // The same parsing as the API server's dispatcher: the path of a WHATWG URL.
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x.invalid');
      const dir = url.searchParams.get('dir') === 'none' ? notBuilt : built;
      void serveUi(dir, url.pathname, req.method ?? 'GET', res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(root, { recursive: true, force: true });
  });

  it('/ui and /ui/ are index.html, not cached; hashed assets are cached for a year, with their types', async () => {
    for (const p of ['/ui', '/ui/', '/ui/index.html']) {
      const a = await request(base, p);
      assert.equal(a.status, 200, p);
      assert.equal(a.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(a.headers['cache-control'], 'no-cache');
      assert.match(a.text, /id="app"/);
      assert.match(String(a.headers['content-security-policy']), /default-src 'self'/);
      assert.equal(a.headers['x-content-type-options'], 'nosniff');
    }
    const js = await request(base, '/ui/main-ABCD2345.js');
    assert.equal(js.status, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    const css = await request(base, '/ui/style-ABCD2345.css');
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    const head = await request(base, '/ui/main-ABCD2345.js', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '14');
    assert.equal(head.text, '');
    assert.equal((await request(base, '/ui/', { method: 'POST' })).status, 405);
  });

  it('refuses path traversal and anything but a flat file name of the bundle', async () => {
    for (const p of ['/ui/..%2fsecret.txt', '/ui/%2e%2e%2fsecret.txt', '/ui/..%5csecret.txt', '/ui/.hidden', '/ui/sub/main-ABCD2345.js', '/ui/main-ABCD2345.js%00', '/ui/nope.js']) {
      const a = await request(base, p);
      assert.equal(a.status, 404, p);
      assert.doesNotMatch(a.text, /outside the bundle/, p);
    }
    // Dot segments are resolved by the URL parser before the route: they leave /ui/ entirely.
    assert.equal((await request(base, '/ui/../secret.txt')).status, 404);
    assert.equal((await request(base, '/ui/%E0%A4%A')).status, 400);
  });

  it('says how to build it when the bundle is missing', async () => {
    const a = await request(base, '/ui/?dir=none');
    assert.equal(a.status, 404);
    assert.equal(a.text, NOT_BUILT);
    assert.equal(a.text, 'dashboard not built: run npm run build:ui\n');
  });
});

describe('dashboard files on the API server', () => {
  let s: TestServer;
  let ca = '';

  before(async () => {
    s = await startTestServer();
    ca = (JSON.parse(readFileSync(path.join(s.dir, 'admin.json'), 'utf8')) as { ca: string }).ca;
  });
  after(async () => s?.cleanup());

  it('/ui/ answers without a credential (the bundle or the "not built" text), the API still wants one', async () => {
    const ui = await request(s.server.url, '/ui/', { ca });
    assert.ok(ui.status === 200 || (ui.status === 404 && ui.text === NOT_BUILT), `${ui.status} ${ui.text}`);
    assert.equal((await request(s.server.url, '/api/v1/nodes', { ca })).status, 401);
    assert.equal((await request(s.server.url, '/ui/../api/v1/nodes', { ca })).status, 401, 'dot segments do not turn /ui into a way around authentication');
    assert.equal((await request(s.server.url, '/uix', { ca })).status, 401, 'only /ui and /ui/...');
  });
});
