/**
 * What every handler gets: the shared server context (store, hooks, limits) and the parsed
 * request (identity, kind, name, query).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequestError } from '../../api/errors.js';
import { CLUSTER_SCOPED, DEFAULT_NAMESPACE, type ApiObject, type Kind, type ObjectKey } from '../../api/object.js';
import type { Store } from '../../store/store.js';
import { parseSelector, SelectorSyntaxError, type Selector } from '../../api/label-selector.js';
import type { Access, Authorizer, Identity, Verb } from '../auth/identity.js';
import type { AdmissionHook, AdmissionRequest, ObjectCodec } from '../hooks.js';
import type { RotationResult } from '../secrets/keys.js';
import { redactSecret } from '../secrets/redact.js';
import type { EventCorrelator } from '../events/correlator.js';

/** Server-wide state shared by the handlers. */
export interface ApiContext {
  store: Store;
  codec: ObjectCodec;
  authorizer: Authorizer;
  admission: readonly AdmissionHook[];
  bodyLimitBytes: number;
  /** Interval of bookmark lines on watch streams. */
  watchBookmarkMs: number;
  version: { version: string; commit?: string };
  /** `flotilla secret rotate-key` (absent: the server has no KEK, e.g. a test's plain codec). */
  rotateSecretKey?: () => Promise<RotationResult>;
  /** Merges repeated Events into one counted Event (absent: every Event is created as sent). */
  events?: EventCorrelator;
}

/** One authenticated request routed to an object collection. */
export interface ApiRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  identity: Identity;
  kind: Kind;
  /** Set for item routes. */
  name?: string;
}

/** The namespace a request addresses: "" for cluster-scoped kinds, else the query or the default. */
export function namespaceOf(kind: Kind, url: URL, fromBody?: unknown): string {
  if (CLUSTER_SCOPED.has(kind)) return '';
  const q = url.searchParams.get('namespace');
  const b = typeof fromBody === 'string' && fromBody !== '' ? fromBody : undefined;
  if (q !== null && q !== '' && b !== undefined && q !== b) {
    throw new BadRequestError(`namespace in the URL (${q}) differs from metadata.namespace (${b})`);
  }
  return (q !== null && q !== '' ? q : b) ?? DEFAULT_NAMESPACE;
}

/** The key an item route addresses. */
export function keyFor(r: ApiRequest, bodyNamespace?: unknown): ObjectKey {
  return { kind: r.kind, namespace: namespaceOf(r.kind, r.url, bodyNamespace), name: r.name ?? '' };
}

/** `?revision=N` (0 allowed: a watch from the beginning); undefined when absent. */
export function revisionParam(url: URL, name = 'revision'): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new BadRequestError(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

/** Parses `app=web,tier!=x,canary,!legacy` (also `app==web`): see src/api/label-selector.ts. */
export function parseLabelSelector(s: string | null): Selector | undefined {
  if (s === null || s.trim() === '') return undefined;
  try {
    return parseSelector(s);
  } catch (err) {
    if (err instanceof SelectorSyntaxError) throw new BadRequestError(`labelSelector: ${err.message}`);
    throw err;
  }
}

/** `?revision=N` as an expected revision: undefined when absent or 0 (unconditional). */
export function expectedRevisionParam(url: URL): number | undefined {
  const n = revisionParam(url);
  return n === 0 ? undefined : n;
}

/** Runs the admission hooks in order. */
export async function admit(ctx: ApiContext, req: AdmissionRequest): Promise<void> {
  for (const hook of ctx.admission) await hook.admit(req);
}

/** Decodes stored objects for an answer (Secret values removed, see present). */
export async function decodeAll(ctx: ApiContext, objs: ApiObject[]): Promise<ApiObject[]> {
  return Promise.all(objs.map(async (o) => present(ctx, o)));
}

/**
 * A stored object as an answer: decoded, and a Secret without its values (key names and
 * sizes only). `reveal` keeps them: only for a node's GET that passed the need-to-know check.
 */
export async function present(ctx: ApiContext, stored: ApiObject, reveal = false): Promise<ApiObject> {
  const obj = await ctx.codec.fromStore(stored);
  return reveal ? obj : redactSecret(obj);
}

/**
 * The second check of an item route, once the object is read: the same access with the
 * object's labels (RBAC collections select by labels).
 */
export async function authorizeObject(ctx: ApiContext, id: Identity, verb: Verb, obj: ApiObject, subresource?: Access['subresource']): Promise<void> {
  const m = obj.metadata;
  await ctx.authorizer.authorize(id, { verb, kind: obj.kind, namespace: m.namespace, name: m.name, labels: m.labels ?? {}, ...(subresource !== undefined ? { subresource } : {}) });
}

/** The objects of a list the caller may see (all, unless the authorizer filters). */
export function visibleTo(ctx: ApiContext, id: Identity, verb: 'list' | 'watch', objs: ApiObject[]): ApiObject[] {
  const visible = ctx.authorizer.visible?.bind(ctx.authorizer);
  return visible === undefined ? objs : objs.filter((o) => visible(id, verb, o));
}
