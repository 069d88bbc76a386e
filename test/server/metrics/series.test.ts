/** The server's in-memory metrics: rates from two samples, tasks that stop being reported, retention, services and points; and the routes. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricsReport, NodeUsage, ServiceUsage, TaskSample, TaskUsage, UsagePoint } from '../../../src/api/metrics.js';
import { MetricsSeries, PointRing } from '../../../src/server/metrics/series.js';
import { startTestServer, type TestServer } from '../helpers.js';

const T0 = Date.parse('2026-12-04T10:00:00Z');
const GI = 2 ** 30;

function task(name: string, cpuNs: number, mem: number, service = 'web', namespace = 'default'): TaskSample {
  return {
    task: name, namespace, service, cpuUsageNs: cpuNs, cpuThrottledPeriods: 0, cpuThrottledNs: 0, cpuLimitCores: 0.5,
    memoryBytes: mem, memoryLimitBytes: 64 * 2 ** 20, oomKills: 0, pids: 1, netRxBytes: 0, netTxBytes: 0, blockReadBytes: 0, blockWriteBytes: 0,
  };
}

function report(atMs: number, busyNs: number, tasks: TaskSample[]): MetricsReport {
  return {
    time: new Date(atMs).toISOString(), intervalMs: 10_000,
    node: { cpuBusyNs: busyNs, cpuTotalNs: busyNs * 4, cores: 2, memoryTotalBytes: 8 * GI, memoryAvailableBytes: 6 * GI, diskTotalBytes: 100 * GI, diskFreeBytes: 40 * GI, netRxBytes: atMs / 100, netTxBytes: 0 },
    tasks,
  };
}

describe('MetricsSeries', () => {
  it('turns counters into rates and lists only what the last report had', () => {
    let now = T0;
    const m = new MetricsSeries({ now: () => now });
    m.record('n1', report(T0, 0, [task('web-1', 0, 10e6), task('web-2', 0, 20e6)]));
    now += 10_000;
    // web-1 used 2.5 s of CPU in 10 s: 0.25 cores, 50% of its 0.5-core limit.
    m.record('n1', report(T0 + 10_000, 5e9, [task('web-1', 2.5e9, 12e6), task('web-2', 1e9, 20e6)]));
    const [n] = m.nodeUsage() as [NodeUsage];
    assert.equal(n.node, 'n1');
    assert.equal(n.cpuCores, 0.5);
    assert.equal(n.cpuPercent, 25);
    assert.equal(n.memoryBytes, 2 * GI);
    assert.equal(n.netRxBytesPerSecond, 10);
    const ts = m.taskUsage({ service: 'web' });
    assert.deepEqual(ts.map((t) => [t.task, t.cpuCores, t.cpuLimitPercent, t.memoryBytes]), [['web-1', 0.25, 50, 12e6], ['web-2', 0.1, 20, 20e6]]);
    const [s] = m.serviceUsage() as [ServiceUsage];
    assert.equal(s.tasks, 2);
    assert.ok(Math.abs(s.cpuCoresSum - 0.35) < 1e-9);
    assert.equal(s.memoryBytesMax, 20e6);
    now += 10_000;
    m.record('n1', report(T0 + 20_000, 6e9, [task('web-1', 3e9, 12e6)]));
    assert.deepEqual(m.taskUsage().map((t) => t.task), ['web-1'], 'web-2 ended: not "now" any more');
    assert.equal(m.points({ task: 'web-2' }).length, 2, 'its points stay for the charts');
  });

  it('a task moved to another node starts its rates anew; series past the retention go', () => {
    let now = T0;
    const m = new MetricsSeries({ now: () => now, retentionMs: 60_000 });
    m.record('n1', report(T0, 0, [task('web-1', 5e9, 1)]));
    now += 10_000;
    m.record('n2', report(T0 + 10_000, 0, [task('web-1', 1e9, 1)]));
    assert.equal(m.taskUsage()[0]?.node, 'n2');
    assert.equal(m.taskUsage()[0]?.cpuCores, 0, 'no rate across nodes');
    now += 120_000;
    m.record('n3', report(T0 + 130_000, 0, []));
    assert.deepEqual(m.nodeUsage().map((n) => n.node), ['n3']);
    assert.equal(m.seriesCount(), 1);
  });

  it('a service\'s points are its tasks\' points summed per interval', () => {
    let now = T0;
    const m = new MetricsSeries({ now: () => now });
    for (let i = 0; i < 3; i++) {
      m.record('n1', report(T0 + i * 10_000, 0, [task('a-1', i * 1e9, 100, 'a'), task('a-2', i * 1e9, 50, 'a'), task('b-1', 0, 7, 'b')]));
      now += 10_000;
    }
    const pts = m.points({ service: 'a' });
    assert.deepEqual(pts.map((p) => [p.cpuCores, p.memoryBytes]), [[0, 150], [0.2, 150], [0.2, 150]]);
  });

  it('the ring keeps the newest points', () => {
    const r = new PointRing(3);
    for (let i = 1; i <= 5; i++) r.push(i * 1000, i, i * 10);
    assert.deepEqual(r.points().map((p: UsagePoint) => p.cpuCores), [3, 4, 5]);
    assert.deepEqual(r.points(4000).map((p) => p.cpuCores), [4, 5]);
  });
});

describe('metrics routes', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer(); });
  after(async () => { await s.cleanup(); });

  it('take a report and answer usage; a bad report is refused naming the field', async () => {
    await s.client.reportMetrics('n1', report(Date.now() - 10_000, 0, [task('web-1', 0, 5e6)]));
    await s.client.reportMetrics('n1', report(Date.now(), 2e9, [task('web-1', 1e9, 6e6)]));
    const nodes = await s.client.usage<NodeUsage>('nodes');
    assert.deepEqual(nodes.map((n) => n.node), ['n1']);
    const tasks = await s.client.usage<TaskUsage>('tasks', { namespace: 'default', service: 'web' });
    assert.equal(tasks[0]?.memoryBytes, 6e6);
    assert.ok(Math.abs((tasks[0]?.cpuCores ?? 0) - 0.1) < 0.01);
    assert.equal((await s.client.usage<TaskUsage>('tasks', { namespace: 'other' })).length, 0);
    assert.equal((await s.client.usage<UsagePoint>('points', { namespace: 'default', task: 'web-1' })).length, 2);
    const bad = { ...report(Date.now(), 0, []), node: { ...report(0, 0, []).node, cpuBusyNs: -1 } };
    await assert.rejects(s.client.reportMetrics('n1', bad), /node\.cpuBusyNs/);
  });
});
