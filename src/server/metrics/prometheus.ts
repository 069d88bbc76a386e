/**
 * GET /metrics: the Prometheus text exposition (prom-client), for a scraper with a read-only
 * credential (a user with the `view` role on namespace `*`: docs/metrics.md). Besides the
 * server's own instruments (instrument.ts) it reports, computed at scrape time:
 *
 *   flotilla_nodes{state}                     nodes by state
 *   flotilla_tasks{namespace,service,state}   tasks by state and service
 *   flotilla_rollouts{state}                  services by rollout state
 *   flotilla_scheduler_pending_tasks, flotilla_scheduler_oldest_pending_seconds
 *   flotilla_node_cpu_cores{node} ...         the agents' samples (series.ts), node and task series
 *   flotilla_task_memory_bytes{namespace,service,task,node} ...
 *
 * The object counts come from one list of Nodes, Tasks and Services per scrape (cached 5 s):
 * O(objects) per scrape, fine for the clusters this serves; a scrape interval of 15 s or more.
 */
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { NodeObject, Service, Task } from '../../api/kinds.js';
import type { ServerResponse } from 'node:http';
import type { Store } from '../../store/store.js';
import type { Identity } from '../auth/identity.js';
import type { ApiContext } from '../http/context.js';
import type { MetricsSeries } from './series.js';

/** What the scrape-time gauges read. */
export interface ScrapeSources {
  store: Store;
  series: MetricsSeries;
  now?: () => number;
}

interface Snapshot {
  atMs: number;
  nodes: NodeObject[];
  tasks: Task[];
  services: Service[];
}

/** A registry with the server's process metrics (the instruments and addClusterGauges go on it). */
export function createServerRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'flotilla_server_' });
  return registry;
}

/** Adds the scrape-time gauges of the file comment to `registry`. */
export function addClusterGauges(registry: Registry, src: ScrapeSources): void {
  const now = src.now ?? Date.now;
  let snap: Promise<Snapshot> | undefined;
  let snapAt = -Infinity;
  const snapshot = (): Promise<Snapshot> => {
    if (snap === undefined || now() - snapAt > 5_000) {
      snapAt = now();
      snap = (async () => {
        const [n, t, s] = await Promise.all([src.store.list('Node'), src.store.list('Task'), src.store.list('Service')]);
        return { atMs: now(), nodes: n.items as NodeObject[], tasks: t.items as Task[], services: s.items as Service[] };
      })();
      snap.catch(() => { snap = undefined; });
    }
    return snap;
  };
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => Promise<void> | void): void => {
    new Gauge({ name, help, labelNames, registers: [registry], async collect() { this.reset(); await collect(this); } });
  };
  gauge('flotilla_nodes', 'Nodes by state', ['state'], async (g) => {
    for (const n of (await snapshot()).nodes) g.inc({ state: n.status?.state ?? 'unknown' });
  });
  gauge('flotilla_tasks', 'Tasks by namespace, service and state', ['namespace', 'service', 'state'], async (g) => {
    for (const t of (await snapshot()).tasks) g.inc({ namespace: t.metadata.namespace, service: t.spec.service, state: t.status?.state ?? 'new' });
  });
  gauge('flotilla_rollouts', 'Services by the state of their current or last rollout', ['state'], async (g) => {
    for (const s of (await snapshot()).services) if (s.status?.rollout !== undefined) g.inc({ state: s.status.rollout.state });
  });
  gauge('flotilla_scheduler_pending_tasks', 'Tasks waiting for a node', [], async (g) => {
    g.set((await snapshot()).tasks.filter((t) => t.status?.state === 'pending' || (t.spec.node === '' && t.spec.desiredState === 'running')).length);
  });
  gauge('flotilla_scheduler_oldest_pending_seconds', 'Age of the oldest task waiting for a node', [], async (g) => {
    const s = await snapshot();
    const ages = s.tasks.filter((t) => t.spec.node === '' && t.spec.desiredState === 'running').map((t) => (s.atMs - Date.parse(t.metadata.creationTimestamp)) / 1000);
    g.set(ages.length > 0 ? Math.max(...ages) : 0);
  });
  const nodeLabels = ['node'];
  const taskLabels = ['namespace', 'service', 'task', 'node'];
  const nodeGauge = (name: string, help: string, get: (u: ReturnType<MetricsSeries['nodeUsage']>[number]) => number): void =>
    gauge(name, help, nodeLabels, (g) => { for (const u of src.series.nodeUsage()) g.set({ node: u.node }, get(u)); });
  const taskGauge = (name: string, help: string, get: (u: ReturnType<MetricsSeries['taskUsage']>[number]) => number | undefined): void =>
    gauge(name, help, taskLabels, (g) => {
      for (const u of src.series.taskUsage()) {
        const v = get(u);
        if (v !== undefined) g.set({ namespace: u.namespace, service: u.service, task: u.task, node: u.node }, v);
      }
    });
  nodeGauge('flotilla_node_cpu_cores', 'CPU cores in use on the node', (u) => u.cpuCores);
  nodeGauge('flotilla_node_cpu_capacity_cores', 'CPU cores of the node', (u) => u.cores);
  nodeGauge('flotilla_node_memory_bytes', 'Memory in use on the node (total - available)', (u) => u.memoryBytes);
  nodeGauge('flotilla_node_memory_capacity_bytes', 'Memory of the node', (u) => u.memoryTotalBytes);
  nodeGauge('flotilla_node_disk_used_bytes', 'Used bytes of the filesystem of the agent data dir', (u) => u.diskUsedBytes);
  nodeGauge('flotilla_node_network_receive_bytes_per_second', 'Network bytes received per second', (u) => u.netRxBytesPerSecond);
  nodeGauge('flotilla_node_network_transmit_bytes_per_second', 'Network bytes sent per second', (u) => u.netTxBytesPerSecond);
  taskGauge('flotilla_task_cpu_cores', 'CPU cores the task uses', (u) => u.cpuCores);
  taskGauge('flotilla_task_cpu_throttled_periods_per_second', 'CFS periods throttled per second', (u) => u.cpuThrottledPerSecond);
  taskGauge('flotilla_task_memory_bytes', 'Working set of the task (cgroup usage - inactive file)', (u) => u.memoryBytes);
  taskGauge('flotilla_task_memory_limit_bytes', 'Memory limit of the task', (u) => u.memoryLimitBytes);
  taskGauge('flotilla_task_oom_kills', 'OOM kills in the task cgroup', (u) => u.oomKills);
  taskGauge('flotilla_task_pids', 'Processes in the task', (u) => u.pids);
  taskGauge('flotilla_task_network_receive_bytes_per_second', 'Network bytes received per second', (u) => u.netRxBytesPerSecond);
  taskGauge('flotilla_task_network_transmit_bytes_per_second', 'Network bytes sent per second', (u) => u.netTxBytesPerSecond);
  taskGauge('flotilla_task_block_read_bytes_per_second', 'Block device bytes read per second', (u) => u.blockReadBytesPerSecond);
  taskGauge('flotilla_task_block_write_bytes_per_second', 'Block device bytes written per second', (u) => u.blockWriteBytesPerSecond);
  gauge('flotilla_metrics_series', 'Series held in memory (nodes + tasks)', [], (g) => { g.set(src.series.seriesCount()); });
}

/** Who may scrape (the server's /metrics, an agent's through the proxy): whoever may list Nodes and Tasks of every namespace. */
export async function authorizeScrape(ctx: ApiContext, identity: Identity): Promise<void> {
  // labels: {} asks for a real decision (a bare list is allowed and filtered per object; this answer is not filtered).
  await ctx.authorizer.authorize(identity, { verb: 'list', kind: 'Node', namespace: '', labels: {} });
  await ctx.authorizer.authorize(identity, { verb: 'list', kind: 'Task', labels: {} });
}

/** GET /metrics: for whoever may list Nodes and Tasks of every namespace (a `view` grant on `*`). */
export async function serveScrape(ctx: ApiContext, identity: Identity, registry: Registry, res: ServerResponse): Promise<void> {
  await authorizeScrape(ctx, identity);
  const text = await registry.metrics();
  res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
  res.end(text);
}
