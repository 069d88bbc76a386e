/**
 * The agent's own /metrics (Prometheus text, prom-client): its process (flotilla_agent_*
 * defaults), its reports to the server, and the node and task samples of its last report as
 * raw cumulative counters (the server's /metrics has the rates; these are what the kernel said).
 * Served on the agent endpoint (mutual TLS, the server only) and through the API at
 * GET /api/v1/nodes/NAME/proxy/metrics for a scraper with a bearer token (docs/metrics.md).
 *
 *   flotilla_agent_metrics_reports_total{result}          reports sent to the server (ok|failed)
 *   flotilla_agent_last_sample_timestamp_seconds           when the last sample was taken
 *   flotilla_node_cpu_seconds_total{node,mode}             busy | all (every core)
 *   flotilla_node_memory_available_bytes{node} ...         node gauges
 *   flotilla_task_cpu_seconds_total{namespace,service,task,node} ...   task counters and gauges
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { MetricsReport, NodeSample, TaskSample } from '../../api/metrics.js';

/** What the agent registry reads at scrape time (the metrics reporter). */
export interface AgentMetricsSource {
  /** The last report built (sent or not); undefined before the first sample. */
  last(): MetricsReport | undefined;
  counts(): { sent: number; failed: number };
}

const TASK_LABELS = ['namespace', 'service', 'task', 'node'] as const;
const SECONDS_PER_NS = 1e-9;

/** A registry with the agent's process metrics and the scrape-time series of the file comment. */
export function createAgentRegistry(nodeName: string, src: AgentMetricsSource): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'flotilla_agent_' });
  new Counter({
    name: 'flotilla_agent_metrics_reports_total', help: 'Metrics reports sent to the server, by result', labelNames: ['result'], registers: [registry],
    collect() { this.reset(); const c = src.counts(); this.inc({ result: 'ok' }, c.sent); this.inc({ result: 'failed' }, c.failed); },
  });
  new Gauge({
    name: 'flotilla_agent_last_sample_timestamp_seconds', help: 'When the agent last sampled its node and tasks', registers: [registry],
    collect() { this.reset(); const r = src.last(); if (r !== undefined) this.set(Date.parse(r.time) / 1000); },
  });
  new Counter({
    name: 'flotilla_node_cpu_seconds_total', help: 'CPU time of the node over every core: busy, or all (busy + idle)', labelNames: ['node', 'mode'], registers: [registry],
    collect() {
      this.reset();
      const n = src.last()?.node;
      if (n === undefined) return;
      this.inc({ node: nodeName, mode: 'busy' }, n.cpuBusyNs * SECONDS_PER_NS);
      this.inc({ node: nodeName, mode: 'all' }, n.cpuTotalNs * SECONDS_PER_NS);
    },
  });
  const nodeSeries = (name: string, help: string, counter: boolean, get: (n: NodeSample) => number): void => {
    const collect = function (this: Gauge | Counter): void {
      this.reset();
      const n = src.last()?.node;
      if (n === undefined) return;
      if (this instanceof Gauge) this.set({ node: nodeName }, get(n)); else this.inc({ node: nodeName }, get(n));
    };
    if (counter) new Counter({ name, help, labelNames: ['node'], registers: [registry], collect });
    else new Gauge({ name, help, labelNames: ['node'], registers: [registry], collect });
  };
  nodeSeries('flotilla_node_cpu_capacity_cores', 'CPU cores of the node', false, (n) => n.cores);
  nodeSeries('flotilla_node_memory_capacity_bytes', 'Memory of the node', false, (n) => n.memoryTotalBytes);
  nodeSeries('flotilla_node_memory_available_bytes', 'Memory available on the node', false, (n) => n.memoryAvailableBytes);
  nodeSeries('flotilla_node_disk_capacity_bytes', 'Size of the filesystem of the agent data dir', false, (n) => n.diskTotalBytes);
  nodeSeries('flotilla_node_disk_free_bytes', 'Free bytes of the filesystem of the agent data dir', false, (n) => n.diskFreeBytes);
  nodeSeries('flotilla_node_network_receive_bytes_total', 'Network bytes received by the node (every interface but lo)', true, (n) => n.netRxBytes);
  nodeSeries('flotilla_node_network_transmit_bytes_total', 'Network bytes sent by the node (every interface but lo)', true, (n) => n.netTxBytes);
  const taskSeries = (name: string, help: string, counter: boolean, get: (t: TaskSample) => number | undefined): void => {
    const collect = function (this: Gauge | Counter): void {
      this.reset();
      for (const t of src.last()?.tasks ?? []) {
        const v = get(t);
        if (v === undefined) continue;
        const labels = { namespace: t.namespace, service: t.service, task: t.task, node: nodeName };
        if (this instanceof Gauge) this.set(labels, v); else this.inc(labels, v);
      }
    };
    if (counter) new Counter({ name, help, labelNames: TASK_LABELS, registers: [registry], collect });
    else new Gauge({ name, help, labelNames: TASK_LABELS, registers: [registry], collect });
  };
  taskSeries('flotilla_task_cpu_seconds_total', 'CPU time used by the task cgroup', true, (t) => t.cpuUsageNs * SECONDS_PER_NS);
  taskSeries('flotilla_task_cpu_throttled_periods_total', 'CFS periods in which the task was throttled', true, (t) => t.cpuThrottledPeriods);
  taskSeries('flotilla_task_cpu_throttled_seconds_total', 'Time the task was throttled', true, (t) => t.cpuThrottledNs * SECONDS_PER_NS);
  taskSeries('flotilla_task_cpu_limit_cores', 'CPU limit of the task', false, (t) => t.cpuLimitCores);
  taskSeries('flotilla_task_memory_bytes', 'Working set of the task (cgroup usage - inactive file)', false, (t) => t.memoryBytes);
  taskSeries('flotilla_task_memory_limit_bytes', 'Memory limit of the task', false, (t) => t.memoryLimitBytes);
  taskSeries('flotilla_task_oom_kills_total', 'OOM kills in the task cgroup', true, (t) => t.oomKills);
  taskSeries('flotilla_task_pids', 'Processes in the task', false, (t) => t.pids);
  taskSeries('flotilla_task_network_receive_bytes_total', 'Network bytes received by the task', true, (t) => t.netRxBytes);
  taskSeries('flotilla_task_network_transmit_bytes_total', 'Network bytes sent by the task', true, (t) => t.netTxBytes);
  taskSeries('flotilla_task_block_read_bytes_total', 'Block device bytes read by the task', true, (t) => t.blockReadBytes);
  taskSeries('flotilla_task_block_write_bytes_total', 'Block device bytes written by the task', true, (t) => t.blockWriteBytes);
  return registry;
}
