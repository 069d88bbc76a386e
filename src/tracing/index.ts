/**
 * Tracing (OpenTelemetry): spans exported with OTLP over HTTP (JSON) to a collector given with
 * `--otlp-endpoint URL` (server, up, agent). One provider per component, not registered as the
 * process's global one (a test runs servers and agents side by side). W3C `traceparent` carries
 * the context: a request that comes with one continues its trace; the ingress passes its own
 * span's context on to the backend.
 *
 *   server:  "GET services" (SERVER span per API request)   "schedule task" (one per placement)
 *   agent:   "ingress GET /path" (SERVER span per ingress request, backend and status attributes)
 *            ──BatchSpanProcessor──► OTLPTraceExporter ──POST {endpoint}/v1/traces──► collector
 */
import { context as otelContext, propagation, ROOT_CONTEXT, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Tracing, TracingOptions } from './provider.js';

export type { Tracing, TracingOptions } from './provider.js';

const propagator = new W3CTraceContextPropagator();

/**
 * Starts a tracer provider exporting to the endpoint; undefined when no endpoint is set. The SDK
 * and the exporter (src/tracing/provider.ts) are loaded only here: a process without
 * `--otlp-endpoint` never loads them (idle memory, issue 14).
 */
export async function startTracing(o: TracingOptions | undefined): Promise<Tracing | undefined> {
  if (o === undefined || o.endpoint === '') return undefined;
  return (await import('./provider.js')).startTracingNow(o);
}

/** The context of an incoming request's `traceparent` (ROOT when it has none). */
export function contextFromHeaders(headers: IncomingHttpHeaders): Context {
  return propagator.extract(ROOT_CONTEXT, headers, {
    get: (h, k) => h[k] as string | string[] | undefined,
    keys: (h) => Object.keys(h),
  });
}

/** Writes `span`'s context as `traceparent` (and `tracestate`) into outgoing headers. */
export function injectSpan(span: Span, headers: OutgoingHttpHeaders): void {
  propagator.inject(trace.setSpan(otelContext.active(), span), headers, { set: (h, k, v) => { h[k] = v; } });
}

export { propagation, SpanKind, SpanStatusCode } from '@opentelemetry/api';
export type { Span, Tracer } from '@opentelemetry/api';
