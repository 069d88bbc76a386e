/**
 * The agent's own HTTPS endpoint, what the kubelet's port is to Kubernetes: the API server
 * proxies `flotilla logs` and `flotilla exec` to it. Mutual TLS both ways: the agent presents
 * its node certificate; the caller must present a certificate signed by the cluster CA whose
 * CN is the server's (`flotilla:server`); nobody else gets an answer.
 *
 *   TLS (client cert required, cluster CA only) -> CN allowed? (403)
 *     GET  /containers/{id}/logs?follow=1&tail=N  -> JSON lines {stream, line, time}
 *     POST /containers/{id}/exec  {command:[...]} -> JSON lines {stream, data} ... {exit}
 *     POST /certificate/renew                     -> {certificate}: renewed now (rotate-cert, ca rotate)
 *     POST /images/prune                          -> JSON {images, layers, blobs, rootfs, bytesFreed}
 *     GET  /metrics                               -> the agent's own Prometheus text (src/agent/metrics/prometheus.ts)
 *   stop(): abort the streams (follows end, exec'd processes are killed), close the sockets
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ForbiddenError, NotFoundError } from '../../api/errors.js';
import type { Disposable } from '../../lifecycle.js';
import { MethodNotAllowedError } from '../../server/http/respond.js';
import { SERVER_CLIENT_CN } from '../../server/pki/index.js';
import { CONTAINER_ID_PATTERN, type ContainerRuntime } from '../runtime/runtime.js';
import { sendAgentError, serveExec, serveLogs, type StreamEnv } from './streams.js';

/** How the agent endpoint is wired. */
export interface AgentEndpointOptions {
  /** Address to bind (the agent's address; default 127.0.0.1). */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** The node certificate and key (server certificate of this endpoint). */
  certPem: string;
  keyPem: string;
  /** The cluster CA: the only CA whose client certificates are accepted. */
  caPem: string;
  runtime: ContainerRuntime;
  /** The supervisor's log dir (live logs are read through the runtime, archived ones from here). */
  logDir: string;
  /** `POST /certificate/renew` (the server's `node rotate-cert` and `ca rotate`): renews the node certificate now. */
  renew?: () => Promise<{ certPem: string }>;
  /** Image garbage collection now (`flotilla node prune`); absent: 404. */
  prune?: () => Promise<unknown>;
  /** The agent's Prometheus exposition (`GET /metrics`); absent: 404. */
  metrics?: () => Promise<{ contentType: string; text: string }>;
  /** Client certificate CNs allowed (default: the server's). */
  allowedClients?: readonly string[];
  log?: (line: string) => void;
}

/** A listening agent endpoint. */
export interface AgentEndpoint extends Disposable {
  address: AddressInfo;
  /** Uses a renewed node certificate (and trust bundle) for new connections. */
  setCredentials(certPem: string, keyPem: string, caPem?: string): void;
}

/** Starts the endpoint; resolves once it listens. */
export async function startAgentEndpoint(opts: AgentEndpointOptions): Promise<AgentEndpoint> {
  const allowed = new Set(opts.allowedClients ?? [SERVER_CLIENT_CN]);
  let trust = opts.caPem;
  const live = new Set<AbortController>();
  const env: StreamEnv = { runtime: opts.runtime, logDir: opts.logDir, live, log: opts.log ?? (() => undefined) };
  const server = https.createServer({
    key: opts.keyPem, cert: opts.certPem, ca: opts.caPem,
    requestCert: true, rejectUnauthorized: true,
    keepAlive: true, requestTimeout: 0,
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void route(env, allowed, req, res, opts).catch((err: unknown) => sendAgentError(res, err, env.log));
  });
  server.on('tlsClientError', () => {
    // A caller without a certificate of the cluster CA: the handshake failed, nothing to answer.
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  let stopping: Promise<void> | undefined;
  return {
    address: server.address() as AddressInfo,
    setCredentials(certPem: string, keyPem: string, caPem?: string): void {
      trust = caPem ?? trust;
      server.setSecureContext({ key: keyPem, cert: certPem, ca: trust });
    },
    stop(): Promise<void> {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const c of live) c.abort();
        server.closeIdleConnections();
        const timer = setTimeout(() => server.closeAllConnections(), 1_000);
        await closed;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

type Handlers = Pick<AgentEndpointOptions, 'renew' | 'prune' | 'metrics'>;

async function route(env: StreamEnv, allowed: ReadonlySet<string>, req: IncomingMessage, res: ServerResponse, { renew, prune, metrics }: Handlers): Promise<void> {
  const cn = (req.socket as TLSSocket).getPeerCertificate().subject?.CN;
  if (typeof cn !== 'string' || !allowed.has(cn)) throw new ForbiddenError(`client ${JSON.stringify(cn ?? '')} may not use the agent endpoint`);
  const url = new URL(req.url ?? '/', 'https://agent.invalid');
  if (url.pathname === '/certificate/renew' && renew !== undefined) {
    if (req.method !== 'POST') throw new MethodNotAllowedError('only POST is allowed here');
    const { certPem } = await renew();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ certificate: certPem }));
    return;
  }
  if (url.pathname === '/metrics' && metrics !== undefined) {
    if (req.method !== 'GET') throw new MethodNotAllowedError('only GET is allowed here');
    const { contentType, text } = await metrics();
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(text);
    return;
  }
  const parts = url.pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
  if (url.pathname === '/images/prune' && prune !== undefined) {
    if (req.method !== 'POST') throw new MethodNotAllowedError('only POST is allowed here');
    req.resume();
    const result = await prune();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
    return;
  }
  if (parts.length !== 3 || parts[0] !== 'containers') throw new NotFoundError(`no route for ${url.pathname}`);
  const id = parts[1] as string;
  if (!CONTAINER_ID_PATTERN.test(id)) throw new NotFoundError(`container ${JSON.stringify(id)} not found`);
  const method = req.method ?? 'GET';
  if (parts[2] === 'logs') {
    if (method !== 'GET') throw new MethodNotAllowedError('only GET is allowed here');
    return serveLogs(env, id, url, req, res);
  }
  if (parts[2] === 'exec') {
    if (method !== 'POST') throw new MethodNotAllowedError('only POST is allowed here');
    return serveExec(env, id, req, res);
  }
  throw new NotFoundError(`no route for ${url.pathname}`);
}
