/**
 * The metrics API (src/api/metrics.ts for the shapes):
 *
 *   POST /api/v1/nodes/{name}/metrics        the node itself (or the admin): one MetricsReport
 *   POST /api/v1/services/{name}/metrics?namespace=   {name, value}: a custom metric (who may update the Service)
 *   GET  /api/v1/metrics/nodes               {items: NodeUsage[]}           (who may list Nodes)
 *   GET  /api/v1/metrics/tasks?namespace=&service=   {items: TaskUsage[]}    (who may list Tasks there)
 *   GET  /api/v1/metrics/services?namespace=         {items: ServiceUsage[]}
 *   GET  /api/v1/metrics/points?namespace=&task=|service=|node=&sinceSeconds=  {items: UsagePoint[]}
 *
 * Reports are validated (a wrong field is a 400 naming it) and kept in memory only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { BadRequestError, NotFoundError, ValidationError } from '../../api/errors.js';
import type { MetricsReport } from '../../api/metrics.js';
import { toIssues } from '../../api/validate/issues.js';
import type { Identity } from '../auth/identity.js';
import type { ApiContext } from '../http/context.js';
import { MethodNotAllowedError, readJsonBody, sendJson } from '../http/respond.js';
import type { MetricsSeries } from './series.js';

const count = z.number().nonnegative().finite();

const taskSampleSchema = z.object({
  task: z.string().min(1), namespace: z.string().min(1), service: z.string(),
  cpuUsageNs: count, cpuThrottledPeriods: count, cpuThrottledNs: count, cpuLimitCores: count.optional(),
  memoryBytes: count, memoryLimitBytes: count.optional(), oomKills: count, pids: count,
  netRxBytes: count, netTxBytes: count, blockReadBytes: count, blockWriteBytes: count,
}).strict();

const reportSchema = z.object({
  time: z.string().min(1),
  intervalMs: count,
  node: z.object({
    cpuBusyNs: count, cpuTotalNs: count, cores: count, memoryTotalBytes: count, memoryAvailableBytes: count,
    diskTotalBytes: count, diskFreeBytes: count, netRxBytes: count, netTxBytes: count,
  }).strict(),
  tasks: z.array(taskSampleSchema).max(100_000),
}).strict();

/** What the routes need beside the API context. */
export interface MetricsEnv {
  ctx: ApiContext;
  series: MetricsSeries;
}

/** True for the paths these routes serve (rest = the path after /api/v1/). */
export function isMetricsRoute(rest: string[]): boolean {
  return (rest.length === 3 && (rest[0] === 'nodes' || rest[0] === 'services') && rest[2] === 'metrics') || (rest.length === 2 && rest[0] === 'metrics');
}

/** Serves one metrics request. */
export async function serveMetrics(env: MetricsEnv, r: { rest: string[]; method: string; identity: Identity; url: URL; req: IncomingMessage; res: ServerResponse }): Promise<void> {
  const { ctx, series } = env;
  if (r.rest[0] === 'services') return pushCustom(env, r);
  if (r.rest[0] === 'nodes') {
    if (r.method !== 'POST') throw new MethodNotAllowedError('only POST is allowed here');
    const node = r.rest[1] as string;
    // A node writes its own status; the same right lets it report its figures.
    await ctx.authorizer.authorize(r.identity, { verb: 'update', kind: 'Node', name: node, namespace: '', subresource: 'status' });
    const raw = await readJsonBody(r.req, ctx.bodyLimitBytes);
    const parsed = reportSchema.safeParse(raw);
    if (!parsed.success) throw new ValidationError(toIssues(parsed.error, raw, reportSchema, {}, []));
    series.record(node, parsed.data as MetricsReport);
    sendJson(r.res, 202, { accepted: parsed.data.tasks.length });
    return;
  }
  if (r.method !== 'GET') throw new MethodNotAllowedError('only GET is allowed here');
  const q = r.url.searchParams;
  const namespace = q.get('namespace') ?? undefined;
  const what = r.rest[1];
  if (what === 'nodes') {
    // labels: {} asks for a real decision: these answers are not filtered per object as lists are.
    await ctx.authorizer.authorize(r.identity, { verb: 'list', kind: 'Node', namespace: '', labels: {} });
    return sendJson(r.res, 200, { items: series.nodeUsage() });
  }
  if (what === 'tasks' || what === 'services' || what === 'points') {
    const node = q.get('node') ?? undefined;
    await ctx.authorizer.authorize(r.identity, node !== undefined && what === 'points' ? { verb: 'get', kind: 'Node', name: node, namespace: '', labels: {} } : { verb: 'list', kind: 'Task', labels: {}, ...(namespace !== undefined ? { namespace } : {}) });
    if (what === 'tasks') return sendJson(r.res, 200, { items: series.taskUsage({ ...(namespace !== undefined ? { namespace } : {}), ...(q.get('service') !== null ? { service: q.get('service') as string } : {}) }) });
    if (what === 'services') return sendJson(r.res, 200, { items: series.serviceUsage(namespace !== undefined ? { namespace } : {}) });
    const since = Number(q.get('sinceSeconds') ?? '3600');
    if (!(since > 0)) throw new BadRequestError('sinceSeconds: expected a positive number');
    const task = q.get('task') ?? undefined;
    const service = q.get('service') ?? undefined;
    if (task === undefined && service === undefined && node === undefined) throw new BadRequestError('points: give task=, service= or node=');
    return sendJson(r.res, 200, { items: series.points({ ...(namespace !== undefined ? { namespace } : {}), ...(task !== undefined ? { task } : {}), ...(service !== undefined ? { service } : {}), ...(node !== undefined ? { node } : {}) }, Date.now() - since * 1000) });
  }
  throw new BadRequestError(`no metrics route ${what ?? ''}: expected nodes, tasks, services or points`);
}

const customSchema = z.object({ name: z.string().min(1), value: z.number().finite() }).strict();

/** POST /api/v1/services/NAME/metrics {name, value}: the service must exist and the caller may update it. */
async function pushCustom(env: MetricsEnv, r: { rest: string[]; method: string; identity: Identity; url: URL; req: IncomingMessage; res: ServerResponse }): Promise<void> {
  if (r.method !== 'POST') throw new MethodNotAllowedError('only POST is allowed here');
  const name = r.rest[1] as string;
  const namespace = r.url.searchParams.get('namespace') ?? 'default';
  await env.ctx.authorizer.authorize(r.identity, { verb: 'update', kind: 'Service', namespace, name });
  const raw = await readJsonBody(r.req, env.ctx.bodyLimitBytes);
  const parsed = customSchema.safeParse(raw);
  if (!parsed.success) throw new ValidationError(toIssues(parsed.error, raw, customSchema, {}, []));
  if (await env.ctx.store.get({ kind: 'Service', namespace, name }) === undefined) throw new NotFoundError(`service ${name} not found in namespace ${namespace}`);
  env.series.setCustom(namespace, name, parsed.data.name, parsed.data.value);
  sendJson(r.res, 202, { service: name, namespace, metric: parsed.data.name, value: parsed.data.value });
}
