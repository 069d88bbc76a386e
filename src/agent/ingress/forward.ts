/**
 * One proxied exchange: the request goes to a task over a keep-alive connection with the
 * forwarding headers added (`X-Forwarded-For/Proto/Host`, a W3C `traceparent` when absent),
 * hop-by-hop headers dropped both ways, bodies streamed. A backend that cannot be reached or
 * fails before answering gives a 502 naming it; one that is too slow, 504.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';

/** Headers that belong to one connection, not to the message (RFC 9110 7.6.1). */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/** A fresh W3C trace context: version 00, random trace and parent ids, sampled. */
export function newTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}

function stripHopByHop(h: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = { ...h };
  const named = typeof h.connection === 'string' ? h.connection.split(',').map((s) => s.trim().toLowerCase()) : [];
  for (const k of [...HOP_BY_HOP, ...named]) delete out[k];
  return out;
}

/** The headers sent to the backend. */
export function forwardedHeaders(req: http.IncomingMessage, proto: 'http' | 'https'): http.OutgoingHttpHeaders {
  const h = stripHopByHop(req.headers);
  const client = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '';
  const prior = req.headers['x-forwarded-for'];
  h['x-forwarded-for'] = prior !== undefined && prior !== '' ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${client}` : client;
  h['x-forwarded-proto'] = proto;
  if (req.headers.host !== undefined) h['x-forwarded-host'] = req.headers.host;
  if (req.headers.traceparent === undefined) h.traceparent = newTraceparent();
  return h;
}

/** Answers with a short plain-text error (when nothing was sent yet). */
export function sendError(res: http.ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${text}\n`;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-flotilla-ingress': 'error' });
  res.end(body);
}

/** Where one request goes. */
export interface ForwardTarget {
  ip: string;
  port: number;
  /** For error messages: `task web-1-abc (service default/web)`. */
  label: string;
}

/** Proxies `req` to the target; resolves when the exchange is over (either way). */
export function forward(req: http.IncomingMessage, res: http.ServerResponse, target: ForwardTarget, proto: 'http' | 'https', agent: http.Agent, timeoutMs: number, extraHeaders: http.OutgoingHttpHeaders = {}): Promise<void> {
  return new Promise((resolve) => {
    const preq = http.request({ host: target.ip, port: target.port, method: req.method, path: req.url, headers: { ...forwardedHeaders(req, proto), ...extraHeaders }, agent });
    preq.setTimeout(timeoutMs, () => {
      sendError(res, 504, `504 gateway timeout: ${target.label} at ${target.ip}:${target.port} did not answer within ${timeoutMs} ms`);
      preq.destroy();
    });
    preq.on('response', (pres) => {
      res.writeHead(pres.statusCode ?? 502, pres.statusMessage, stripHopByHop(pres.headers));
      pres.pipe(res);
      pres.on('error', () => res.destroy());
    });
    preq.on('error', (err) => sendError(res, 502, `502 bad gateway: ${target.label} at ${target.ip}:${target.port}: ${err.message}`));
    res.on('close', () => {
      if (!res.writableFinished) preq.destroy();
      resolve();
    });
    req.pipe(preq);
  });
}
