/**
 * The HTTPS API server: TLS with the cluster PKI (client certificates requested, not required),
 * keep-alive, one dispatcher for every route. No framework: the route table is small and fixed.
 *
 *   request -> /ui/... (dashboard files, ui.ts) | public? (/healthz /readyz /leaderz /version) -> answer
 *           -> authenticate (401) -> route (404/405) -> handler (authorize, validate, store)
 *              (/api/v1/services/{name}/rollout: user rollout actions, http/rollout.ts)
 *           -> JSON answer | JSON error {code, status, message, issues?}
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BadRequestError, NotFoundError, UnavailableError } from '../../api/errors.js';
import { resolveKind } from '../../api/kind-names.js';
import type { Disposable } from '../../lifecycle.js';
import type { RequestAuthenticator } from '../auth/authenticate.js';
import type { ClusterPki } from '../pki/index.js';
import { applyObjects } from './apply.js';
import type { ApiContext, ApiRequest } from './context.js';
import { createObject, deleteObject, getObject, listObjects, updateObject, updateStatus } from './objects.js';
import { MethodNotAllowedError, sendError, sendJson } from './respond.js';
import { serveRolloutAction } from './rollout.js';
import { ROTATE_KEY_PATH, serveRotateKey } from '../secrets/routes.js';
import { serveWatch } from './watch.js';
import { isMetricsRoute, serveMetrics } from '../metrics/routes.js';
import type { MetricsSeries } from '../metrics/series.js';
import type { Registry } from 'prom-client';
import { serveScrape } from '../metrics/prometheus.js';
import { traceRequest } from './trace-request.js';
import { defaultUiDir, isUiPath, serveUi } from './ui.js';
import type { Tracer } from '../../tracing/index.js';
import type { ServerInstruments } from '../metrics/instrument.js';
import { DEFAULT_JOIN_SETTINGS, serveAuthenticatedJoin, servePublicJoin, type JoinSettings } from '../join/routes.js';
import { AgentDialer } from '../proxy/agent-dialer.js';
import { isProxyRoute, serveProxy, type ProxyEnv } from '../proxy/routes.js';
import { isPkiRoute, servePkiRoute, type PkiRoutesEnv } from '../pki/routes.js';
import type { Keyring } from '../secrets/codec.js';

/** Options of the API server beside the shared context. */
export interface ApiServerOptions {
  ctx: ApiContext;
  pki: ClusterPki;
  authenticator: RequestAuthenticator;
  /** How long /readyz waits for the store. */
  readyTimeoutMs?: number;
  /** Node certificate and join token lifetimes. */
  join?: JoinSettings;
  /** KEK ring of the stored cluster CA: enables /api/v1/ca and node rotate-cert (pki/routes.ts). */
  caRing?: Keyring;
  /** Who leads the control plane, for /leaderz (absent: /leaderz is 404). */
  leadership?: () => { leader: boolean; id: string; leaderId?: string };
  /** Recent resource use reported by the agents (absent: the metrics routes are 404). */
  metrics?: MetricsSeries;
  /** Spans of API requests (src/tracing; absent: none). */
  tracer?: Tracer;
  /** GET /metrics (Prometheus) and the request instruments (absent: /metrics is 404). */
  prometheus?: { registry: Registry; instruments: ServerInstruments };
  /** Limits on slow clients (default DEFAULT_HTTP_TIMEOUTS). */
  timeouts?: Partial<HttpTimeouts>;
  /** Where the dashboard bundle is (default: dist/ui of this checkout, see ui.ts). */
  uiDir?: string;
}

/**
 * How long a client may take to SEND its request. They bound slow-loris clients, which dribble
 * headers or a body to hold connections open; none of them limits how long an answer streams,
 * so watch and log streams stay open for as long as the client reads them (Node applies
 * requestTimeout only until the request has fully arrived; a watch is a GET without a body).
 */
export interface HttpTimeouts {
  /** Headers complete within this (Node answers 408 and closes otherwise). */
  headersMs: number;
  /** Headers and body complete within this: 4 MiB at ~70 KiB/s (408 otherwise). */
  requestMs: number;
  /** An idle kept-alive connection is closed after this. */
  keepAliveMs: number;
  /** How often the two deadlines above are checked. */
  checkIntervalMs: number;
}

/** Defaults: a header block in 20 s, a whole request in 60 s, checked every second. */
export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = { headersMs: 20_000, requestMs: 60_000, keepAliveMs: 65_000, checkIntervalMs: 1_000 };

/** A listening API server. */
export interface ApiServer extends Disposable {
  /** Bound address (port resolved when 0 was asked). */
  address: AddressInfo;
}

type Handler = (ctx: ApiContext, r: ApiRequest) => Promise<void>;

/** Method -> handler for `/api/v1/{plural}`, `/{plural}/{name}`, `/{plural}/{name}/status`. */
const ROUTES: Record<'collection' | 'item' | 'status', Record<string, Handler>> = {
  collection: { GET: listObjects, POST: createObject },
  item: { GET: getObject, PUT: updateObject, DELETE: deleteObject },
  status: { GET: getObject, PUT: updateStatus },
};

/** Starts the HTTPS server on host:port; resolves once it listens. */
export async function startApiServer(opts: ApiServerOptions, host: string, port: number): Promise<ApiServer> {
  const live = new Set<Disposable>();
  const proxy: ProxyEnv = { ctx: opts.ctx, dialer: new AgentDialer(opts.pki), live };
  const pkiRoutes: PkiRoutesEnv | undefined = opts.caRing !== undefined ? { store: opts.ctx.store, ring: opts.caRing, pki: opts.pki, dialer: proxy.dialer, bodyLimitBytes: opts.ctx.bodyLimitBytes } : undefined;
  const t: HttpTimeouts = { ...DEFAULT_HTTP_TIMEOUTS, ...opts.timeouts };
  const server = https.createServer({
    key: opts.pki.serverKeyPem,
    cert: opts.pki.serverCertPem,
    ca: opts.pki.caCertPem,
    requestCert: true,
    rejectUnauthorized: false,
    keepAlive: true,
    keepAliveTimeout: t.keepAliveMs,
    headersTimeout: t.headersMs,
    // Bounds receiving the request only: watch answers stream on (see HttpTimeouts).
    requestTimeout: t.requestMs,
    connectionsCheckingInterval: t.checkIntervalMs,
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    opts.prometheus?.instruments.observeRequest(req, res);
    if (opts.tracer !== undefined) traceRequest(opts.tracer, req, res);
    void dispatch(opts, req, res, live, proxy, host, pkiRoutes).catch((err: unknown) => sendError(res, err, `${req.method ?? '?'} ${req.url ?? '?'}`));
  });
  server.on('tlsClientError', () => {
    // A client that fails the handshake (wrong CA, port scan) is not our error to log.
  });
  // `flotilla ca rotate`: a new trust bundle or server certificate applies to new connections at once.
  const unlistenPki = opts.pki.onChange(() => server.setSecureContext({ key: opts.pki.serverKeyPem, cert: opts.pki.serverCertPem, ca: opts.pki.caCertPem }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let stopping: Promise<void> | undefined;
  return {
    address: server.address() as AddressInfo,
    stop(): Promise<void> {
      stopping ??= (async () => {
        unlistenPki();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.all([...live].map(async (w) => w.stop()));
        server.closeIdleConnections();
        // Give in-flight requests a moment, then cut what is left.
        const timer = setTimeout(() => server.closeAllConnections(), 2_000);
        await closed;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

async function dispatch(opts: ApiServerOptions, req: IncomingMessage, res: ServerResponse, live: Set<Disposable>, proxy: ProxyEnv, listenHost: string, pkiRoutes?: PkiRoutesEnv): Promise<void> {
  const ctx = opts.ctx;
  const url = new URL(req.url ?? '/', 'https://flotilla.invalid');
  const method = req.method ?? 'GET';
  // The dashboard's static files: no data, no credential (the page sends its token to the API).
  if (isUiPath(url.pathname)) return serveUi(opts.uiDir ?? defaultUiDir(), url.pathname, method, res);
  if (await servePublic(opts, url.pathname, method, res)) return;
  const joinEnv = { store: ctx.store, pki: opts.pki, settings: opts.join ?? DEFAULT_JOIN_SETTINGS, bodyLimitBytes: ctx.bodyLimitBytes, listenHost };
  if (url.pathname.startsWith('/api/v1/join') && (await servePublicJoin(joinEnv, url.pathname, method, req, res))) return;
  const identity = await opts.authenticator.authenticate(req);
  if (url.pathname.startsWith('/api/v1/join/') && (await serveAuthenticatedJoin(joinEnv, url.pathname, method, identity, req, res))) return;
  if (url.pathname === '/metrics' && opts.prometheus !== undefined) return methodIs(method, 'GET', () => serveScrape(ctx, identity, opts.prometheus?.registry as Registry, res));
  const parts = url.pathname.split('/').filter((p) => p !== '').map(decodeSegment);
  if (parts[0] !== 'api' || parts[1] !== 'v1' || parts.length < 3) throw new NotFoundError(`no route for ${url.pathname}`);
  const rest = parts.slice(2);
  if (rest.length === 1 && rest[0] === 'apply') return methodIs(method, 'POST', () => applyObjects(ctx, req, res, identity));
  if (rest.length === 1 && rest[0] === 'watch') return methodIs(method, 'GET', () => serveWatch(ctx, res, identity, url, live));
  if (rest.length === 1 && rest[0] === 'revision') return methodIs(method, 'GET', async () => sendJson(res, 200, { revision: await ctx.store.revision() }));
  if (rest.length === 2 && rest[0] === ROTATE_KEY_PATH[0] && rest[1] === ROTATE_KEY_PATH[1]) return methodIs(method, 'POST', () => serveRotateKey(ctx, res, identity));
  if (isProxyRoute(rest)) return serveProxy(proxy, { rest, method, identity, url, req, res });
  if (opts.metrics !== undefined && isMetricsRoute(rest)) return serveMetrics({ ctx, series: opts.metrics }, { rest, method, identity, url, req, res });
  if (pkiRoutes !== undefined && isPkiRoute(rest)) return servePkiRoute(pkiRoutes, rest, method, identity, req, res);
  const kind = resolveKind(rest[0] as string);
  if (kind === undefined) throw new NotFoundError(`no route for ${url.pathname}: unknown kind ${JSON.stringify(rest[0])}`);
  if (rest.length === 3 && rest[2] === 'rollout') return methodIs(method, 'POST', () => serveRolloutAction(ctx, { req, res, url, identity, kind, name: rest[1] }));
  const shape = rest.length === 1 ? 'collection' : rest.length === 2 ? 'item' : rest.length === 3 && rest[2] === 'status' ? 'status' : undefined;
  if (shape === undefined) throw new NotFoundError(`no route for ${url.pathname}`);
  const handler = ROUTES[shape][method];
  if (handler === undefined) throw new MethodNotAllowedError(`${method} is not allowed on ${url.pathname}`);
  await handler(ctx, { req, res, url, identity, kind, name: rest[1] });
}

/** A percent-decoded path segment; a malformed escape (`%`, `%E0%A4%A`) is the caller's error, 400. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadRequestError(`URL path segment ${JSON.stringify(segment.slice(0, 100))}: expected valid percent-encoding (UTF-8)`);
  }
}

async function methodIs(method: string, want: string, run: () => Promise<void>): Promise<void> {
  if (method !== want) throw new MethodNotAllowedError(`only ${want} is allowed here`);
  await run();
}

/** /healthz, /readyz, /leaderz, /version: no credential needed. Returns false for other paths. */
async function servePublic(opts: ApiServerOptions, path: string, method: string, res: ServerResponse): Promise<boolean> {
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (path === '/healthz') {
    sendJson(res, 200, { status: 'ok' });
  } else if (path === '/leaderz' && opts.leadership !== undefined) {
    sendJson(res, 200, opts.leadership());
  } else if (path === '/version') {
    sendJson(res, 200, opts.ctx.version);
  } else if (path === '/readyz') {
    const revision = await withTimeout(opts.ctx.store.revision(), opts.readyTimeoutMs ?? 2_000);
    sendJson(res, 200, { status: 'ok', revision });
  } else {
    return false;
  }
  return true;
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UnavailableError(`store did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } catch (err) {
    throw err instanceof UnavailableError ? err : new UnavailableError(`store is not ready: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}
