/**
 * Metrics end to end on `flotilla up` (real runc containers, their real cgroups): the agent
 * samples every second here (--metrics-interval 1s), `flotilla top` shows nodes, tasks and
 * services; a task's memory is what its cgroup says, a CPU-burning task under a 250m limit is
 * near its limit and throttled. A real Prometheus (Debian's) scrapes /metrics with a read-only
 * user's token: a PromQL query for a task's memory gives what the cgroup shows; it scrapes the
 * agent's own /metrics through the server (nodes/NAME/proxy/metrics) too.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { NodeUsage, ServiceUsage, TaskUsage } from '../../src/api/metrics.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { buildBusyboxImage } from '../helpers/images.js';
import { eventually, manifestFile, UpCluster } from '../helpers/flotilla.js';
import { startPrometheus, type TestPrometheus } from '../helpers/prometheus.js';
import { rawRequest } from '../server/helpers.js';

function service(name: string, image: string, script: string, limits: string): string {
  return `kind: Service
metadata:
  name: ${name}
spec:
  replicas: 1
  image: ${image}
  command: ["sh", "-c", ${JSON.stringify(script)}]
  stopGracePeriodSeconds: 1
  resources:
    limits: {${limits}}
`;
}

/** The working set of a container's memory cgroup as the kernel has it now (v1). */
function cgroupWorkingSet(dataDir: string, containerId: string): number {
  const meta = JSON.parse(readFileSync(path.join(dataDir, 'agent/runtime/bundles', containerId, 'meta.json'), 'utf8')) as { cgroupsPath: string };
  const dir = path.join('/sys/fs/cgroup/memory', meta.cgroupsPath);
  const usage = Number(readFileSync(path.join(dir, 'memory.usage_in_bytes'), 'utf8'));
  const inactive = Number(/^total_inactive_file (\d+)$/m.exec(readFileSync(path.join(dir, 'memory.stat'), 'utf8'))?.[1] ?? 0);
  return usage - inactive;
}

describe('metrics: flotilla top on flotilla up', { timeout: 300_000 }, () => {
  let registry: TestRegistry;
  let cluster: UpCluster;
  let prometheus: TestPrometheus | undefined;

  before(async () => {
    registry = await startRegistry();
    const image = (await buildBusyboxImage(registry.host, 'metrics/busybox', '1')).ref;
    cluster = await UpCluster.start(['--metrics-interval', '1s']);
    const yaml = `${service('idle', image, 'exec sleep 600', 'memory: 64Mi')}---\n${service('burn', image, 'while :; do :; done', 'cpu: 250m, memory: 32Mi')}`;
    const r = await cluster.cli(['apply', '-f', await manifestFile(cluster.dataDir, 'svc.yaml', yaml)]);
    assert.equal(r.code, 0, r.stderr);
  });

  after(async () => {
    await prometheus?.stop();
    await cluster?.cli(['delete', 'service', 'burn']).catch(() => undefined);
    await cluster?.stop();
    await registry?.stop();
  });

  const topJson = async <T>(args: string[]): Promise<T[]> => {
    const r = await cluster.cli(['top', ...args, '-o', 'json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return (JSON.parse(r.stdout) as { items: T[] }).items;
  };

  it('top tasks: memory as the cgroup has it, CPU near the limit of a burning task', async () => {
    const [idle, burn] = await eventually('both tasks sampled twice', 90_000, async () => {
      const ts = await topJson<TaskUsage>(['tasks']);
      const i = ts.find((t) => t.service === 'idle');
      const b = ts.find((t) => t.service === 'burn');
      return i !== undefined && b !== undefined && b.cpuCores > 0.1 ? [i, b] as const : undefined;
    });
    assert.equal(idle.memoryLimitBytes, 64 * 2 ** 20);
    assert.ok(idle.pids >= 1);
    const kernel = cgroupWorkingSet(cluster.dataDir, `default_${idle.task}`);
    assert.ok(Math.abs(idle.memoryBytes - kernel) <= Math.max(256 * 1024, kernel * 0.25), `top says ${idle.memoryBytes} B, the cgroup ${kernel} B`);
    assert.ok(burn.cpuCores <= 0.3, `a 250m limit holds: ${burn.cpuCores}`);
    assert.ok((burn.cpuLimitPercent ?? 0) > 40, `near its limit: ${burn.cpuLimitPercent}%`);
    const throttled = await eventually('the burning task throttled', 30_000, async () => (await topJson<TaskUsage>(['tasks', '--service', 'burn'])).find((t) => t.cpuThrottledPerSecond > 0));
    assert.equal(throttled.service, 'burn');
    const table = await cluster.cli(['top', 'tasks']);
    assert.match(table.stdout, /^NAME\s+SERVICE\s+NODE\s+CPU\(cores\)\s+CPU%LIMIT\s+MEMORY\s+MEM-LIMIT\s+PIDS\s+OOM$/m);
    assert.match(table.stdout, new RegExp(`^${burn.task}\\s+burn\\s+\\S+\\s+\\d+m\\s+\\d+%\\s+\\S+\\s+32Mi`, 'm'));
  });

  it('top nodes and top services', async () => {
    const [node] = await topJson<NodeUsage>(['nodes']);
    assert.ok(node !== undefined);
    assert.ok(node.memoryTotalBytes > 0 && node.memoryBytes > 0 && node.memoryBytes <= node.memoryTotalBytes);
    assert.ok(node.cpuCores > 0.1, 'the burning task shows on the node too');
    assert.ok(node.diskTotalBytes > 0);
    const services = await topJson<ServiceUsage>(['services']);
    assert.deepEqual(services.map((s) => s.service), ['burn', 'idle']);
    assert.equal(services[0]?.tasks, 1);
    const table = await cluster.cli(['top', 'nodes']);
    assert.match(table.stdout, /^NAME\s+CPU\(cores\)\s+CPU%\s+MEMORY\s+MEMORY%\s+DISK\s+NET-RX\s+NET-TX$/m);
  });

  it('/metrics: refused without a credential or with a role that cannot list everything; a real Prometheus scrapes it', async () => {
    const admin = JSON.parse(readFileSync(cluster.config, 'utf8')) as { server: string; ca: string; token: string };
    assert.equal((await rawRequest(`${admin.server}/metrics`, { ca: admin.ca })).status, 401);
    const scraperFile = path.join(cluster.dataDir, 'scraper.json');
    assert.equal((await cluster.cli(['user', 'create', 'scraper', '-o', scraperFile])).code, 0);
    const scraper = JSON.parse(readFileSync(scraperFile, 'utf8')) as { token: string };
    assert.equal((await rawRequest(`${admin.server}/metrics`, { ca: admin.ca, headers: { authorization: `Bearer ${scraper.token}` } })).status, 403, 'no grant yet');
    const g = await cluster.cli(['grant', 'create', '--subject', 'user:scraper', '--role', 'view', '--namespace', '*']);
    assert.equal(g.code, 0, g.stderr);
    const text = await eventually('/metrics for the view user', 15_000, async () => {
      const r = await rawRequest(`${admin.server}/metrics`, { ca: admin.ca, headers: { authorization: `Bearer ${scraper.token}` } });
      return r.status === 200 ? r.text : undefined;
    });
    for (const name of ['flotilla_nodes{state="ready"} 1', 'flotilla_tasks{namespace="default",service="idle",state="running"} 1', 'flotilla_api_requests_total', 'flotilla_api_request_duration_seconds_bucket', 'flotilla_store_write_duration_seconds_bucket', 'flotilla_store_watches', 'flotilla_task_memory_bytes{namespace="default",service="idle"', 'flotilla_node_cpu_cores']) {
      assert.ok(text.includes(name), `/metrics has ${name}`);
    }
    const [nodeName] = (await topJson<NodeUsage>(['nodes'])).map((n) => n.node);
    const agentPath = `/api/v1/nodes/${nodeName}/proxy/metrics`;
    assert.equal((await rawRequest(`${admin.server}${agentPath}`, { ca: admin.ca })).status, 401);
    const agentText = (await rawRequest(`${admin.server}${agentPath}`, { ca: admin.ca, headers: { authorization: `Bearer ${scraper.token}` } })).text;
    for (const name of ['flotilla_agent_process_resident_memory_bytes', 'flotilla_agent_metrics_reports_total{result="ok"}', 'flotilla_node_cpu_seconds_total{node=', `flotilla_task_cpu_seconds_total{namespace="default",service="burn"`, 'flotilla_task_memory_limit_bytes{namespace="default",service="idle"']) {
      assert.ok(agentText.includes(name), `the agent's /metrics has ${name}`);
    }
    prometheus = await startPrometheus({ target: new URL(admin.server).host, caPem: admin.ca, token: scraper.token, morePaths: [agentPath] });
    const p = prometheus;
    const [idle] = await topJson<TaskUsage>(['tasks', '--service', 'idle']);
    assert.ok(idle !== undefined);
    const sample = await eventually('Prometheus has the task\'s memory', 60_000, async () => {
      const r = await p.query(`flotilla_task_memory_bytes{service="idle",task="${idle.task}"}`);
      return r[0];
    }).catch(async (err: unknown) => { throw new Error(`${(err as Error).message}; target: ${JSON.stringify(await p.target())}`); });
    const value = Number(sample.value[1]);
    const kernel = cgroupWorkingSet(cluster.dataDir, `default_${idle.task}`);
    assert.ok(Math.abs(value - kernel) <= Math.max(256 * 1024, kernel * 0.25), `PromQL says ${value} B, the cgroup ${kernel} B`);
    assert.equal(sample.metric.node !== undefined && sample.metric.namespace, 'default');
    const burning = await eventually('Prometheus has the agent\'s CPU counter of the burning task', 60_000, async () => {
      const r = await p.query('rate(flotilla_task_cpu_seconds_total{job="path-0",service="burn"}[5s])');
      return r[0] !== undefined && Number(r[0].value[1]) > 0.05 ? r[0] : undefined;
    });
    assert.ok(Number(burning.value[1]) <= 0.3, `the agent's counter shows the 250m limit: ${burning.value[1]} cores`);
  });
});
