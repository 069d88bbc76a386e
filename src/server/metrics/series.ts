/**
 * Recent resource use, in memory (never in the store: a report every 10 s from every node
 * would be the biggest write load of the cluster). Per node and per task: the last two raw
 * samples (for rates now) and a ring of (time, CPU cores, memory bytes) points over the
 * retention (default 1 h) for charts and the autoscaler.
 *
 *   record(node, report) ──► node series: last, prev, ring ◄── nodeUsage()
 *                        └─► a series per task of the report ◄── taskUsage(), serviceUsage(), points()
 *   series not reported for longer than the retention are dropped (on record)
 *
 * Memory: a ring point is 3 float64 (24 B); 360 points (1 h at 10 s) ~ 8.6 KB per series plus
 * the two raw samples.
 */
import type { MetricsReport, NodeSample, NodeUsage, ServiceUsage, TaskSample, TaskUsage, UsagePoint } from '../../api/metrics.js';

/** Options of MetricsSeries. */
export interface MetricsSeriesOptions {
  /** How long points are kept (default 1 h). */
  retentionMs?: number;
  /** Points kept per series at most (default 360). */
  maxPoints?: number;
  now?: () => number;
}

/** A fixed-size ring of (timeMs, cpu, memory) points. */
export class PointRing {
  private readonly data: Float64Array;
  private start = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.data = new Float64Array(capacity * 3);
  }

  push(timeMs: number, cpu: number, memory: number): void {
    const i = ((this.start + this.size) % this.capacity) * 3;
    this.data[i] = timeMs;
    this.data[i + 1] = cpu;
    this.data[i + 2] = memory;
    if (this.size < this.capacity) this.size++;
    else this.start = (this.start + 1) % this.capacity;
  }

  /** Points at or after `sinceMs`, oldest first. */
  points(sinceMs = -Infinity): UsagePoint[] {
    const out: UsagePoint[] = [];
    for (let k = 0; k < this.size; k++) {
      const i = ((this.start + k) % this.capacity) * 3;
      const t = this.data[i] as number;
      if (t >= sinceMs) out.push({ time: new Date(t).toISOString(), cpuCores: this.data[i + 1] as number, memoryBytes: this.data[i + 2] as number });
    }
    return out;
  }
}

interface Timed<S> {
  /** The agent's sample time (ms), for rates between two samples of one agent. */
  atMs: number;
  sample: S;
}

interface NodeSeries {
  last: Timed<NodeSample>;
  prev?: Timed<NodeSample>;
  ring: PointRing;
  receivedMs: number;
}

interface TaskSeries {
  node: string;
  last: Timed<TaskSample>;
  prev?: Timed<TaskSample>;
  ring: PointRing;
  receivedMs: number;
  /** False once its node reported without it (ended, moved): no longer "now". */
  current: boolean;
}

/** Rate per second of a counter between two samples (0 when the counter went back: a restart). */
function rate(prev: Timed<unknown> | undefined, last: Timed<unknown>, get: (s: unknown) => number): number {
  if (prev === undefined) return 0;
  const dt = (last.atMs - prev.atMs) / 1000;
  const d = get(last.sample) - get(prev.sample);
  return dt > 0 && d >= 0 ? d / dt : 0;
}

const taskRate = (s: TaskSeries, get: (x: TaskSample) => number): number => rate(s.prev, s.last, (x) => get(x as TaskSample));
const nodeRate = (s: NodeSeries, get: (x: NodeSample) => number): number => rate(s.prev, s.last, (x) => get(x as NodeSample));

/** See the file comment. */
export class MetricsSeries {
  private readonly nodes = new Map<string, NodeSeries>();
  private readonly tasks = new Map<string, TaskSeries>();
  private readonly retentionMs: number;
  private readonly maxPoints: number;
  private readonly now: () => number;

  constructor(opts: MetricsSeriesOptions = {}) {
    this.retentionMs = opts.retentionMs ?? 3_600_000;
    this.maxPoints = opts.maxPoints ?? 360;
    this.now = opts.now ?? Date.now;
  }

  private readonly custom = new Map<string, { value: number; atMs: number }>();

  /** A pushed value of a service's custom metric (POST /api/v1/services/NAME/metrics). */
  setCustom(namespace: string, service: string, name: string, value: number): void {
    this.custom.set(JSON.stringify([namespace, service, name]), { value, atMs: this.now() });
  }

  /** The last pushed value of a custom metric, when pushed within the retention. */
  customValue(namespace: string, service: string, name: string): number | undefined {
    const v = this.custom.get(JSON.stringify([namespace, service, name]));
    return v !== undefined && this.now() - v.atMs <= this.retentionMs ? v.value : undefined;
  }

  /** Number of series held (nodes + tasks), for /metrics and the benchmark. */
  seriesCount(): number {
    return this.nodes.size + this.tasks.size;
  }

  /** Takes one report of `node`. */
  record(node: string, report: MetricsReport): void {
    const nowMs = this.now();
    const parsed = Date.parse(report.time);
    const atMs = Number.isNaN(parsed) ? nowMs : parsed;
    const n = this.nodes.get(node);
    const ns: NodeSeries = n ?? { last: { atMs, sample: report.node }, ring: new PointRing(this.maxPoints), receivedMs: nowMs };
    if (n !== undefined) {
      ns.prev = n.last;
      ns.last = { atMs, sample: report.node };
      ns.receivedMs = nowMs;
    }
    this.nodes.set(node, ns);
    ns.ring.push(atMs, nodeRate(ns, (x) => x.cpuBusyNs) / 1e9, report.node.memoryTotalBytes - report.node.memoryAvailableBytes);
    const seen = new Set<string>();
    for (const t of report.tasks) {
      const key = `${t.namespace}/${t.task}`;
      seen.add(key);
      const cur = this.tasks.get(key);
      const s: TaskSeries = cur !== undefined && cur.node === node
        ? { ...cur, prev: cur.last, last: { atMs, sample: t }, receivedMs: nowMs, current: true }
        : { node, last: { atMs, sample: t }, ring: cur?.ring ?? new PointRing(this.maxPoints), receivedMs: nowMs, current: true };
      this.tasks.set(key, s);
      s.ring.push(atMs, taskRate(s, (x) => x.cpuUsageNs) / 1e9, t.memoryBytes);
    }
    for (const [key, s] of this.tasks) {
      if (s.node === node && !seen.has(key)) s.current = false;
      if (nowMs - s.receivedMs > this.retentionMs) this.tasks.delete(key);
    }
    for (const [name, s] of this.nodes) if (nowMs - s.receivedMs > this.retentionMs) this.nodes.delete(name);
  }

  /** Every node's usage from its last two samples. */
  nodeUsage(): NodeUsage[] {
    return [...this.nodes.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([node, s]) => {
      const x = s.last.sample;
      const busy = nodeRate(s, (v) => v.cpuBusyNs);
      const total = nodeRate(s, (v) => v.cpuTotalNs);
      const used = x.memoryTotalBytes - x.memoryAvailableBytes;
      return {
        node,
        time: new Date(s.last.atMs).toISOString(),
        cpuCores: busy / 1e9,
        cores: x.cores,
        cpuPercent: total > 0 ? (100 * busy) / total : 0,
        memoryBytes: used,
        memoryTotalBytes: x.memoryTotalBytes,
        memoryPercent: x.memoryTotalBytes > 0 ? (100 * used) / x.memoryTotalBytes : 0,
        diskUsedBytes: x.diskTotalBytes - x.diskFreeBytes,
        diskTotalBytes: x.diskTotalBytes,
        netRxBytesPerSecond: nodeRate(s, (v) => v.netRxBytes),
        netTxBytesPerSecond: nodeRate(s, (v) => v.netTxBytes),
      };
    });
  }

  /** The usage of the tasks running now, optionally of one namespace and service. */
  taskUsage(filter: { namespace?: string; service?: string } = {}): TaskUsage[] {
    const out: TaskUsage[] = [];
    for (const s of this.tasks.values()) {
      const t = s.last.sample;
      if (!s.current || (filter.namespace !== undefined && t.namespace !== filter.namespace) || (filter.service !== undefined && t.service !== filter.service)) continue;
      const cpu = taskRate(s, (x) => x.cpuUsageNs) / 1e9;
      out.push({
        task: t.task, namespace: t.namespace, service: t.service, node: s.node,
        time: new Date(s.last.atMs).toISOString(),
        cpuCores: cpu,
        ...(t.cpuLimitCores !== undefined && t.cpuLimitCores > 0 ? { cpuLimitPercent: (100 * cpu) / t.cpuLimitCores } : {}),
        cpuThrottledPerSecond: taskRate(s, (x) => x.cpuThrottledPeriods),
        memoryBytes: t.memoryBytes,
        ...(t.memoryLimitBytes !== undefined ? { memoryLimitBytes: t.memoryLimitBytes } : {}),
        oomKills: t.oomKills,
        pids: t.pids,
        netRxBytesPerSecond: taskRate(s, (x) => x.netRxBytes),
        netTxBytesPerSecond: taskRate(s, (x) => x.netTxBytes),
        blockReadBytesPerSecond: taskRate(s, (x) => x.blockReadBytes),
        blockWriteBytesPerSecond: taskRate(s, (x) => x.blockWriteBytes),
      });
    }
    return out.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.task.localeCompare(b.task));
  }

  /** Per service: its running tasks' CPU and memory summed, averaged and maxed. */
  serviceUsage(filter: { namespace?: string } = {}): ServiceUsage[] {
    const groups = new Map<string, TaskUsage[]>();
    for (const t of this.taskUsage(filter)) {
      const key = `${t.namespace}/${t.service}`;
      groups.set(key, [...(groups.get(key) ?? []), t]);
    }
    return [...groups.values()].map((ts) => summarize(ts)).sort((a, b) => a.namespace.localeCompare(b.namespace) || a.service.localeCompare(b.service));
  }

  /** Points of one task, node or service (a service: its tasks' points summed per report time) since `sinceMs`. */
  points(q: { namespace?: string; task?: string; service?: string; node?: string }, sinceMs = -Infinity): UsagePoint[] {
    if (q.node !== undefined) return this.nodes.get(q.node)?.ring.points(sinceMs) ?? [];
    if (q.task !== undefined) return this.tasks.get(`${q.namespace ?? 'default'}/${q.task}`)?.ring.points(sinceMs) ?? [];
    const byTime = new Map<string, UsagePoint>();
    for (const s of this.tasks.values()) {
      if (s.last.sample.service !== q.service || s.last.sample.namespace !== (q.namespace ?? 'default')) continue;
      for (const p of s.ring.points(sinceMs)) {
        // Reports of several nodes land at slightly different times: bucket by the interval's second.
        const at = new Date(Math.round(Date.parse(p.time) / 10_000) * 10_000).toISOString();
        const sum = byTime.get(at) ?? { time: at, cpuCores: 0, memoryBytes: 0 };
        sum.cpuCores += p.cpuCores;
        sum.memoryBytes += p.memoryBytes;
        byTime.set(at, sum);
      }
    }
    return [...byTime.values()].sort((a, b) => a.time.localeCompare(b.time));
  }
}

/** Sum, average and max of a service's tasks. */
export function summarize(ts: TaskUsage[]): ServiceUsage {
  const first = ts[0] as TaskUsage;
  const cpu = ts.map((t) => t.cpuCores);
  const mem = ts.map((t) => t.memoryBytes);
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  return {
    service: first.service, namespace: first.namespace, tasks: ts.length,
    cpuCoresSum: sum(cpu), cpuCoresAvg: sum(cpu) / ts.length, cpuCoresMax: Math.max(...cpu),
    memoryBytesSum: sum(mem), memoryBytesAvg: sum(mem) / ts.length, memoryBytesMax: Math.max(...mem),
  };
}
