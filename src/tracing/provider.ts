/**
 * The OpenTelemetry SDK part of tracing (src/tracing/index.ts): provider, batch processor and the
 * OTLP/HTTP exporter. Loaded lazily by startTracing, only when an endpoint is set.
 */
import type { Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
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

/** Starts a tracer provider exporting to `o.endpoint`. */
export function startTracingNow(o: TracingOptions): Tracing {
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

