/**
 * POST /api/v1/apply {objects: [...]}: the declarative write behind `flotilla apply`.
 *
 *   validate ALL (every issue of every document) -> authorize each -> read current of each
 *   -> plan: missing = create, spec/labels/annotations differ = update, else unchanged
 *   -> admit -> ONE store txn with expected revisions -> [{kind, namespace, name, action}]
 *
 * Nothing is written when any document is invalid or any expected revision moved. A conflict on
 * a revision the server read itself (not one the caller sent) is retried with a fresh read.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AlreadyExistsError, ConflictError, BadRequestError, ValidationError, type ValidationIssue } from '../../api/errors.js';
import { keyOf, keyString, type ApiObject } from '../../api/object.js';
import { keepControllerAnnotations } from '../../api/controller-annotations.js';
import { keepAutoscaledReplicas } from '../../api/autoscale.js';
import { specEqual, validateObject } from '../../api/validate/index.js';
import type { TxnOp } from '../../store/store.js';
import type { Identity } from '../auth/identity.js';
import { admit, authorizeObject, type ApiContext } from './context.js';
import { mergeSpec, newObject } from './objects.js';
import { readJsonBody, sendJson } from './respond.js';

/** What apply did to one object. */
export interface ApplyResult {
  kind: string;
  namespace: string;
  name: string;
  action: 'created' | 'configured' | 'unchanged';
}

/** One validated document and the revision its sender expects (0/undefined: none). */
interface Wanted {
  obj: ApiObject;
  expected?: number;
}

const APPLY_RETRIES = 3;

/** Handles POST /api/v1/apply. */
export async function applyObjects(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, identity: Identity): Promise<void> {
  const body = (await readJsonBody(req, ctx.bodyLimitBytes)) as { objects?: unknown };
  if (typeof body !== 'object' || body === null || !Array.isArray(body.objects)) throw new BadRequestError('body must be {"objects": [...]}');
  const wanted = validateAll(body.objects);
  for (const w of wanted) {
    const m = w.obj.metadata;
    await ctx.authorizer.authorize(identity, { verb: 'create', kind: w.obj.kind, namespace: m.namespace, name: m.name, labels: m.labels });
    await ctx.authorizer.authorize(identity, { verb: 'update', kind: w.obj.kind, namespace: m.namespace, name: m.name, labels: m.labels });
  }
  for (let attempt = 0; ; attempt++) {
    try {
      sendJson(res, 200, await applyOnce(ctx, wanted, identity));
      return;
    } catch (err) {
      const callerPinned = wanted.some((w) => w.expected !== undefined);
      if (!(err instanceof ConflictError || err instanceof AlreadyExistsError) || callerPinned || attempt >= APPLY_RETRIES) throw err;
    }
  }
}

/** Validates every document; throws one ValidationError with all issues (document = index + 1). */
function validateAll(docs: unknown[]): Wanted[] {
  const issues: ValidationIssue[] = [];
  const out: Wanted[] = [];
  const seen = new Map<string, number>();
  docs.forEach((raw, i) => {
    try {
      const obj = validateObject(raw, { document: i + 1 });
      const k = keyString(keyOf(obj));
      const first = seen.get(k);
      if (first !== undefined) issues.push({ document: i + 1, path: 'metadata.name', expected: `a name not already used by document ${first} (${k})` });
      seen.set(k, i + 1);
      const rev = (raw as { metadata?: { revision?: unknown } }).metadata?.revision;
      out.push({ obj, expected: typeof rev === 'number' && rev > 0 ? rev : undefined });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      issues.push(...err.issues.map((is) => ({ ...is, document: is.document ?? i + 1 })));
    }
  });
  if (issues.length > 0) throw new ValidationError(issues);
  return out;
}

/** One read-plan-write round. */
async function applyOnce(ctx: ApiContext, wanted: Wanted[], identity: Identity): Promise<ApplyResult[]> {
  const current = await Promise.all(wanted.map(async (w) => ctx.store.get(keyOf(w.obj))));
  const ops: TxnOp[] = [];
  const results: ApplyResult[] = [];
  for (const [i, w] of wanted.entries()) {
    const stored = current[i];
    const m = w.obj.metadata;
    const result: ApplyResult = { kind: w.obj.kind, namespace: m.namespace, name: m.name, action: 'unchanged' };
    results.push(result);
    if (stored === undefined) {
      if (w.expected !== undefined) throw new ConflictError(`${keyString(keyOf(w.obj))} does not exist, but revision ${w.expected} was expected`);
      const obj = newObject(w.obj);
      await admitDocument(ctx, { operation: 'create', identity, object: obj }, i);
      ops.push({ op: 'create', object: await ctx.codec.toStore(obj) });
      result.action = 'created';
      continue;
    }
    if (w.expected !== undefined && w.expected !== stored.metadata.revision) {
      throw new ConflictError(`${keyString(keyOf(w.obj))} is at revision ${stored.metadata.revision}, not ${w.expected}`);
    }
    // The object as stored must be in the caller's collections too (not only as sent).
    if (!specEqual(stored.metadata.labels, m.labels)) await authorizeObject(ctx, identity, 'update', stored);
    const cur = await ctx.codec.fromStore(stored);
    if (specEqual(cur.spec, keepAutoscaledReplicas(cur, w.obj).spec) && specEqual(cur.metadata.labels, m.labels) && specEqual(cur.metadata.annotations ?? {}, keepControllerAnnotations(cur.metadata.annotations, m.annotations) ?? {})) continue;
    const next = mergeSpec(cur, w.obj);
    await admitDocument(ctx, { operation: 'update', identity, object: next, old: cur }, i);
    ops.push({ op: 'update', object: await ctx.codec.toStore(next), expectedRevision: stored.metadata.revision });
    result.action = 'configured';
  }
  if (ops.length > 0) await ctx.store.txn(ops);
  return results;
}

/** Admission of document `index`: its issues say which document they are about (as validation's do). */
async function admitDocument(ctx: ApiContext, req: Parameters<typeof admit>[1], index: number): Promise<void> {
  try {
    await admit(ctx, req);
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError(err.issues.map((is) => ({ ...is, document: is.document ?? index + 1 })));
    throw err;
  }
}
