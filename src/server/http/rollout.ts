/**
 * POST /api/v1/services/{name}/rollout?namespace=NS with `{action, toRevision?}`: the user
 * actions on a rollout (pause, resume, promote, undo, restart). The transition itself is pure
 * (src/api/rollout-actions.ts); this handler checks the body and the caller, then writes spec
 * and status together in one store update with the read revision as the expected one.
 *
 *   body -> parse (400 naming the field) -> authorize update Service (again with its labels once read)
 *        -> readModifyWrite: read -> applyRolloutAction (409/404) -> validate a changed spec
 *           -> generation + 1 if the spec changed -> admit -> codec -> store @read revision
 *           (a lost race re-reads and applies the action again)
 *        -> 200 the written Service
 */
import { BadRequestError, NotFoundError } from '../../api/errors.js';
import type { Service } from '../../api/kinds.js';
import type { ApiObject } from '../../api/object.js';
import { ROLLOUT_ACTIONS, applyRolloutAction, isRolloutAction, type RolloutActionRequest } from '../../api/rollout-actions.js';
import { specEqual, validateSpec } from '../../api/validate/index.js';
import { authorizeObject, expectedRevisionParam, keyFor, type ApiContext, type ApiRequest } from './context.js';
import { readModifyWrite } from './objects.js';
import { readJsonBody, sendJson } from './respond.js';

/** Handles the rollout route (only for Services: other kinds have no rollout). */
export async function serveRolloutAction(ctx: ApiContext, r: ApiRequest): Promise<void> {
  if (r.kind !== 'Service') throw new NotFoundError(`no route for ${r.url.pathname}: only services have rollouts`);
  const body = parseRolloutActionRequest(await readJsonBody(r.req, ctx.bodyLimitBytes));
  const key = keyFor(r);
  // A rollout action is an update of the Service (it writes spec and status together).
  await ctx.authorizer.authorize(r.identity, { verb: 'update', kind: key.kind, namespace: key.namespace, name: key.name });
  const opts = body.toRevision !== undefined ? { toRevision: body.toRevision } : {};
  const written = await readModifyWrite(ctx, r, expectedRevisionParam(r.url), 'update', (cur) =>
    withGeneration(cur, applyRolloutAction(cur as Service, body.action, { nowMs: Date.now(), ...opts })),
  (cur) => authorizeObject(ctx, r.identity, 'update', cur));
  sendJson(r.res, 200, written);
}

/** Checks a request body; BadRequestError naming the field that is wrong. */
export function parseRolloutActionRequest(body: unknown): RolloutActionRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestError('body must be a JSON object: {action, toRevision?}');
  const raw = body as Record<string, unknown>;
  const unknown = Object.keys(raw).filter((k) => k !== 'action' && k !== 'toRevision');
  if (unknown.length > 0) throw new BadRequestError(`${unknown[0]}: unknown field (expected action and, for undo, toRevision)`);
  if (!isRolloutAction(raw.action)) {
    const found = raw.action === undefined ? 'nothing' : JSON.stringify(raw.action);
    throw new BadRequestError(`action: expected one of ${ROLLOUT_ACTIONS.join(', ')}, found ${found}`);
  }
  const to = raw.toRevision;
  if (to === undefined || to === null) return { action: raw.action };
  if (typeof to !== 'number' || !Number.isSafeInteger(to) || to < 1) throw new BadRequestError(`toRevision: expected an integer >= 1, found ${JSON.stringify(to)}`);
  if (raw.action !== 'undo') throw new BadRequestError(`toRevision: only undo takes a revision, not ${raw.action}`);
  return { action: raw.action, toRevision: to };
}

/** `next` with its spec validated and generation + 1 when the spec differs from `cur`'s (as mergeSpec does). */
function withGeneration(cur: ApiObject, next: Service): ApiObject {
  if (specEqual(cur.spec, next.spec)) return { ...next, metadata: { ...next.metadata, generation: cur.metadata.generation } };
  const spec = validateSpec('Service', next.spec);
  return { ...next, spec, metadata: { ...next.metadata, generation: cur.metadata.generation + 1 } };
}
