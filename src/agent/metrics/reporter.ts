/**
 * The agent's metrics loop: every `intervalMs` (default 10 s, `--metrics-interval`) it samples
 * the node and the cgroup of every running container of this node, and sends ONE report to the
 * server (POST /api/v1/nodes/NAME/metrics). Nothing is written to the store: the server keeps
 * recent samples in memory (src/server/metrics). A report that fails is dropped (the next one
 * carries the cumulative counters anyway) and said once until one succeeds again.
 *
 *   timer ──► runtime.list() running ──► stats(id) each (cgroup files, no fork) ─┐
 *         └─► sampleNode(dataDir) ────────────────────────────────────────────────┴─► POST report
 */
import type { MetricsReport, TaskSample } from '../../api/metrics.js';
import type { Disposable } from '../../lifecycle.js';
import type { ContainerRuntime } from '../runtime/runtime.js';
import { sampleNode } from './node-sample.js';
import type { AgentMetricsSource } from './prometheus.js';

/** Where reports go (ApiClient.reportMetrics). */
export type MetricsSink = (node: string, report: MetricsReport) => Promise<void>;

/** Options of startMetricsReporter. */
export interface MetricsReporterOptions {
  nodeName: string;
  dataDir: string;
  runtime: ContainerRuntime;
  send: MetricsSink;
  intervalMs?: number;
  log?: (line: string) => void;
}

/** Default sampling interval. */
export const DEFAULT_METRICS_INTERVAL_MS = 10_000;

/** Samples every running container of the runtime (annotations name the task). */
export async function sampleTasks(runtime: ContainerRuntime): Promise<TaskSample[]> {
  if (runtime.stats === undefined) return [];
  const stats = runtime.stats.bind(runtime);
  const running = (await runtime.list()).filter((c) => c.status === 'running' && c.annotations['flotilla.task'] !== undefined);
  const out = await Promise.all(running.map(async (c): Promise<TaskSample | undefined> => {
    try {
      const s = await stats(c.id);
      return {
        task: c.annotations['flotilla.task'] ?? c.id,
        namespace: c.annotations['flotilla.namespace'] ?? 'default',
        service: c.annotations['flotilla.service'] ?? '',
        cpuUsageNs: s.cpuUsageNs,
        cpuThrottledPeriods: s.cpuThrottledPeriods ?? 0,
        cpuThrottledNs: s.cpuThrottledNs ?? 0,
        ...(s.cpuLimitCores !== undefined ? { cpuLimitCores: s.cpuLimitCores } : {}),
        memoryBytes: s.memoryBytes,
        ...(s.memoryLimitBytes !== undefined ? { memoryLimitBytes: s.memoryLimitBytes } : {}),
        oomKills: s.oomKills ?? 0,
        pids: s.pids,
        netRxBytes: s.netRxBytes ?? 0,
        netTxBytes: s.netTxBytes ?? 0,
        blockReadBytes: s.blockReadBytes ?? 0,
        blockWriteBytes: s.blockWriteBytes ?? 0,
      };
    } catch {
      return undefined; // it ended between list and stats
    }
  }));
  return out.filter((x): x is TaskSample => x !== undefined);
}

/** A running reporter; its last report feeds the agent's own /metrics (prometheus.ts). */
export interface MetricsReporter extends Disposable, AgentMetricsSource {}

/** Starts the loop; the first report goes out at once. */
export function startMetricsReporter(o: MetricsReporterOptions): MetricsReporter {
  const intervalMs = Math.max(100, o.intervalMs ?? DEFAULT_METRICS_INTERVAL_MS);
  const log = o.log ?? (() => undefined);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let failing = false;
  let last: MetricsReport | undefined;
  let sent = 0;
  let failed = 0;
  const tick = (): void => {
    running = (async () => {
      const [node, tasks] = await Promise.all([sampleNode(o.dataDir), sampleTasks(o.runtime)]);
      last = { time: new Date().toISOString(), intervalMs, node, tasks };
      await o.send(o.nodeName, last);
      sent += 1;
      if (failing) log('metrics: reports reach the server again');
      failing = false;
    })().catch((err: unknown) => {
      failed += 1;
      if (!failing) log(`metrics: report failed (dropped; the next carries the counters): ${(err as Error).message}`);
      failing = true;
    }).finally(() => {
      running = undefined;
      if (!stopped) timer = setTimeout(tick, intervalMs);
    });
  };
  tick();
  return {
    last: () => last,
    counts: () => ({ sent, failed }),
    async stop(): Promise<void> {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
    },
  };
}
