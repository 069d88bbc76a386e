/**
 * The server's own instruments (prom-client, on a registry per server so several servers can
 * share one process in tests): API requests by method, kind and code with a latency histogram,
 * store write latency by operation, open store watches. `instrumentStore` wraps the store the
 * server uses, so every write (API, controllers, scheduler) is measured in one place.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolveKind } from '../../api/kind-names.js';
import type { Store } from '../../store/store.js';

/** The instruments of one server. */
export interface ServerInstruments {
  observeRequest(req: IncomingMessage, res: ServerResponse): void;
  /** Wraps a store: writes timed, watches counted. */
  instrumentStore(store: Store): Store;
}

const WRITE_OPS = new Set(['create', 'update', 'delete', 'txn']);

/** The kind a request addresses, from its path (`/api/v1/services/web` -> Service), for labels. */
export function kindLabel(url: string | undefined): string {
  const parts = (url ?? '').split('?')[0]?.split('/').filter((p) => p !== '') ?? [];
  if (parts[0] !== 'api' || parts[1] !== 'v1' || parts[2] === undefined) return parts[0] ?? '';
  return resolveKind(parts[2]) ?? parts[2];
}

/** Creates the instruments on `registry`. */
export function createInstruments(registry: Registry): ServerInstruments {
  const requests = new Counter({ name: 'flotilla_api_requests_total', help: 'API requests by method, kind and status code', labelNames: ['method', 'kind', 'code'], registers: [registry] });
  const latency = new Histogram({
    name: 'flotilla_api_request_duration_seconds', help: 'API request latency (watch and log streams excluded)', labelNames: ['method', 'kind'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry],
  });
  const writes = new Histogram({
    name: 'flotilla_store_write_duration_seconds', help: 'Store write latency by operation', labelNames: ['op'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [registry],
  });
  const watches = new Gauge({ name: 'flotilla_store_watches', help: 'Open store watches (API watch streams, informers)', registers: [registry] });
  return {
    observeRequest(req, res): void {
      const start = process.hrtime.bigint();
      const kind = kindLabel(req.url);
      const streaming = /\/(watch|logs|exec)(\?|$)/.test(req.url ?? '') || /[?&]follow=true/.test(req.url ?? '');
      res.once('finish', () => {
        const method = req.method ?? '';
        requests.inc({ method, kind, code: String(res.statusCode) });
        if (!streaming) latency.observe({ method, kind }, Number(process.hrtime.bigint() - start) / 1e9);
      });
    },
    instrumentStore(store: Store): Store {
      return new Proxy(store, {
        get(target, prop, receiver) {
          const v = Reflect.get(target, prop, receiver) as unknown;
          if (typeof v !== 'function') return v;
          const fn = v as (...args: unknown[]) => Promise<unknown>;
          if (typeof prop === 'string' && WRITE_OPS.has(prop)) {
            return async (...args: unknown[]) => {
              const end = writes.startTimer({ op: prop });
              try {
                return await fn.apply(target, args);
              } finally {
                end();
              }
            };
          }
          if (prop === 'watch') {
            return async (...args: unknown[]) => {
              const w = (await fn.apply(target, args)) as { stop(): Promise<void> };
              watches.inc();
              let stopped = false;
              return { stop: async () => { if (!stopped) { stopped = true; watches.dec(); } await w.stop(); } };
            };
          }
          return fn.bind(target);
        },
      });
    },
  };
}
