/**
 * The ingress proxy of one node: HTTP and HTTPS servers on the ports the agent is given, routing
 * by the Ingress objects (routes.ts) to the ready tasks of the backend services (the endpoints
 * view), over keep-alive connections (forward.ts), with certificates by SNI (tls.ts).
 *
 *   client ─► http(s) server ─► matchRoute(host, path) ─ none ─► 404
 *                                 │ WeightedPicker over backends with ready tasks
 *                                 ├─ none ready ─► 503 (service missing / no ready task)
 *                                 │ canary backend: GroupPicker (weight) ─► its group's tasks
 *                                 └─► round-robin task of that backend ─► forward ─► 502/504 on failure
 *   Ingress informer ─► rebuild route table; TLS Secrets read one by one (tls-secrets.ts) ─► TLS contexts
 */
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import https from 'node:https';
import type { SecretSpec } from '../../api/kinds.js';
import type { ApiObject } from '../../api/object.js';
import type { IngressSpec } from '../../api/validate/ingress.js';
import { serviceRef, type Endpoint, type ServiceEndpoints } from '../../controllers/endpoints/endpoints.js';
import { Informer } from '../../controllers/framework/informer.js';
import type { Disposable } from '../../lifecycle.js';
import type { Store } from '../../store/store.js';
import type { EndpointsSource } from '../lb/balancer.js';
import { forward, sendError, type ForwardTarget } from './forward.js';
import { contextFromHeaders, injectSpan, SpanKind, SpanStatusCode, type Span, type Tracer } from '../../tracing/index.js';
import { buildRouteTable, GroupPicker, matchRoute, WeightedPicker, type IngressSource, type Route, type RouteBackend, type RouteTable } from './routes.js';
import { buildTlsContexts, contextFor, type TlsContexts } from './tls.js';
import { TlsSecretCache } from './tls-secrets.js';

/** How an IngressProxy is set up. */
export interface IngressProxyOptions {
  /** The endpoints view (the agent's ServiceDirectory). */
  source: EndpointsSource;
  /** Where Ingresses and Secrets are read from (the agent's API client). */
  store: Store;
  /** Bind address. Default 0.0.0.0. */
  host?: string;
  /** Plain HTTP port; undefined: none. 0: any free port. */
  httpPort?: number;
  /** HTTPS port; undefined: none. */
  httpsPort?: number;
  /** Bound on waiting for a backend's answer. Default 60 s. */
  backendTimeoutMs?: number;
  /** A SERVER span per request, passed on to the backend as its traceparent (src/tracing). */
  tracer?: Tracer;
  log?: (msg: string) => void;
}

/** Where a backend leads right now: a service with ready tasks and the port, or why not. */
type Resolved = { svc: ServiceEndpoints; targetPort: number } | { why: string };

/** See the file comment. */
export class IngressProxy implements Disposable {
  private readonly ingresses: Informer<ApiObject<IngressSpec>>;
  /** The Secrets Ingresses name for TLS, read one by one (a node may not list Secrets). */
  private readonly secrets: TlsSecretCache;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 });
  private readonly servers: http.Server[] = [];
  private table: RouteTable = buildRouteTable([]);
  private pickers = new Map<Route, WeightedPicker<RouteBackend>>();
  /** Canary group pickers, per route and backend service. */
  private groupPickers = new Map<Route, Map<string, GroupPicker>>();
  private tlsContexts: TlsContexts = { byHost: new Map(), problems: [] };
  private readonly turn = new Map<string, number>();
  private readonly log: (msg: string) => void;
  private stopping: Promise<void> | undefined;
  /** Bound addresses once started. */
  http: AddressInfo | undefined;
  https: AddressInfo | undefined;

  constructor(private readonly opts: IngressProxyOptions) {
    this.log = opts.log ?? (() => undefined);
    this.ingresses = new Informer({ store: opts.store, kind: 'Ingress', log: this.log });
    this.secrets = new TlsSecretCache(opts.store, () => this.rebuild(), this.log);
    const changed = (): void => {
      this.rebuild();
      void this.secrets.follow(this.tlsRefs());
    };
    this.ingresses.addHandler({ onAdd: changed, onUpdate: changed, onDelete: changed });
  }

  /** The Secrets the Ingresses name for TLS. */
  private tlsRefs(): Array<{ namespace: string; name: string }> {
    const seen = new Map<string, { namespace: string; name: string }>();
    for (const i of this.ingresses.list()) for (const t of i.spec.tls) seen.set(`${i.metadata.namespace}/${t.secret}`, { namespace: i.metadata.namespace, name: t.secret });
    return [...seen.values()];
  }

  /** Fills the caches, then listens. */
  async start(): Promise<void> {
    await this.ingresses.start();
    await this.secrets.follow(this.tlsRefs());
    this.rebuild();
    const host = this.opts.host ?? '0.0.0.0';
    if (this.opts.httpPort !== undefined) {
      const s = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => this.handle(req, res, 'http'));
      this.http = await this.listen(s, host, this.opts.httpPort);
    }
    if (this.opts.httpsPort !== undefined) {
      const s = https.createServer({ SNICallback: (name, cb) => this.sni(name, cb), keepAliveTimeout: 65_000 }, (req, res) => this.handle(req, res, 'https'));
      this.https = await this.listen(s, host, this.opts.httpsPort);
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      })));
      this.agent.destroy();
      await Promise.all([this.ingresses.stop(), this.secrets.stop()]);
    })();
    return this.stopping;
  }

  private async listen(s: http.Server, host: string, port: number): Promise<AddressInfo> {
    this.servers.push(s);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, host, () => { s.off('error', reject); resolve(); });
    });
    return s.address() as AddressInfo;
  }

  private rebuild(): void {
    const sources: IngressSource[] = this.ingresses.list().map((i) => ({ namespace: i.metadata.namespace, name: i.metadata.name, spec: i.spec }));
    this.table = buildRouteTable(sources);
    this.pickers = new Map();
    this.groupPickers = new Map();
    const secretOf = (ns: string, name: string): SecretSpec | undefined => this.secrets.get(ns, name);
    const next = buildTlsContexts(sources, secretOf);
    for (const p of next.problems) if (!this.tlsContexts.problems.includes(p)) this.log(`ingress: tls: ${p}`);
    this.tlsContexts = next;
  }

  private sni(name: string, cb: (err: Error | null, ctx?: import('node:tls').SecureContext) => void): void {
    const ctx = contextFor(this.tlsContexts, name);
    if (ctx === undefined) cb(new Error(`no certificate for ${name}`));
    else cb(null, ctx);
  }

  private resolve(b: RouteBackend, view: Map<string, ServiceEndpoints>): Resolved {
    const ref = serviceRef(b.namespace, b.service);
    const svc = view.get(ref);
    if (svc === undefined) return { why: `service ${ref} does not exist` };
    const port = svc.ports.find((p) => (typeof b.port === 'number' ? p.port === b.port : p.name === b.port));
    if (port === undefined) return { why: `service ${ref} has no port ${b.port}` };
    if (svc.endpoints.length === 0) return { why: `service ${ref} has no ready task` };
    return { svc, targetPort: port.targetPort };
  }

  /** The task for one request to `chosen`: its canary group by weight (per route and service), then round-robin in it. */
  private target(route: Route, chosen: RouteBackend, r: { svc: ServiceEndpoints; targetPort: number }): ForwardTarget {
    const ref = serviceRef(chosen.namespace, chosen.service);
    let perRoute = this.groupPickers.get(route);
    if (perRoute === undefined) this.groupPickers.set(route, (perRoute = new Map()));
    let gp = perRoute.get(ref);
    if (gp === undefined) perRoute.set(ref, (gp = new GroupPicker()));
    const { revision, endpoints } = gp.pick(r.svc);
    const k = `${ref}/${chosen.port}${revision !== undefined ? `#${revision}` : ''}`;
    const n = this.turn.get(k) ?? 0;
    this.turn.set(k, n + 1);
    const e = endpoints[n % endpoints.length] as Endpoint;
    return { ip: e.ip, port: r.targetPort, label: `task ${e.task} (service ${ref})` };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, proto: 'http' | 'https'): void {
    const path = (req.url ?? '/').split('?')[0] as string;
    const span = this.opts.tracer !== undefined ? ingressSpan(this.opts.tracer, req, res, path) : undefined;
    const route = matchRoute(this.table, req.headers.host, path);
    if (route === undefined) {
      sendError(res, 404, `404 not found: no ingress rule for host ${JSON.stringify(req.headers.host ?? '')} and path ${path}`);
      return;
    }
    let picker = this.pickers.get(route);
    if (picker === undefined) this.pickers.set(route, (picker = new WeightedPicker(route.backends)));
    const view = this.opts.source.view();
    const resolved = new Map<RouteBackend, Resolved>(route.backends.map((b) => [b, this.resolve(b, view)]));
    const chosen = picker.pick((b) => 'svc' in (resolved.get(b) as Resolved));
    if (chosen === undefined) {
      const why = [...new Set([...resolved.values()].map((r) => ('why' in r ? r.why : '')))].filter(Boolean).join('; ');
      sendError(res, 503, `503 service unavailable: ${route.host ?? '*'}${route.path} (ingress ${route.ingresses.join(', ')}): ${why || 'no backend with weight > 0'}`);
      return;
    }
    const target = this.target(route, chosen, resolved.get(chosen) as { svc: ServiceEndpoints; targetPort: number });
    const trace: http.OutgoingHttpHeaders = {};
    if (span !== undefined) {
      span.setAttributes({ 'flotilla.backend': target.label, 'server.address': target.ip, 'server.port': target.port });
      injectSpan(span, trace);
    }
    void forward(req, res, target, proto, this.agent, this.opts.backendTimeoutMs ?? 60_000, trace);
  }
}

/** The request's span (child of its traceparent), ended with the response and its status. */
function ingressSpan(tracer: Tracer, req: http.IncomingMessage, res: http.ServerResponse, path: string): Span {
  const span = tracer.startSpan(`ingress ${req.method ?? 'GET'}`, {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': req.method ?? 'GET', 'url.path': path, 'http.host': req.headers.host ?? '' },
  }, contextFromHeaders(req.headers));
  res.once('close', () => {
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  return span;
}
