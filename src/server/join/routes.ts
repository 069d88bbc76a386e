/**
 * The join routes of the API (DESIGN.md "Security"):
 *
 *   GET  /api/v1/join/ca      public: the cluster CA (the node checks it against its token)
 *   POST /api/v1/join         public: {token, node, csr} -> {certificate, ca}
 *   POST /api/v1/join/renew   node certificate: {csr} -> {certificate, ca (trust bundle)} for the same node
 *   POST /api/v1/join/tokens  admin: {role?, ttlSeconds?} -> {token, id, expiresAt, servers}
 *                             (servers: URLs a new machine can join at, best first; src/server/reachable.ts)
 *
 * Tokens are JoinToken objects in the store (hash only); deleting one revokes it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequestError, ForbiddenError } from '../../api/errors.js';
import type { ApiObject } from '../../api/object.js';
import type { Store } from '../../store/store.js';
import type { Identity } from '../auth/identity.js';
import { readJsonBody, sendJson } from '../http/respond.js';
import { publishedApiServers } from '../api-servers.js';
import type { ClusterPki } from '../pki/index.js';
import { newJoinToken, parseJoinToken, verifyJoinToken, type JoinTokenSpec } from './token.js';
import { randomUUID } from 'node:crypto';
import { reachableUrls } from '../reachable.js';

/** Lifetimes of what the join routes hand out. */
export interface JoinSettings {
  /** Node certificates are short-lived; agents renew at 2/3 (default 24 h). */
  nodeCertTtlMs: number;
  /** Default token lifetime (default 24 h). */
  tokenTtlMs: number;
}

export const DEFAULT_JOIN_SETTINGS: JoinSettings = { nodeCertTtlMs: 24 * 3600_000, tokenTtlMs: 24 * 3600_000 };

interface JoinEnv {
  store: Store;
  pki: ClusterPki;
  settings: JoinSettings;
  bodyLimitBytes: number;
  /** The API's listen host (a wildcard: the machine's interface addresses are the reachable ones). */
  listenHost?: string;
}

const NODE_NAME_RE = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;

function str(body: unknown, field: string): string {
  const v = (body as Record<string, unknown> | null)?.[field];
  if (typeof v !== 'string' || v === '') throw new BadRequestError(`${field}: expected a non-empty string`);
  return v;
}

/** Serves the public join routes; false when the path is not one of them. */
export async function servePublicJoin(env: JoinEnv, path: string, method: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  if (path === '/api/v1/join/ca' && method === 'GET') {
    // `retired`: CAs `flotilla ca rotate` retired, so that an agent with an old token can say so.
    sendJson(res, 200, { ca: env.pki.caCertPem, retired: env.pki.caState().retired });
    return true;
  }
  if (path !== '/api/v1/join' || method !== 'POST') return false;
  const body = await readJsonBody(req, env.bodyLimitBytes);
  const parsed = parseJoinToken(str(body, 'token'));
  const node = str(body, 'node');
  if (!NODE_NAME_RE.test(node)) throw new BadRequestError(`node: expected a DNS name (lowercase letters, digits, '-' and '.'), found ${JSON.stringify(node)}`);
  const stored = (await env.store.get({ kind: 'JoinToken', namespace: '', name: parsed.id })) as ApiObject<JoinTokenSpec> | undefined;
  verifyJoinToken(parsed, stored, env.pki.trustedFingerprints(), Date.now(), env.pki.caState().retired);
  const certificate = await env.pki.signNodeCsr(str(body, 'csr'), node, env.settings.nodeCertTtlMs);
  // Every API server of the cluster (servers on one etcd publish their URLs): the agent fails over between them.
  const servers = await publishedApiServers(env.store);
  sendJson(res, 200, { certificate, ca: env.pki.caCertPem, ...(servers.length > 0 ? { servers } : {}) });
  return true;
}

/** Serves the authenticated join routes; false when the path is not one of them. */
export async function serveAuthenticatedJoin(env: JoinEnv, path: string, method: string, identity: Identity, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  if (path === '/api/v1/join/renew' && method === 'POST') {
    if (identity.kind !== 'node' || identity.via !== 'certificate') throw new ForbiddenError('only a node, with its current certificate, can renew its certificate');
    const body = await readJsonBody(req, env.bodyLimitBytes);
    const certificate = await env.pki.signNodeCsr(str(body, 'csr'), identity.name, env.settings.nodeCertTtlMs);
    // The trust bundle rides along: during `flotilla ca rotate` it is how agents learn the new CA.
    sendJson(res, 200, { certificate, ca: env.pki.caCertPem });
    return true;
  }
  if (path === '/api/v1/join/tokens' && method === 'POST') {
    if (identity.kind !== 'admin') throw new ForbiddenError(`${identity.kind} ${identity.name} may not create join tokens`);
    const body = ((await readJsonBody(req, env.bodyLimitBytes)) ?? {}) as { role?: unknown; ttlSeconds?: unknown };
    const role = body.role ?? 'worker';
    if (role !== 'worker' && role !== 'manager') throw new BadRequestError(`role: expected worker or manager, found ${JSON.stringify(role)}`);
    const ttl = body.ttlSeconds ?? env.settings.tokenTtlMs / 1000;
    if (typeof ttl !== 'number' || !(ttl > 0)) throw new BadRequestError('ttlSeconds: expected a positive number');
    const { token, object } = newJoinToken(env.pki.caFingerprint(), role, ttl * 1000);
    const stored = await env.store.create({ ...object, metadata: { ...object.metadata, uid: randomUUID(), generation: 1, creationTimestamp: new Date().toISOString() } });
    const servers = reachableUrls(env.listenHost ?? req.socket.localAddress ?? '127.0.0.1', req.socket.localAddress, req.socket.localPort ?? 0);
    sendJson(res, 201, { token, id: stored.metadata.name, role, expiresAt: object.spec.expiresAt, servers });
    return true;
  }
  return false;
}
