/**
 * `flotilla top nodes | tasks [-n NS | -A] [--service NAME] | services [-n NS | -A]`: resource use
 * now, from the samples the agents report every 10 s (src/server/metrics), like `kubectl top`:
 * CPU in millicores, memory in Mi.
 */
import { Option, type Command } from 'commander';
import type { NodeUsage, ServiceUsage, TaskUsage } from '../../api/metrics.js';
import type { CliClient, CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { renderTable } from '../format/table.js';

/** What `top` needs of the client beyond CliClient (ApiClient has it). */
interface UsageClient {
  usage<T>(what: 'nodes' | 'tasks' | 'services', query?: Record<string, string>): Promise<T[]>;
}

function usageClient(c: CliClient): UsageClient {
  const u = c as CliClient & Partial<UsageClient>;
  if (typeof u.usage !== 'function') throw new UsageError('this client cannot read metrics');
  return u as CliClient & UsageClient;
}

/** `250m` for a quarter core. */
export function formatCores(cores: number): string {
  return `${Math.round(cores * 1000)}m`;
}

/** `12Mi`, `1.5Gi`, `900Ki`. */
export function formatBytes(bytes: number): string {
  const units: Array<[string, number]> = [['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]];
  for (const [u, size] of units) {
    if (bytes >= size) {
      const v = bytes / size;
      return `${v >= 100 ? Math.round(v) : Math.round(v * 10) / 10}${u}`;
    }
  }
  return `${Math.round(bytes)}`;
}

const pct = (v: number | undefined): string => (v === undefined ? '-' : `${Math.round(v)}%`);
const perSecond = (v: number): string => `${formatBytes(v)}/s`;

/** The `top nodes` table. */
export function nodesTable(items: NodeUsage[]): string {
  return renderTable(['NAME', 'CPU(cores)', 'CPU%', 'MEMORY', 'MEMORY%', 'DISK', 'NET-RX', 'NET-TX'], items.map((n) => [
    n.node, formatCores(n.cpuCores), pct(n.cpuPercent), formatBytes(n.memoryBytes), pct(n.memoryPercent),
    `${formatBytes(n.diskUsedBytes)}/${formatBytes(n.diskTotalBytes)}`, perSecond(n.netRxBytesPerSecond), perSecond(n.netTxBytesPerSecond),
  ]));
}

/** The `top tasks` table. */
export function tasksTable(items: TaskUsage[], allNamespaces: boolean): string {
  const head = [...(allNamespaces ? ['NAMESPACE'] : []), 'NAME', 'SERVICE', 'NODE', 'CPU(cores)', 'CPU%LIMIT', 'MEMORY', 'MEM-LIMIT', 'PIDS', 'OOM'];
  return renderTable(head, items.map((t) => [
    ...(allNamespaces ? [t.namespace] : []), t.task, t.service, t.node, formatCores(t.cpuCores), pct(t.cpuLimitPercent),
    formatBytes(t.memoryBytes), t.memoryLimitBytes !== undefined ? formatBytes(t.memoryLimitBytes) : '-', String(t.pids), String(t.oomKills),
  ]));
}

/** The `top services` table. */
export function servicesTable(items: ServiceUsage[], allNamespaces: boolean): string {
  const head = [...(allNamespaces ? ['NAMESPACE'] : []), 'NAME', 'TASKS', 'CPU(sum)', 'CPU(avg)', 'CPU(max)', 'MEM(sum)', 'MEM(avg)', 'MEM(max)'];
  return renderTable(head, items.map((s) => [
    ...(allNamespaces ? [s.namespace] : []), s.service, String(s.tasks), formatCores(s.cpuCoresSum), formatCores(s.cpuCoresAvg), formatCores(s.cpuCoresMax),
    formatBytes(s.memoryBytesSum), formatBytes(s.memoryBytesAvg), formatBytes(s.memoryBytesMax),
  ]));
}

interface TopOptions {
  namespace?: string;
  allNamespaces?: boolean;
  service?: string;
  output: 'table' | 'json';
}

function scope(opts: TopOptions): Record<string, string> {
  if (opts.allNamespaces === true && opts.namespace !== undefined) throw new UsageError('-n and -A cannot be combined');
  return opts.allNamespaces === true ? {} : { namespace: opts.namespace ?? 'default' };
}

/** Registers `top`. */
export function registerTop(program: Command, ctx: CliContext): void {
  const top = program.command('top').description('resource use of nodes, tasks and services now (sampled every 10 s by the agents)');
  const output = (): Option => new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table');
  const print = (rows: unknown[], table: () => string, opts: TopOptions, what: string): void => {
    if (opts.output === 'json') ctx.io.out(`${JSON.stringify({ items: rows }, null, 2)}\n`);
    else if (rows.length === 0) ctx.io.err(`No ${what} metrics yet (agents report every 10 s).\n`);
    else ctx.io.out(table());
  };
  top.command('nodes').description('CPU, memory, disk and network of every node').addOption(output())
    .action(async (opts: TopOptions) => {
      const items = await usageClient(await ctx.client()).usage<NodeUsage>('nodes');
      print(items, () => nodesTable(items), opts, 'node');
    });
  top.command('tasks').description('CPU and memory of the running tasks')
    .option('-n, --namespace <ns>', 'namespace (default: default)').option('-A, --all-namespaces', 'every namespace')
    .option('--service <name>', 'only the tasks of this service').addOption(output())
    .action(async (opts: TopOptions) => {
      const q = { ...scope(opts), ...(opts.service !== undefined ? { service: opts.service } : {}) };
      const items = await usageClient(await ctx.client()).usage<TaskUsage>('tasks', q);
      print(items, () => tasksTable(items, opts.allNamespaces === true), opts, 'task');
    });
  top.command('services').description('CPU and memory per service: sum, average and max over its tasks')
    .option('-n, --namespace <ns>', 'namespace (default: default)').option('-A, --all-namespaces', 'every namespace').addOption(output())
    .action(async (opts: TopOptions) => {
      const items = await usageClient(await ctx.client()).usage<ServiceUsage>('services', scope(opts));
      print(items, () => servicesTable(items, opts.allNamespaces === true), opts, 'service');
    });
}
