/**
 * The autoscaler (leader-only loop): every `intervalMs` (default 10 s) it decides the size of
 * every service with `spec.autoscale` (compute.ts) from the server's in-memory metrics
 * (src/server/metrics: the agents' samples and pushed custom values) or a Prometheus query, and
 * writes the decision: `spec.replicas` when it changes (with a SuccessfulRescale Event) and
 * `status.autoscale {desired, reason, metrics, lastScaleTime}`.
 *
 *   tick ──► list Services with autoscale ──► per service: task usage, request, custom values
 *        ──► decide() ──► replicas changed? update spec + status, Event : status only when the
 *                         decision's words changed (or once a minute, for fresh readings)
 *
 * The proposals of the stabilization windows live in memory: after a leader change the new
 * leader starts with empty windows (as Kubernetes' HPA does after a restart).
 * With several servers, agents report to the server they are connected to: the leader sees the
 * samples of its own agents only (docs/metrics.md).
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '../../api/errors.js';
import type { AutoscaleStatus, EventObject, Service } from '../../api/kinds.js';
import { keyOf } from '../../api/object.js';
import { parseBytes, parseCpuMillis } from '../../api/quantity.js';
import type { Disposable } from '../../lifecycle.js';
import type { MetricsSeries } from '../../server/metrics/series.js';
import type { Store } from '../../store/store.js';
import { systemClock, type Clock, type TimerHandle } from '../framework/clock.js';
import { decide } from './compute.js';

/** Options of startAutoscaler. */
export interface AutoscalerOptions {
  intervalMs?: number;
  clock?: Clock;
  log?: (line: string) => void;
  /** Reads one number from a Prometheus server (default: its HTTP API with fetch, 3 s timeout). */
  queryPrometheus?: (url: string, query: string) => Promise<number | undefined>;
}

/** Re-write an unchanged decision at most this often (its readings move). */
const REFRESH_MS = 60_000;

/** `GET URL/api/v1/query?query=Q`: the first sample's value (undefined when the result is empty). */
export async function queryPrometheus(url: string, query: string): Promise<number | undefined> {
  const res = await fetch(`${url.replace(/\/+$/, '')}/api/v1/query?query=${encodeURIComponent(query)}`, { signal: AbortSignal.timeout(3_000) });
  if (!res.ok) throw new Error(`prometheus ${url}: HTTP ${res.status}`);
  const body = (await res.json()) as { status?: string; data?: { resultType?: string; result?: unknown } };
  const r = body.data?.result;
  if (body.data?.resultType === 'scalar' && Array.isArray(r)) return Number(r[1]);
  if (Array.isArray(r) && r.length > 0) return Number((r[0] as { value?: [number, string] }).value?.[1]);
  return undefined;
}

/** Per task: the CPU (cores) and memory (bytes) request, else limit. */
function requestOf(svc: Service): { cpuCores?: number; memoryBytes?: number } {
  const { requests, limits } = svc.spec.resources;
  const cpu = requests.cpu ?? limits.cpu;
  const mem = requests.memory ?? limits.memory;
  return { ...(cpu !== undefined ? { cpuCores: parseCpuMillis(cpu) / 1000 } : {}), ...(mem !== undefined ? { memoryBytes: parseBytes(mem) } : {}) };
}

/** Starts the loop; the Disposable stops it (a tick in flight finishes). */
export function startAutoscaler(store: Store, series: MetricsSeries, opts: AutoscalerOptions = {}): Disposable {
  const clock = opts.clock ?? systemClock;
  const intervalMs = opts.intervalMs ?? 10_000;
  const log = opts.log ?? (() => undefined);
  const query = opts.queryPrometheus ?? queryPrometheus;
  const history = new Map<string, Array<{ atMs: number; replicas: number }>>();
  let timer: TimerHandle | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  async function customValues(svc: Service): Promise<Map<string, number | undefined>> {
    const out = new Map<string, number | undefined>();
    for (const m of svc.spec.autoscale?.metrics ?? []) {
      const c = m.custom;
      if (c === undefined) continue;
      if (c.prometheus === undefined) out.set(c.name, series.customValue(svc.metadata.namespace, svc.metadata.name, c.name));
      else out.set(c.name, await query(c.prometheus.url, c.prometheus.query).catch((err: unknown) => { log(`autoscaler: ${svc.metadata.name}: ${(err as Error).message}`); return undefined; }));
    }
    return out;
  }

  async function one(svc: Service, nowMs: number): Promise<void> {
    const spec = svc.spec.autoscale;
    if (spec === undefined) return;
    const id = `${svc.metadata.namespace}/${svc.metadata.name}`;
    const windowMs = 1000 * Math.max(spec.scaleUpStabilizationSeconds, spec.scaleDownStabilizationSeconds);
    const past = (history.get(id) ?? []).filter((h) => nowMs - h.atMs <= windowMs);
    const tasks = series.taskUsage({ namespace: svc.metadata.namespace, service: svc.metadata.name });
    const d = decide({ spec, current: svc.spec.replicas, tasks, request: requestOf(svc), custom: await customValues(svc), history: past, nowMs });
    if (d.proposal !== undefined) past.push({ atMs: nowMs, replicas: d.proposal });
    history.set(id, past);
    const now = new Date(nowMs).toISOString();
    const prev = svc.status?.autoscale;
    const scaled = d.status.desired !== svc.spec.replicas;
    const status: AutoscaleStatus = { ...d.status, time: now, ...(scaled ? { lastScaleTime: now } : prev?.lastScaleTime !== undefined ? { lastScaleTime: prev.lastScaleTime } : {}) };
    const sameWords = prev !== undefined && prev.reason === status.reason && prev.desired === status.desired;
    if (!scaled && sameWords && nowMs - Date.parse(prev.time) < REFRESH_MS) return;
    const next: Service = {
      ...svc,
      metadata: { ...svc.metadata, generation: svc.metadata.generation + (scaled ? 1 : 0) },
      spec: { ...svc.spec, replicas: d.status.desired },
      status: { ...(svc.status ?? {}), autoscale: status },
    };
    await store.update(next, svc.metadata.revision);
    if (scaled) {
      log(`autoscaler: ${id}: ${status.reason}`);
      await store.create(rescaleEvent(svc, svc.spec.replicas, d.status.desired, status.reason, now)).catch(() => undefined);
    }
  }

  const tick = (): void => {
    running = (async () => {
      const { items } = await store.list('Service');
      const nowMs = clock.now();
      for (const svc of items as Service[]) {
        if (svc.spec.autoscale === undefined || svc.spec.mode !== 'replicated') continue;
        try {
          await one(svc, nowMs);
        } catch (err) {
          // Someone wrote the service meanwhile (or deleted it): the next tick decides again.
          if (!(err instanceof ConflictError) && !(err instanceof NotFoundError)) log(`autoscaler: ${keyOf(svc).name}: ${(err as Error).message}`);
        }
      }
      for (const id of history.keys()) if (!items.some((s) => `${s.metadata.namespace}/${s.metadata.name}` === id)) history.delete(id);
    })().catch((err: unknown) => log(`autoscaler: ${(err as Error).message}`)).finally(() => {
      running = undefined;
      if (!stopped) timer = clock.setTimeout(tick, intervalMs);
    });
  };
  timer = clock.setTimeout(tick, intervalMs);
  return {
    async stop(): Promise<void> {
      stopped = true;
      timer?.clear();
      await running;
    },
  };
}

function rescaleEvent(svc: Service, from: number, to: number, reason: string, now: string): EventObject {
  return {
    kind: 'Event',
    metadata: { name: `${svc.metadata.name}.rescale.${Date.parse(now).toString(36)}`, namespace: svc.metadata.namespace, uid: randomUUID(), labels: {}, revision: 0, generation: 1, creationTimestamp: now },
    spec: { involved: `Service/${svc.metadata.namespace}/${svc.metadata.name}`, type: 'Normal', reason: 'SuccessfulRescale', message: `new size ${to} (was ${from}): ${reason}`, source: 'autoscaler', count: 1, firstTimestamp: now, lastTimestamp: now },
  };
}
