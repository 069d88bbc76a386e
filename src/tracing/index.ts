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
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Disposable } from '../lifecycle.js';

/** A component's tracing: its tracer, and stop() flushing what is buffered. */
export interface Tracing extends Disposable {
  tracer: Tracer;
}

/** Options of startTracing. */
export interface TracingOptions {
  /** Collector base URL (`http://127.0.0.1:4318`); spans go to `{endpoint}/v1/traces`. */
  endpoint: string;
  /** `flotilla-server`, `flotilla-agent`. */
  serviceName: string;
  /** Extra resource attributes (node name...). */
  attributes?: Record<string, string>;
  /** Export batch delay (default 1000 ms). */
  flushMs?: number;
}

const propagator = new W3CTraceContextPropagator();

/** Starts a tracer provider exporting to the endpoint; undefined when no endpoint is set. */
export function startTracing(o: TracingOptions | undefined): Tracing | undefined {
  if (o === undefined || o.endpoint === '') return undefined;
  const exporter = new OTLPTraceExporter({ url: `${o.endpoint.replace(/\/+$/, '')}/v1/traces` });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': o.serviceName, ...(o.attributes ?? {}) }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: o.flushMs ?? 1_000 })],
  });
  return {
    tracer: provider.getTracer('flotilla'),
    async stop(): Promise<void> {
      await provider.forceFlush().catch(() => undefined);
      await provider.shutdown().catch(() => undefined);
    },
  };
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
