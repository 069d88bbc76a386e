/**
 * Client failover between the servers of a config (src/client/transport.ts): plain local HTTPS
 * servers that answer, refuse, hang in the TLS handshake, answer 503, or drop a request they
 * received. Reads and unsent writes go to the next server; a write that was sent and lost its
 * connection is surfaced (AmbiguousWriteError), never repeated; a watch resumes on another
 * server from its last revision, each event delivered once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiClient } from '../../src/client/index.js';
import { AmbiguousWriteError } from '../../src/client/transport.js';
import { ClientConfigError, loadClientConfig } from '../../src/client/config.js';
import { UnavailableError } from '../../src/api/errors.js';
import { ClusterPki } from '../../src/server/pki/index.js';
import type { WatchEvent } from '../../src/store/store.js';
import { writeFile } from 'node:fs/promises';
import { serverList } from '../../src/cli/commands/process.js';

interface TestServer {
  url: string;
  hits: string[];
  close(): Promise<void>;
}

const CONFIG = { name: 'c1', namespace: 'default', labels: {}, uid: 'u', revision: 7, generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' };

describe('client failover between servers', () => {
  let dir: string;
  let pki: ClusterPki;
  const servers: TestServer[] = [];

  const serve = async (handler: (req: IncomingMessage, res: ServerResponse, hits: string[]) => void): Promise<TestServer> => {
    const hits: string[] = [];
    const srv = https.createServer({ cert: pki.serverCertPem, key: pki.serverKeyPem }, (req, res) => {
      hits.push(`${req.method ?? ''} ${req.url ?? ''}`);
      handler(req, res, hits);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    const s: TestServer = { url: `https://127.0.0.1:${port}`, hits, close: () => new Promise((r) => { srv.closeAllConnections(); srv.close(() => r()); }) };
    servers.push(s);
    return s;
  };
  const ok = (_req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Config', metadata: CONFIG, spec: { data: {} } }));
  };
  /** A port nobody listens on: connection refused. */
  const refused = async (): Promise<string> => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise((r) => s.close(r));
    return `https://127.0.0.1:${port}`;
  };
  const client = (urls: string[]): ApiClient => new ApiClient({ server: urls[0] as string, servers: urls, ca: pki.caCertPem, token: 't' }, { connectTimeoutMs: 300, timeoutMs: 5_000, watch: { minBackoffMs: 20, idleTimeoutMs: 2_000 } });

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flotilla-failover-'));
    pki = await ClusterPki.loadOrCreate(path.join(dir, 'pki'), { extraSans: ['127.0.0.1'] });
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts "servers" beside or instead of "server", and names a bad entry', async () => {
    const file = path.join(dir, 'c.json');
    await writeFile(file, JSON.stringify({ servers: ['https://a:1', 'https://b:2'], ca: pki.caCertPem, token: 't' }));
    assert.equal(loadClientConfig(file).server, 'https://a:1');
    await writeFile(file, JSON.stringify({ servers: ['https://a:1', 'http://b:2'], ca: pki.caCertPem, token: 't' }));
    assert.throws(() => loadClientConfig(file), (e: Error) => e instanceof ClientConfigError && e.message.includes(`${file}: servers[1]: expected an https:// URL, found "http://b:2"`));
    await writeFile(file, JSON.stringify({ servers: [], ca: pki.caCertPem, token: 't' }));
    assert.throws(() => loadClientConfig(file), /servers: expected a non-empty list of https:\/\/ URLs/);
  });

  it('agent --server: repeatable and comma lists, https only', () => {
    assert.deepEqual(serverList('https://b:2', serverList('https://a:1, https://c:3')), ['https://a:1', 'https://c:3', 'https://b:2']);
    assert.throws(() => serverList('http://a:1'), /expected https:\/\/ URLs .* found "http:\/\/a:1"/);
  });

  it('a read goes to the next server when one refuses, and stays there', async () => {
    const b = await serve(ok);
    const c = client([await refused(), b.url]);
    assert.equal((await c.get({ kind: 'Config', namespace: 'default', name: 'c1' }))?.metadata.name, 'c1');
    assert.equal((await c.get({ kind: 'Config', namespace: 'default', name: 'c1' }))?.metadata.name, 'c1');
    assert.equal(b.hits.length, 2);
    await c.close();
  });

  it('a server that hangs in the TLS handshake is left after the connect timeout', async () => {
    const held: net.Socket[] = [];
    const silent = net.createServer((s) => { held.push(s); });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const b = await serve(ok);
    const c = client([`https://127.0.0.1:${(silent.address() as net.AddressInfo).port}`, b.url]);
    const t0 = Date.now();
    await c.get({ kind: 'Config', namespace: 'default', name: 'c1' });
    assert.ok(Date.now() - t0 < 3_000);
    assert.equal(b.hits.length, 1);
    await c.close();
    for (const s of held) s.destroy();
    await new Promise((r) => { silent.close(r); });
  });

  it('a read answered 503 is asked of the next server; a write answered 503 is not', async () => {
    const a = await serve((_req, res) => res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'Unavailable', message: 'store down' })));
    const b = await serve(ok);
    const c = client([a.url, b.url]);
    await c.get({ kind: 'Config', namespace: 'default', name: 'c1' });
    assert.equal(b.hits.length, 1);
    const c2 = client([a.url, b.url]);
    await assert.rejects(c2.create({ kind: 'Config', metadata: CONFIG, spec: { data: {} } }), (e: Error) => e instanceof UnavailableError && /store down/.test(e.message));
    assert.equal(b.hits.length, 1, 'the write was not repeated');
    await c.close();
    await c2.close();
  });

  it('a write that could not connect goes to the next server', async () => {
    const b = await serve(ok);
    const c = client([await refused(), b.url]);
    await c.create({ kind: 'Config', metadata: CONFIG, spec: { data: {} } });
    assert.deepEqual(b.hits.map((h) => h.split('?')[0]), ['POST /api/v1/configs']);
    await c.close();
  });

  it('a write sent whose connection dropped is surfaced as ambiguous, never repeated', async () => {
    const a = await serve((req) => req.socket.destroy());
    const b = await serve(ok);
    const c = client([a.url, b.url]);
    await assert.rejects(c.create({ kind: 'Config', metadata: CONFIG, spec: { data: {} } }), (e: Error) => e instanceof AmbiguousWriteError && /may or may not have been applied/.test(e.message));
    assert.equal(a.hits.length, 1);
    assert.equal(b.hits.length, 0);
    await c.close();
  });

  it('a watch resumes on another server from its last revision, each event once', async () => {
    const ev = (revision: number): string => `${JSON.stringify({ type: 'modified', revision, object: { kind: 'Config', metadata: { ...CONFIG, revision }, spec: { data: {} } } })}\n`;
    let aServer: TestServer | undefined;
    const a = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(`${JSON.stringify({ type: 'bookmark', revision: 5 })}\n${ev(6)}`);
      // The server dies after one event: its listener closes, the stream is cut.
      setTimeout(() => { void aServer?.close(); }, 100);
    });
    aServer = a;
    const b = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      const from = Number(new URL(req.url ?? '', 'https://x').searchParams.get('revision'));
      res.write(`${JSON.stringify({ type: 'bookmark', revision: from })}\n${ev(6)}${ev(7)}`);
    });
    const c = client([a.url, b.url]);
    const seen: number[] = [];
    const w = await c.watch({ kind: 'Config' }, { onEvent: (e: WatchEvent) => seen.push(e.revision) });
    const deadline = Date.now() + 5_000;
    while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(seen, [6, 7]);
    assert.match(b.hits[0] ?? '', /revision=5/, 'resumed before the partly delivered revision 6');
    await w.stop();
    await c.close();
  });
});
