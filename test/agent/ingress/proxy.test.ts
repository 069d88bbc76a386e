/**
 * The ingress proxy end to end on loopback: real HTTP and HTTPS servers, real backend servers on
 * 127.0.0.x, Ingresses and Secrets in the in-memory store, the endpoints view from a fake.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { IngressProxy } from '../../../src/agent/ingress/proxy.js';
import type { EndpointsSource } from '../../../src/agent/lb/balancer.js';
import type { ServiceEndpoints } from '../../../src/controllers/endpoints/endpoints.js';
import type { ApiObject } from '../../../src/api/object.js';
import { MemoryStore } from '../../helpers/memory-store.js';

/** A fake endpoints view the test edits. */
class FakeSource implements EndpointsSource {
  readonly services = new Map<string, ServiceEndpoints>();
  view(): Map<string, ServiceEndpoints> { return this.services; }
  onChange(): () => void { return () => undefined; }
  set(name: string, port: number, ips: string[], groups?: Array<{ revision: number; weight: number; ips: string[] }>): void {
    const ep = (ip: string): { task: string; node: string; ip: string } => ({ task: `${name}-${ips.indexOf(ip)}`, node: 'n1', ip });
    this.services.set(`default/${name}`, {
      namespace: 'default', name, uid: name, ports: [{ name: 'http', port: 80, targetPort: port, protocol: 'tcp' }], endpoints: ips.map(ep),
      ...(groups !== undefined ? { groups: groups.map((g) => ({ revision: g.revision, weight: g.weight, endpoints: g.ips.map(ep) })) } : {}),
    });
  }
}

function meta(kind: string, name: string): ApiObject['metadata'] {
  return { name, namespace: 'default', uid: `${kind}-${name}`, labels: {}, revision: 0, generation: 1, creationTimestamp: new Date().toISOString() };
}

interface Got { status: number; body: string; headers: http.IncomingHttpHeaders }

function get(port: number, host: string, p: string, headers: Record<string, string> = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, headers: { host, ...headers }, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.setTimeout(5_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

describe('IngressProxy', { timeout: 60_000 }, () => {
  const backends: http.Server[] = [];
  const store = new MemoryStore();
  const source = new FakeSource();
  let proxy: IngressProxy;
  let dir: string;
  let httpPort = 0;
  let httpsPort = 0;

  /** A backend answering `<label>` and echoing the headers it received as JSON in x-seen. */
  async function backend(ip: string, label: string, port = 0): Promise<number> {
    const s = http.createServer((req, res) => {
      res.setHeader('x-seen', JSON.stringify(req.headers));
      res.end(label);
    });
    backends.push(s);
    await new Promise<void>((r) => s.listen(port, ip, () => r()));
    return (s.address() as AddressInfo).port;
  }

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ingress-test-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=secure.test', '-addext', 'subjectAltName=DNS:secure.test',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'crt.pem')], { stdio: 'ignore' });
    const a = await backend('127.0.0.2', 'a1');
    await backend('127.0.0.3', 'a2', a);
    const b = await backend('127.0.0.4', 'b1');
    source.set('alpha', a, ['127.0.0.2', '127.0.0.3']);
    source.set('beta', b, ['127.0.0.4']);
    source.set('idle', 9, []);
    source.set('canary', a, ['127.0.0.2', '127.0.0.3'], [{ revision: 1, weight: 75, ips: ['127.0.0.2'] }, { revision: 2, weight: 25, ips: ['127.0.0.3'] }]);
    await store.create({ kind: 'Secret', metadata: meta('Secret', 'tls-secure'), spec: { data: { 'tls.crt': readFileSync(path.join(dir, 'crt.pem')).toString('base64'), 'tls.key': readFileSync(path.join(dir, 'key.pem')).toString('base64') } } });
    await store.create({ kind: 'Ingress', metadata: meta('Ingress', 'web'), spec: {
      rules: [
        { host: 'alpha.test', paths: [{ path: '/', backend: { service: 'alpha', port: 80 }, weight: 100 }] },
        { host: 'beta.test', paths: [{ path: '/', backend: { service: 'beta', port: 'http' }, weight: 100 }] },
        { host: 'split.test', paths: [{ path: '/', backend: { service: 'alpha', port: 80 }, weight: 3 }, { path: '/', backend: { service: 'beta', port: 80 }, weight: 1 }] },
        { host: 'canary.test', paths: [{ path: '/', backend: { service: 'canary', port: 80 }, weight: 100 }] },
        { host: 'idle.test', paths: [{ path: '/', backend: { service: 'idle', port: 80 }, weight: 100 }] },
        { host: 'missing.test', paths: [{ path: '/', backend: { service: 'nope', port: 80 }, weight: 100 }] },
        { host: 'secure.test', paths: [{ path: '/', backend: { service: 'beta', port: 80 }, weight: 100 }] },
      ],
      tls: [{ hosts: ['secure.test'], secret: 'tls-secure' }],
    } });
    proxy = new IngressProxy({ source, store, host: '127.0.0.1', httpPort: 0, httpsPort: 0 });
    await proxy.start();
    httpPort = proxy.http?.port ?? 0;
    httpsPort = proxy.https?.port ?? 0;
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all(backends.map((s) => new Promise<void>((r) => { s.close(() => r()); s.closeAllConnections(); })));
    rmSync(dir, { recursive: true, force: true });
  });

  it('routes by host and round-robins over the tasks of a service', async () => {
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push((await get(httpPort, 'alpha.test', '/')).body);
    assert.deepEqual(seen.sort(), ['a1', 'a1', 'a2', 'a2']);
    assert.equal((await get(httpPort, 'beta.test', '/x?y=1')).body, 'b1');
  });

  it('adds X-Forwarded-* and a traceparent, keeps a traceparent that is there', async () => {
    const r = await get(httpPort, 'beta.test', '/', { 'x-forwarded-for': '192.0.2.7' });
    const h = JSON.parse(r.headers['x-seen'] as string) as Record<string, string>;
    assert.equal(h['x-forwarded-for'], '192.0.2.7, 127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-forwarded-host'], 'beta.test');
    assert.match(h.traceparent as string, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const r2 = await get(httpPort, 'beta.test', '/', { traceparent: tp });
    assert.equal((JSON.parse(r2.headers['x-seen'] as string) as Record<string, string>).traceparent, tp);
  });

  it('splits by weight', async () => {
    const counts = { alpha: 0, beta: 0 };
    for (let i = 0; i < 40; i++) {
      const body = (await get(httpPort, 'split.test', '/')).body;
      if (body.startsWith('a')) counts.alpha++; else counts.beta++;
    }
    assert.deepEqual(counts, { alpha: 30, beta: 10 });
  });

  it('a canary backend: groups by weight (exact shares), an empty group gives its share away', async () => {
    const count = async (n: number): Promise<Record<string, number>> => {
      const c: Record<string, number> = {};
      for (let i = 0; i < n; i++) { const b = (await get(httpPort, 'canary.test', '/')).body; c[b] = (c[b] ?? 0) + 1; }
      return c;
    };
    assert.deepEqual(await count(40), { a1: 30, a2: 10 });
    const port = (source.services.get('default/alpha')?.ports[0]?.targetPort) as number;
    source.set('canary', port, ['127.0.0.2'], [{ revision: 1, weight: 75, ips: ['127.0.0.2'] }, { revision: 2, weight: 25, ips: [] }]);
    assert.deepEqual(await count(8), { a1: 8 });
  });

  it('answers 503 with a clear body when no task is ready or the service is missing, 404 without a rule', async () => {
    const idle = await get(httpPort, 'idle.test', '/');
    assert.equal(idle.status, 503);
    assert.match(idle.body, /service default\/idle has no ready task/);
    const missing = await get(httpPort, 'missing.test', '/');
    assert.equal(missing.status, 503);
    assert.match(missing.body, /service default\/nope does not exist/);
    assert.equal((await get(httpPort, 'unknown.test', '/')).status, 404);
  });

  it('answers 502 naming the task when the backend refuses', async () => {
    source.set('idle', 1, ['127.0.0.9']);
    const r = await get(httpPort, 'idle.test', '/');
    source.set('idle', 9, []);
    assert.equal(r.status, 502);
    assert.match(r.body, /502 bad gateway: task idle-0 \(service default\/idle\) at 127\.0\.0\.9:1: connect ECONNREFUSED/);
  });

  it('serves TLS with the certificate of the Secret, chosen by SNI', async () => {
    const ca = readFileSync(path.join(dir, 'crt.pem'));
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port: httpsPort, servername: 'secure.test', headers: { host: 'secure.test' }, ca, agent: false }, (res) => {
        let b = '';
        res.on('data', (d: Buffer) => { b += d.toString(); });
        res.on('end', () => resolve(`${res.statusCode ?? 0} ${b} ${(JSON.parse(res.headers['x-seen'] as string) as Record<string, string>)['x-forwarded-proto'] ?? ''}`));
      });
      req.on('error', reject);
    });
    assert.equal(body, '200 b1 https');
    await assert.rejects(new Promise((resolve, reject) => {
      https.get({ host: '127.0.0.1', port: httpsPort, servername: 'other.test', ca, agent: false }, resolve).on('error', reject);
    }));
  });
});
