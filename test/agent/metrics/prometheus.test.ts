/**
 * The agent's own /metrics registry: nothing but process metrics before the first sample; after
 * one, the node and task samples as counters in seconds and bytes, labelled with the node.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricsReport } from '../../../src/api/metrics.js';
import { createAgentRegistry } from '../../../src/agent/metrics/prometheus.js';

const report: MetricsReport = {
  time: '2026-12-04T10:00:00.000Z', intervalMs: 10_000,
  node: { cpuBusyNs: 3e9, cpuTotalNs: 8e9, cores: 2, memoryTotalBytes: 1000, memoryAvailableBytes: 400, diskTotalBytes: 5000, diskFreeBytes: 2000, netRxBytes: 11, netTxBytes: 22 },
  tasks: [{
    task: 'web-1', namespace: 'default', service: 'web', cpuUsageNs: 1.5e9, cpuThrottledPeriods: 4, cpuThrottledNs: 2e8, cpuLimitCores: 0.5,
    memoryBytes: 4096, memoryLimitBytes: 8192, oomKills: 1, pids: 3, netRxBytes: 5, netTxBytes: 6, blockReadBytes: 7, blockWriteBytes: 8,
  }],
};

describe('agent /metrics registry', () => {
  it('has only process metrics and report counts before the first sample', async () => {
    const text = await createAgentRegistry('n1', { last: () => undefined, counts: () => ({ sent: 0, failed: 0 }) }).metrics();
    assert.match(text, /^flotilla_agent_process_cpu_seconds_total /m);
    assert.match(text, /^flotilla_agent_metrics_reports_total\{result="ok"\} 0$/m);
    assert.doesNotMatch(text, /^flotilla_task_/m);
    assert.doesNotMatch(text, /^flotilla_node_cpu_seconds_total\{/m);
  });

  it('exposes the last report as counters and gauges with node, namespace, service and task labels', async () => {
    const text = await createAgentRegistry('n1', { last: () => report, counts: () => ({ sent: 7, failed: 2 }) }).metrics();
    const expect = [
      'flotilla_agent_metrics_reports_total{result="ok"} 7',
      'flotilla_agent_metrics_reports_total{result="failed"} 2',
      `flotilla_agent_last_sample_timestamp_seconds ${Date.parse(report.time) / 1000}`,
      'flotilla_node_cpu_seconds_total{node="n1",mode="busy"} 3',
      'flotilla_node_cpu_seconds_total{node="n1",mode="all"} 8',
      'flotilla_node_memory_available_bytes{node="n1"} 400',
      'flotilla_node_disk_free_bytes{node="n1"} 2000',
      'flotilla_node_network_transmit_bytes_total{node="n1"} 22',
      'flotilla_task_cpu_seconds_total{namespace="default",service="web",task="web-1",node="n1"} 1.5',
      'flotilla_task_cpu_throttled_seconds_total{namespace="default",service="web",task="web-1",node="n1"} 0.2',
      'flotilla_task_memory_bytes{namespace="default",service="web",task="web-1",node="n1"} 4096',
      'flotilla_task_memory_limit_bytes{namespace="default",service="web",task="web-1",node="n1"} 8192',
      'flotilla_task_oom_kills_total{namespace="default",service="web",task="web-1",node="n1"} 1',
      'flotilla_task_block_write_bytes_total{namespace="default",service="web",task="web-1",node="n1"} 8',
    ];
    for (const line of expect) assert.ok(text.split('\n').includes(line), `has ${line}`);
    assert.match(text, /^# TYPE flotilla_task_cpu_seconds_total counter$/m);
    assert.match(text, /^# TYPE flotilla_task_memory_bytes gauge$/m);
  });
});
