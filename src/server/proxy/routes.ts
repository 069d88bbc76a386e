/**
 * `flotilla logs` and `flotilla exec` on the API side, as the kube-apiserver does for pods:
 * find the task's node, open its agent endpoint over mutual TLS (AgentDialer) and pass the
 * frames through; for `service/NAME`, merge the logs of every task of the service, each
 * line tagged with its task.
 *
 *   GET  /api/v1/tasks/{name}/logs?namespace=&follow=&tail=     verb logs on the Task
 *   POST /api/v1/tasks/{name}/exec?namespace=  {command:[...]}  verb exec on the Task
 *   GET  /api/v1/services/{name}/logs?namespace=&follow=&tail=  verb logs on the Service
 *   POST /api/v1/nodes/{name}/prune                             verb update on the Node (node-prune.ts)
 *   GET  /api/v1/nodes/{name}/proxy/metrics                     the agent's /metrics, for scrapers (node-metrics.ts)
 *
 * Both checks (before the read, then with the object's labels) happen before any agent is dialled.
 *
 *   task -> spec.node ("" -> 409 not assigned) -> Node (missing/down/no endpoint -> 503)
 *        -> agent /containers/<ns>_<task>/{logs,exec} -> frames -> caller
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConflictError, NotFoundError, UnavailableError } from '../../api/errors.js';
import { logQueryString, parseExecRequest, parseLogQuery, type LogQuery } from '../../api/frames.js';
import type { NodeObject, Task } from '../../api/kinds.js';
import type { Disposable } from '../../lifecycle.js';
import type { Identity } from '../auth/identity.js';
import { authorizeObject, namespaceOf, type ApiContext } from '../http/context.js';
import { MethodNotAllowedError, readJsonBody } from '../http/respond.js';
import type { AgentDialer, AgentTarget } from './agent-dialer.js';
import { pipeExec, pipeLogs, serveServiceLogs, type TaskSource } from './merge.js';
import { isNodePruneRoute, serveNodePrune } from './node-prune.js';
import { isNodeMetricsRoute, serveNodeMetrics } from './node-metrics.js';

/** What the proxy routes need. */
export interface ProxyEnv {
  ctx: ApiContext;
  dialer: AgentDialer;
  /** Streams in flight; the API server stops them before it closes. */
  live: Set<Disposable>;
}

/** One request the dispatcher hands over. */
export interface ProxyRequest {
  /** Path parts after `/api/v1/`. */
  rest: string[];
  method: string;
  identity: Identity;
  url: URL;
  req: IncomingMessage;
  res: ServerResponse;
}

/** True when the path is a proxy route (then it is answered here). */
export function isProxyRoute(rest: readonly string[]): boolean {
  if (isNodePruneRoute(rest) || isNodeMetricsRoute(rest)) return true;
  return rest.length === 3 && ((rest[0] === 'tasks' && (rest[2] === 'logs' || rest[2] === 'exec')) || (rest[0] === 'services' && rest[2] === 'logs'));
}

/** Answers a proxy route (see the file comment). */
export async function serveProxy(env: ProxyEnv, r: ProxyRequest): Promise<void> {
  if (isNodePruneRoute(r.rest)) return serveNodePrune(env, r);
  if (isNodeMetricsRoute(r.rest)) return serveNodeMetrics(env, r);
  const [plural, name, action] = r.rest as [string, string, string];
  const kind = plural === 'tasks' ? 'Task' : 'Service';
  const namespace = namespaceOf(kind, r.url);
  const want = action === 'exec' ? 'POST' : 'GET';
  if (r.method !== want) throw new MethodNotAllowedError(`only ${want} is allowed on ${r.url.pathname}`);
  const verb = action === 'exec' ? 'exec' : 'logs';
  await env.ctx.authorizer.authorize(r.identity, { verb, kind, namespace, name });
  const q = action === 'logs' ? parseLogQuery(r.url.searchParams) : undefined;
  if (kind === 'Service') {
    const svc = await env.ctx.store.get({ kind: 'Service', namespace, name });
    if (svc === undefined) throw new NotFoundError(`service ${name} not found in namespace ${namespace}`);
    await authorizeObject(env.ctx, r.identity, verb, svc);
    return withStream(env, r.res, (signal) => serveServiceLogs(sourceFor(env), namespace, name, q as LogQuery, r.res, signal));
  }
  const located = await locateTask(env.ctx, namespace, name, (task) => authorizeObject(env.ctx, r.identity, verb, task));
  if (action === 'logs') {
    return withStream(env, r.res, (signal) => pipeLogs(env.dialer, located, q as LogQuery, r.res, signal));
  }
  const body = parseExecRequest(await readJsonBody(r.req, env.ctx.bodyLimitBytes));
  return withStream(env, r.res, (signal) => pipeExec(env.dialer, located, body, r.res, signal));
}

/** A task with where its container runs. */
export interface LocatedTask {
  task: Task;
  target: AgentTarget;
  containerId: string;
}

/** Reads the task and its node; the clear errors of the brief: not found, not assigned, node down. */
export async function locateTask(ctx: ApiContext, namespace: string, name: string, check?: (task: Task) => Promise<void>): Promise<LocatedTask> {
  const task = (await ctx.store.get({ kind: 'Task', namespace, name })) as Task | undefined;
  if (task === undefined) throw new NotFoundError(`task ${name} not found in namespace ${namespace}`);
  await check?.(task);
  return locate(ctx, task);
}

async function locate(ctx: ApiContext, task: Task): Promise<LocatedTask> {
  const name = task.metadata.name;
  const nodeName = task.spec.node;
  if (nodeName === '') throw new ConflictError(`task ${name} is not assigned to a node yet (state ${task.status?.state ?? 'new'}): it has no container and no logs`);
  const node = (await ctx.store.get({ kind: 'Node', namespace: '', name: nodeName })) as NodeObject | undefined;
  if (node === undefined) throw new UnavailableError(`node ${nodeName} of task ${name} is not registered (deleted?)`);
  if (node.status?.state === 'down') throw new UnavailableError(`node ${nodeName} of task ${name} is down${node.status.heartbeat !== undefined ? ` (last heartbeat ${node.status.heartbeat})` : ''}`);
  const address = node.status?.address;
  const port = node.status?.agentPort;
  if (address === undefined || address === '' || port === undefined || port <= 0) {
    throw new UnavailableError(`node ${nodeName} of task ${name} does not report an agent endpoint (status.address and status.agentPort): is its agent running?`);
  }
  const containerId = task.status?.containerId ?? `${task.metadata.namespace}_${name}`;
  return { task, target: { node: nodeName, address, port }, containerId };
}

function sourceFor(env: ProxyEnv): TaskSource {
  return {
    tasksOf: async (namespace, service) => {
      const svc = await env.ctx.store.get({ kind: 'Service', namespace, name: service });
      if (svc === undefined) throw new NotFoundError(`service ${service} not found in namespace ${namespace}`);
      const { items } = await env.ctx.store.list('Task', { namespace });
      return (items as Task[]).filter((t) => t.spec.service === service).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    },
    watchTasks: (namespace, service, onTask) => env.ctx.store.watch({ kind: 'Task', namespace }, {
      onEvent: (ev) => {
        const t = ev.object as Task;
        if (ev.type !== 'deleted' && t.spec.service === service) onTask(t);
      },
    }),
    locate: (t) => locate(env.ctx, t),
    open: (l, q, signal) => env.dialer.open(l.target, 'GET', `/containers/${encodeURIComponent(l.containerId)}/logs?${logQueryString(q)}`, undefined, signal),
  };
}

/** Runs one proxied stream, registered so that the server's stop() ends it. */
async function withStream(env: ProxyEnv, res: ServerResponse, run: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const ac = new AbortController();
  const entry: Disposable = { stop: async () => { ac.abort(); res.destroy(); } };
  const onClose = (): void => ac.abort();
  res.on('close', onClose);
  env.live.add(entry);
  try {
    await run(ac.signal);
  } finally {
    env.live.delete(entry);
    res.off('close', onClose);
  }
}
