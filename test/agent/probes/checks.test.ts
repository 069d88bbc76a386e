/**
 * The probe checks against real servers on 127.0.0.1 (HTTP, HTTPS with a self-signed
 * certificate, TCP) and a fake exec: what counts as success, the messages a person reads,
 * timeouts, aborts, and that a header value never reaches a message.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { HttpProbe, Probe } from '../../../src/api/kinds.js';
import type { ExecOptions, ExecResult } from '../../../src/agent/runtime/runtime.js';
import { checkerFor, execCheck, httpCheck, tcpCheck } from '../../../src/agent/probes/checks.js';

const run = promisify(execFile);
const never = new AbortController().signal;
const get = (path: string, port: number, over: Partial<HttpProbe> = {}): HttpProbe => ({ path, port, scheme: 'http', headers: {}, ...over });

/** Answers /ok 200, /redirect 302, /down 503, /slow never, /headers with the X-Token it got (as a status). */
function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.url === '/ok') res.writeHead(200).end('fine');
  else if (req.url === '/redirect') res.writeHead(302, { location: '/ok' }).end();
  else if (req.url === '/down') res.writeHead(503).end('not yet');
  else if (req.url === '/headers') res.writeHead(req.headers['x-token'] === 's3cret' ? 204 : 401).end();
  else if (req.url === '/slow') return; // never answers
  else res.writeHead(404).end();
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

describe('probe checks', { timeout: 30_000 }, () => {
  let dir: string;
  let server: http.Server;
  let tls: https.Server;
  let port = 0;
  let tlsPort = 0;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'probe-checks-'));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=probe-test']);
    server = http.createServer(handler);
    port = await listen(server);
    tls = https.createServer({ key: await readFile(key), cert: await readFile(cert) }, handler);
    tlsPort = await listen(tls);
  });

  after(async () => {
    server.closeAllConnections();
    tls.closeAllConnections();
    await new Promise((r) => server.close(r));
    await new Promise((r) => tls.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it('HTTP 200 and 3xx are successes (redirects are not followed); 503 a failure', async () => {
    assert.deepEqual(await httpCheck('127.0.0.1', get('/ok', port), 1_000, never), { ok: true, message: 'HTTP 200' });
    assert.deepEqual(await httpCheck('127.0.0.1', get('/redirect', port), 1_000, never), { ok: true, message: 'HTTP 302' });
    assert.deepEqual(await httpCheck('127.0.0.1', get('/down', port), 1_000, never), { ok: false, message: 'HTTP 503' });
    assert.deepEqual(await httpCheck('127.0.0.1', get('/nope', port), 1_000, never), { ok: false, message: 'HTTP 404' });
  });

  it('sends the probe headers, and never puts a header value in a message', async () => {
    assert.deepEqual(await httpCheck('127.0.0.1', get('/headers', port, { headers: { 'X-Token': 's3cret' } }), 1_000, never), { ok: true, message: 'HTTP 204' });
    const bad = await httpCheck('127.0.0.1', get('/headers', port, { headers: { 'X-Token': 'wrong' } }), 1_000, never);
    assert.deepEqual(bad, { ok: false, message: 'HTTP 401' });
    const invalid = await httpCheck('127.0.0.1', get('/headers', port, { headers: { 'X-Token': 'sec\nret' } }), 1_000, never);
    assert.equal(invalid.ok, false);
    assert.doesNotMatch(invalid.message, /sec|ret/);
  });

  it('HTTPS without verifying the certificate', async () => {
    assert.deepEqual(await httpCheck('127.0.0.1', get('/ok', tlsPort, { scheme: 'https' }), 2_000, never), { ok: true, message: 'HTTP 200' });
  });

  it('says connection refused as Node does, and times out', async () => {
    const closed = await closedPort();
    assert.deepEqual(await httpCheck('127.0.0.1', get('/ok', closed), 1_000, never), { ok: false, message: `connect ECONNREFUSED 127.0.0.1:${closed}` });
    const t0 = Date.now();
    assert.deepEqual(await httpCheck('127.0.0.1', get('/slow', port), 300, never), { ok: false, message: 'timeout after 0.3s' });
    assert.ok(Date.now() - t0 < 1_000);
    assert.deepEqual(await httpCheck('127.0.0.1', get('/slow', port), 1_000, AbortSignal.timeout(50)), { ok: false, message: 'probe stopped' });
  });

  it('TCP: connected, refused', async () => {
    assert.deepEqual(await tcpCheck('127.0.0.1', port, 1_000, never), { ok: true, message: `connected to 127.0.0.1:${port}` });
    const closed = await closedPort();
    assert.deepEqual(await tcpCheck('127.0.0.1', closed, 1_000, never), { ok: false, message: `connect ECONNREFUSED 127.0.0.1:${closed}` });
  });

  it('exec: exit 0 passes; other codes fail with the first line of output; the timeout is passed on', async () => {
    const seen: ExecOptions[] = [];
    const fake = (code: number, out: string, timedOut = false) => async (_id: string, _cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> => {
      seen.push(opts);
      opts.stderr?.write(out);
      return { exitCode: code, ...(timedOut ? { timedOut } : {}) };
    };
    assert.deepEqual(await execCheck(fake(0, 'fine\n'), 'c1', ['true'], 1_000, never), { ok: true, message: 'exit code 0' });
    assert.deepEqual(await execCheck(fake(1, '\n  no such file: /tmp/alive\nsecond line\n'), 'c1', ['test'], 1_000, never), { ok: false, message: 'exit code 1: no such file: /tmp/alive' });
    assert.deepEqual(await execCheck(fake(2, ''), 'c1', ['x'], 1_000, never), { ok: false, message: 'exit code 2' });
    assert.deepEqual(await execCheck(fake(137, '', true), 'c1', ['sleep', '9'], 2_000, never), { ok: false, message: 'timeout after 2s' });
    assert.equal(seen[0]?.timeoutMs, 1_000);
    const long = await execCheck(fake(1, 'x'.repeat(1_000)), 'c1', ['x'], 1_000, never);
    assert.ok(long.message.length <= 200);
    const gone = await execCheck(() => Promise.reject(new Error('exec in c1: container not running')), 'c1', ['x'], 1_000, never);
    assert.deepEqual(gone, { ok: false, message: 'exec in c1: container not running' });
  });

  it('checkerFor: HTTP and TCP to the task address, exec into its container', async () => {
    const execs: string[] = [];
    const checker = checkerFor({ ip: '127.0.0.1', containerId: 'default_web-1', exec: async (id) => { execs.push(id); return { exitCode: 0 }; } });
    const p = (over: Partial<Probe>): Probe => ({ initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1, ...over });
    assert.equal((await checker.check('readiness', p({ http: get('/ok', port) }), never)).message, 'HTTP 200');
    assert.equal((await checker.check('startup', p({ tcp: { port } }), never)).ok, true);
    assert.equal((await checker.check('liveness', p({ exec: { command: ['true'] } }), never)).ok, true);
    assert.deepEqual(execs, ['default_web-1']);
    const noIp = checkerFor({ containerId: 'x', exec: async () => ({ exitCode: 0 }) });
    assert.deepEqual(await noIp.check('readiness', p({ tcp: { port } }), never), { ok: false, message: 'the task has no IP address' });
  });
});
