/**
 * An agent's own /metrics through the API, as the kube-apiserver's nodes/NAME/proxy/metrics:
 * GET /api/v1/nodes/{name}/proxy/metrics, for whoever may scrape the server's /metrics (a `view`
 * grant on `*`: it shows every task of the node). A scraper needs only the server's address and
 * its bearer token; the agent endpoint itself answers the server's certificate only.
 */
import { MethodNotAllowedError } from '../http/respond.js';
import { authorizeScrape } from '../metrics/prometheus.js';
import { nodeTarget } from './node-target.js';
import type { ProxyEnv, ProxyRequest } from './routes.js';

/** True for `nodes/{name}/proxy/metrics`. */
export function isNodeMetricsRoute(rest: readonly string[]): boolean {
  return rest.length === 4 && rest[0] === 'nodes' && rest[2] === 'proxy' && rest[3] === 'metrics';
}

/** Answers GET /api/v1/nodes/{name}/proxy/metrics with the agent's text as it is. */
export async function serveNodeMetrics(env: ProxyEnv, r: ProxyRequest): Promise<void> {
  const name = r.rest[1] as string;
  if (r.method !== 'GET') throw new MethodNotAllowedError(`only GET is allowed on ${r.url.pathname}`);
  await authorizeScrape(env.ctx, r.identity);
  const target = await nodeTarget(env.ctx.store, name, 'serve its metrics');
  const ac = new AbortController();
  r.res.once('close', () => ac.abort());
  const res = await env.dialer.open(target, 'GET', '/metrics', undefined, ac.signal);
  r.res.writeHead(200, { 'content-type': res.headers['content-type'] ?? 'text/plain; version=0.0.4', 'cache-control': 'no-store' });
  for await (const c of res) r.res.write(c as Buffer);
  r.res.end();
}
