/**
 * REST handlers for one object collection: list, get, create, update, status update, delete.
 * Validation happens here whatever the client did (never trust the client); the server owns
 * uid, generation and creationTimestamp, the store owns revision.
 *
 *   body -> validateObject -> authorize -> read current -> merge -> admit -> codec -> store
 */
import { randomUUID } from 'node:crypto';
import { BadRequestError, ConflictError, NotFoundError } from '../../api/errors.js';
import type { ApiObject } from '../../api/object.js';
import { specEqual, validateObject, validateStatus } from '../../api/validate/index.js';
import { keepControllerAnnotations } from '../../api/controller-annotations.js';
import { keepAutoscaledReplicas, withAutoscaledReplicas } from '../../api/autoscale.js';
import type { ServiceSpec } from '../../api/kinds.js';
import { keepServerOwnedStatus } from '../../api/server-owned-status.js';
import { stampReceiveTimes } from './receive-time.js';
import { admit, authorizeObject, decodeAll, keyFor, present, visibleTo, namespaceOf, parseLabelSelector, expectedRevisionParam, type ApiContext, type ApiRequest } from './context.js';
import { readJsonBody, sendJson } from './respond.js';
import { redactSecret } from '../secrets/redact.js';

/** Unconditional writes retry this often when another writer slips in between read and write. */
const UNCONDITIONAL_RETRIES = 5;

/** Raw body fields the server reads beside what validateObject returns. */
interface RawBody {
  kind?: unknown;
  metadata?: { namespace?: unknown; revision?: unknown; uid?: unknown };
  status?: unknown;
}

/** GET /api/v1/{plural}?namespace=&labelSelector= */
export async function listObjects(ctx: ApiContext, r: ApiRequest): Promise<void> {
  const ns = r.url.searchParams.get('namespace');
  const namespace = ns === null || ns === '' ? undefined : namespaceOf(r.kind, r.url);
  await ctx.authorizer.authorize(r.identity, { verb: 'list', kind: r.kind, namespace });
  const sel = parseLabelSelector(r.url.searchParams.get('labelSelector'));
  const out = await ctx.store.list(r.kind, { namespace, labelSelector: sel?.equality });
  // The Store filters equality; `!=`, `key` and `!key` are applied here.
  const items = sel === undefined ? out.items : out.items.filter((o) => sel.matches(o.metadata.labels));
  sendJson(r.res, 200, { items: await decodeAll(ctx, visibleTo(ctx, r.identity, 'list', items)), revision: out.revision });
}

/** GET /api/v1/{plural}/{name}?namespace= */
export async function getObject(ctx: ApiContext, r: ApiRequest): Promise<void> {
  const key = keyFor(r);
  await ctx.authorizer.authorize(r.identity, { verb: 'get', kind: key.kind, namespace: key.namespace, name: key.name });
  const obj = await ctx.store.get(key);
  if (obj === undefined) throw notFound(key.kind, key.namespace, key.name);
  await authorizeObject(ctx, r.identity, 'get', obj);
  // A node got past the authorizer's need-to-know check: it runs a task that uses this object.
  sendJson(r.res, 200, await present(ctx, obj, r.identity.kind === 'node'));
}

/**
 * POST /api/v1/{plural}[?full=true]. `full` (Store semantics, for ApiClient.create) keeps a
 * validated status and a caller-chosen uid; otherwise status starts empty.
 */
export async function createObject(ctx: ApiContext, r: ApiRequest): Promise<void> {
  const raw = bodyWithKind(await readJsonBody(r.req, ctx.bodyLimitBytes), r);
  const full = r.url.searchParams.get('full') === 'true';
  const v = validateObject(raw);
  v.metadata.namespace = namespaceOf(r.kind, r.url, raw.metadata?.namespace);
  await ctx.authorizer.authorize(r.identity, { verb: 'create', kind: v.kind, namespace: v.metadata.namespace, name: v.metadata.name, labels: v.metadata.labels });
  if (full && raw.status !== undefined) await ctx.authorizer.authorize(r.identity, { verb: 'update', kind: v.kind, namespace: v.metadata.namespace, name: v.metadata.name, subresource: 'status' });
  const uid = full && typeof raw.metadata?.uid === 'string' && raw.metadata.uid !== '' ? raw.metadata.uid : undefined;
  const obj = newObject(v, uid, full && raw.status !== undefined ? validateStatus(v.kind, raw.status) : undefined);
  await admit(ctx, { operation: 'create', identity: r.identity, object: obj });
  const stored = await ctx.codec.toStore(obj);
  // Events repeat (probes, agents' reports): a repeat raises the count of the one stored.
  const created = obj.kind === 'Event' && ctx.events !== undefined ? await ctx.events.record(stored) : await ctx.store.create(stored);
  sendJson(r.res, 201, await present(ctx, created));
}

/** The object as first stored: server-owned fields set, no status unless given. */
export function newObject(v: ApiObject, uid?: string, status?: unknown): ApiObject {
  const obj: ApiObject = {
    kind: v.kind,
    metadata: { ...v.metadata, uid: uid ?? randomUUID(), revision: 0, generation: 1, creationTimestamp: new Date().toISOString() },
    // An autoscaled service starts within its range (src/api/autoscale.ts).
    spec: v.kind === 'Service' ? withAutoscaledReplicas(undefined, v.spec as ServiceSpec) : v.spec,
  };
  if (status !== undefined) obj.status = status;
  return obj;
}

/** The stored object with spec, labels and annotations from `v`; generation +1 when spec changed. */
export function mergeSpec(cur: ApiObject, given: ApiObject): ApiObject {
  const v = keepAutoscaledReplicas(cur, given);
  const changed = !specEqual(cur.spec, v.spec);
  const metadata = { ...cur.metadata, labels: v.metadata.labels, generation: cur.metadata.generation + (changed ? 1 : 0) };
  const annotations = keepControllerAnnotations(cur.metadata.annotations, v.metadata.annotations);
  if (annotations !== undefined) metadata.annotations = annotations;
  else delete metadata.annotations;
  const next: ApiObject = { kind: cur.kind, metadata, spec: v.spec };
  if (cur.status !== undefined) next.status = cur.status;
  return next;
}

/**
 * PUT /api/v1/{plural}/{name}[?revision=N][&full=true]: spec, labels and annotations; status,
 * uid and creationTimestamp preserved. The expected revision is `?revision` or
 * body.metadata.revision when non-zero. `full` (Store semantics) also replaces status.
 */
export async function updateObject(ctx: ApiContext, r: ApiRequest): Promise<void> {
  const raw = bodyWithKind(await readJsonBody(r.req, ctx.bodyLimitBytes), r);
  const full = r.url.searchParams.get('full') === 'true';
  const v = validateObject(raw);
  const key = keyFor(r, raw.metadata?.namespace);
  if (v.metadata.name !== key.name) throw new BadRequestError(`metadata.name (${v.metadata.name}) differs from the name in the URL (${key.name})`);
  v.metadata.namespace = key.namespace;
  await ctx.authorizer.authorize(r.identity, { verb: 'update', kind: key.kind, namespace: key.namespace, name: key.name });
  const status = full && raw.status !== undefined ? validateStatus(v.kind, raw.status) : undefined;
  const expected = expectedRevision(r.url, raw);
  const written = await readModifyWrite(ctx, r, expected, 'update', (cur) => {
    const next = mergeSpec(cur, v);
    if (full) {
      if (status === undefined) delete next.status;
      else next.status = status;
    }
    return next;
  }, async (cur, next) => {
    await authorizeChange(ctx, r, cur, next);
    // `full` (ApiClient.update) sends the status back: a write of it only when it changed.
    if (full && !specEqual(cur.status, next.status)) await authorizeObject(ctx, r.identity, 'update', cur, 'status');
  });
  sendJson(r.res, 200, redactSecret(written));
}

/** PUT /api/v1/{plural}/{name}/status: status only, validated per kind, with expected revision. */
export async function updateStatus(ctx: ApiContext, r: ApiRequest): Promise<void> {
  const raw = (await readJsonBody(r.req, ctx.bodyLimitBytes)) as RawBody;
  if (typeof raw !== 'object' || raw === null) throw new BadRequestError('body must be the object with its status');
  const key = keyFor(r, raw.metadata?.namespace);
  await ctx.authorizer.authorize(r.identity, { verb: 'update', kind: key.kind, namespace: key.namespace, name: key.name, subresource: 'status' });
  const status = validateStatus(key.kind, raw.status);
  const expected = expectedRevision(r.url, raw);
  const fromNode = r.identity.kind === 'node';
  const written = await readModifyWrite(ctx, r, expected, 'status', (cur) => ({
    ...cur, status: stampReceiveTimes(key.kind, fromNode, cur.status, keepServerOwnedStatus(key.kind, cur.status, status), Date.now()),
  }), (cur) => authorizeObject(ctx, r.identity, 'update', cur, 'status'));
  sendJson(r.res, 200, redactSecret(written));
}

/** DELETE /api/v1/{plural}/{name}?namespace=&revision= */
export async function deleteObject(ctx: ApiContext, r: ApiRequest): Promise<void> {
  const key = keyFor(r);
  await ctx.authorizer.authorize(r.identity, { verb: 'delete', kind: key.kind, namespace: key.namespace, name: key.name });
  const expected = expectedRevisionParam(r.url);
  const cur = await ctx.store.get(key);
  if (cur === undefined) throw notFound(key.kind, key.namespace, key.name);
  await authorizeObject(ctx, r.identity, 'delete', cur);
  if (ctx.admission.length > 0) await admit(ctx, { operation: 'delete', identity: r.identity, object: cur, old: cur });
  // A user's delete is pinned to the revision whose labels were checked.
  const gone = await ctx.store.delete(key, expected ?? (r.identity.kind === 'user' ? cur.metadata.revision : undefined));
  sendJson(r.res, 200, await present(ctx, gone));
}

/**
 * Reads the object, checks the caller's expected revision, writes `change(current)` with the
 * read revision as the store's expected revision. Without a caller revision, a write that
 * loses the race is retried on a fresh read (the caller asked for an unconditional write).
 */
export async function readModifyWrite(ctx: ApiContext, r: ApiRequest, expected: number | undefined, op: 'update' | 'status', change: (cur: ApiObject) => ApiObject, check?: (cur: ApiObject, next: ApiObject) => Promise<void>): Promise<ApiObject> {
  const key = keyFor(r);
  for (let attempt = 0; ; attempt++) {
    const stored = await ctx.store.get(key);
    if (stored === undefined) throw notFound(key.kind, key.namespace, key.name);
    if (expected !== undefined && stored.metadata.revision !== expected) {
      throw new ConflictError(`${key.kind} ${key.namespace ? `${key.namespace}/` : ''}${key.name} is at revision ${stored.metadata.revision}, not ${expected}: read it again and retry`);
    }
    const cur = await ctx.codec.fromStore(stored);
    const next = change(cur);
    await check?.(cur, next);
    await admit(ctx, { operation: op, identity: r.identity, object: next, old: cur });
    try {
      return await ctx.codec.fromStore(await ctx.store.update(await ctx.codec.toStore(next), stored.metadata.revision));
    } catch (err) {
      if (!(err instanceof ConflictError) || expected !== undefined || attempt >= UNCONDITIONAL_RETRIES) throw err;
    }
  }
}

/**
 * The label-aware check of an update: the object as it is and as it will be must both be in the
 * caller's collections (nobody moves an object into or out of reach). A change of a Service's
 * replicas alone is a `scale`.
 */
async function authorizeChange(ctx: ApiContext, r: ApiRequest, cur: ApiObject, next: ApiObject): Promise<void> {
  const verb = isScaleOnly(cur, next) ? 'scale' : 'update';
  await authorizeObject(ctx, r.identity, verb, cur);
  if (!specEqual(cur.metadata.labels, next.metadata.labels)) await authorizeObject(ctx, r.identity, verb, next);
}

function isScaleOnly(cur: ApiObject, next: ApiObject): boolean {
  if (cur.kind !== 'Service' || !specEqual(cur.metadata.labels, next.metadata.labels)) return false;
  const a = cur.spec as Record<string, unknown>;
  const b = next.spec as Record<string, unknown>;
  return a.replicas !== b.replicas && specEqual({ ...a, replicas: 0 }, { ...b, replicas: 0 });
}

/** The body as an object whose kind defaults to the URL's; 400 when they disagree. */
function bodyWithKind(body: unknown, r: ApiRequest): RawBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestError('body must be a JSON object');
  const raw = body as RawBody;
  if (raw.kind === undefined) return { ...raw, kind: r.kind };
  if (raw.kind !== r.kind) throw new BadRequestError(`kind ${String(raw.kind)} sent to the ${r.kind} collection`);
  return raw;
}

/** `?revision=N` when present (0: unconditional, even if the body carries one), else body.metadata.revision. */
function expectedRevision(url: URL, raw: RawBody): number | undefined {
  return url.searchParams.has('revision') ? expectedRevisionParam(url) : bodyRevision(raw);
}

function bodyRevision(raw: RawBody): number | undefined {
  const rev = raw.metadata?.revision;
  if (rev === undefined || rev === null || rev === 0) return undefined;
  if (typeof rev !== 'number' || !Number.isSafeInteger(rev) || rev < 0) throw new BadRequestError('metadata.revision must be a non-negative integer');
  return rev;
}

/** NotFoundError naming the object. */
export function notFound(kind: string, namespace: string, name: string): NotFoundError {
  return new NotFoundError(`${kind} ${namespace ? `${namespace}/` : ''}${name} not found`);
}
