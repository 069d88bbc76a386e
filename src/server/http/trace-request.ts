/**
 * One SERVER span per API request (src/tracing): named `METHOD KIND` (`GET Service`), child of
 * the caller's `traceparent` when it sent one, with the HTTP method, path, status code and the
 * caller's identity kind; ended when the answer is sent (streams: when they close).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { contextFromHeaders, SpanKind, SpanStatusCode, type Tracer } from '../../tracing/index.js';
import { kindLabel } from '../metrics/instrument.js';

/** Starts the request's span; it ends by itself with the response. */
export function traceRequest(tracer: Tracer, req: IncomingMessage, res: ServerResponse): void {
  const method = req.method ?? 'GET';
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const span = tracer.startSpan(`${method} ${kindLabel(req.url) || path}`, {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': method, 'url.path': path, 'server.component': 'flotilla-api' },
  }, contextFromHeaders(req.headers));
  res.once('close', () => {
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
}
