/**
 * `flotilla node prune NAME` on the API side: POST /api/v1/nodes/{name}/prune (verb update on
 * the Node, as drain and label are) opens the node's agent endpoint (POST /images/prune, mutual
 * TLS like logs and exec) and answers what the agent's image collector removed:
 * {node, images, layers, blobs, rootfs, bytesFreed}.
 */
import { MethodNotAllowedError, sendJson } from '../http/respond.js';
import { nodeTarget } from './node-target.js';
import type { ProxyEnv, ProxyRequest } from './routes.js';

/** True for `nodes/{name}/prune`. */
export function isNodePruneRoute(rest: readonly string[]): boolean {
  return rest.length === 3 && rest[0] === 'nodes' && rest[2] === 'prune';
}

/** Answers POST /api/v1/nodes/{name}/prune. */
export async function serveNodePrune(env: ProxyEnv, r: ProxyRequest): Promise<void> {
  const name = r.rest[1] as string;
  if (r.method !== 'POST') throw new MethodNotAllowedError(`only POST is allowed on ${r.url.pathname}`);
  await env.ctx.authorizer.authorize(r.identity, { verb: 'update', kind: 'Node', namespace: '', name });
  const target = await nodeTarget(env.ctx.store, name, 'prune');
  const ac = new AbortController();
  const res = await env.dialer.open(target, 'POST', '/images/prune', {}, ac.signal);
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const result = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
  sendJson(r.res, 200, { node: name, ...result });
}
