/**
 * Tracing end to end against a small OTLP/HTTP receiver on loopback (it collects the JSON the
 * exporters POST to /v1/traces): a real server (SQLite) with a hollow node (simulated, for the
 * scheduler) exports a span for an API request, child of the traceparent the client sent, and a
 * "schedule task" span naming the node; the ingress exports a span per request, continues the
 * caller's trace and passes its own context to the backend as traceparent.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { runServer, type RunningServer } from '../../src/server/run.js';
import { runHollowAgent, type RunningHollowAgent } from '../../src/agent/hollow/run.js';
import { newJoinToken } from '../../src/server/join/token.js';
import { IngressProxy } from '../../src/agent/ingress/proxy.js';
import type { EndpointsSource } from '../../src/agent/lb/balancer.js';
import type { ServiceEndpoints } from '../../src/controllers/endpoints/endpoints.js';
import { startTracing, type Tracing } from '../../src/tracing/index.js';
import { MemoryStore } from '../helpers/memory-store.js';
import { eventually } from '../helpers/flotilla.js';
import { rawRequest } from '../server/helpers.js';

interface SeenSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Record<string, string | number>;
}

type AnyValue = { stringValue?: string; intValue?: number | string; doubleValue?: number; boolValue?: boolean };

/** An OTLP/HTTP JSON receiver: every span POSTed to /v1/traces. */
async function startReceiver(): Promise<{ url: string; spans: SeenSpan[]; stop(): Promise<void> }> {
  const spans: SeenSpan[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => { body += d.toString(); });
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const msg = JSON.parse(body) as { resourceSpans?: Array<{ resource?: { attributes?: Array<{ key: string; value: AnyValue }> }; scopeSpans?: Array<{ spans?: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string; attributes?: Array<{ key: string; value: AnyValue }> }> }> }> };
        for (const rs of msg.resourceSpans ?? []) {
          const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              const attributes: Record<string, string | number> = {};
              for (const a of s.attributes ?? []) attributes[a.key] = a.value.stringValue ?? Number(a.value.intValue ?? a.value.doubleValue ?? 0);
              spans.push({ service, traceId: s.traceId, spanId: s.spanId, ...(s.parentSpanId !== undefined && s.parentSpanId !== '' ? { parentSpanId: s.parentSpanId } : {}), name: s.name, attributes });
            }
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, stop: () => new Promise((r) => server.close(() => r())) };
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

describe('tracing: OTLP spans of the server, the scheduler and the ingress', { timeout: 120_000 }, () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let dir: string;
  let server: RunningServer;
  let hollow: RunningHollowAgent | undefined;

  before(async () => {
    receiver = await startReceiver();
    dir = await mkdtemp(path.join(tmpdir(), 'flotilla-tracing-'));
    server = await runServer({ dataDir: path.join(dir, 'server'), listen: '127.0.0.1:0', store: 'sqlite', otlpEndpoint: receiver.url, auditFlushMs: 0, log: () => undefined });
    const { token, object } = newJoinToken(server.pki.caFingerprint(), 'worker', 600_000);
    await server.store.create({ ...object, metadata: { ...object.metadata, uid: `t-${object.metadata.name}`, creationTimestamp: new Date().toISOString(), generation: 1 } });
    hollow = await runHollowAgent({ server: server.url, token, dataDir: path.join(dir, 'hollow'), count: 1, namePrefix: 'traced', log: () => undefined });
  });

  after(async () => {
    await hollow?.stop();
    await server?.stop();
    await receiver?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('an API request continues the caller\'s trace; the placement of its task is a span naming the node', async () => {
    const admin = JSON.parse(await (await import('node:fs/promises')).readFile(server.adminConfigPath, 'utf8')) as { ca: string; token: string };
    const body = JSON.stringify({ kind: 'Service', metadata: { name: 'traced' }, spec: { image: 'busybox:1', replicas: 1 } });
    const r = await rawRequest(`${server.url}/api/v1/services`, { method: 'POST', ca: admin.ca, body, headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json', traceparent: `00-${TRACE}-${PARENT}-01` } });
    assert.equal(r.status, 201, r.text);
    const api = await eventually('the API span', 30_000, async () => receiver.spans.find((s) => s.traceId === TRACE && s.name === 'POST Service'));
    assert.equal(api.service, 'flotilla-server');
    assert.equal(api.parentSpanId, PARENT);
    assert.equal(api.attributes['http.response.status_code'], 201);
    const placed = await eventually('the scheduling span', 30_000, async () => receiver.spans.find((s) => s.name === 'schedule task' && s.attributes['flotilla.service'] === 'traced'));
    assert.equal(placed.attributes['flotilla.node'], 'traced-0');
    assert.match(String(placed.attributes['flotilla.task']), /^traced-1-/);
  });

  it('the ingress continues the trace and hands its own span to the backend', async () => {
    let seen: string | undefined;
    const backend = http.createServer((req, res) => { seen = req.headers.traceparent as string | undefined; res.end('ok'); });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.5', () => r()));
    const port = (backend.address() as AddressInfo).port;
    const view = new Map<string, ServiceEndpoints>([['default/web', { namespace: 'default', name: 'web', uid: 'web', ports: [{ name: 'http', port: 80, targetPort: port, protocol: 'tcp' }], endpoints: [{ task: 'web-1', node: 'n1', ip: '127.0.0.5' }] }]]);
    const source: EndpointsSource = { view: () => view, onChange: () => () => undefined };
    const store = new MemoryStore();
    await store.create({ kind: 'Ingress', metadata: { name: 'web', namespace: 'default', uid: 'i', labels: {}, revision: 0, generation: 1, creationTimestamp: new Date().toISOString() }, spec: { tls: [], rules: [{ host: 'web.test', paths: [{ path: '/', backend: { service: 'web', port: 80 }, weight: 100 }] }] } });
    const tracing = await startTracing({ endpoint: receiver.url, serviceName: 'flotilla-agent', flushMs: 200 }) as Tracing;
    const proxy = new IngressProxy({ source, store, host: '127.0.0.1', httpPort: 0, tracer: tracing.tracer });
    try {
      await proxy.start();
      const got = await eventually('the ingress answers', 15_000, () => new Promise<string | undefined>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: proxy.http?.port ?? 0, path: '/hello', headers: { host: 'web.test', traceparent: `00-${TRACE}-${PARENT}-01` }, agent: false }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => { text += d.toString(); });
          res.on('end', () => resolve(res.statusCode === 200 ? text : undefined));
        });
        req.on('error', reject);
      }));
      assert.equal(got, 'ok');
      const span = await eventually('the ingress span', 30_000, async () => receiver.spans.find((s) => s.service === 'flotilla-agent' && s.name === 'ingress GET' && s.attributes['url.path'] === '/hello'));
      assert.equal(span.traceId, TRACE);
      assert.equal(span.parentSpanId, PARENT);
      assert.equal(span.attributes['http.response.status_code'], 200);
      assert.match(String(span.attributes['flotilla.backend']), /task web-1 \(service default\/web/);
      assert.equal(seen, `00-${TRACE}-${span.spanId}-01`, 'the backend continues from the ingress span');
    } finally {
      await proxy.stop();
      await tracing.stop();
      await new Promise<void>((r) => backend.close(() => r()));
    }
  });
});
