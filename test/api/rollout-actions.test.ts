/**
 * The pure rollout actions (src/api/rollout-actions.ts): every transition and every refusal as
 * a table, then a property over all states, strategies and actions (never mutates its input,
 * fails only with 400/404/409, undo lands on the target's template).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BadRequestError, ConflictError, FlotillaError, NotFoundError } from '../../src/api/errors.js';
import type { RolloutState, RolloutStatus, Service, ServiceRevision, ServiceSpec, ServiceStatus } from '../../src/api/kinds.js';
import { ROLLOUT_ACTIONS, USER_PAUSE_MESSAGE, applyRolloutAction, type RolloutAction } from '../../src/api/rollout-actions.js';
import { templateHash } from '../../src/api/rollout.js';
import { validateSpec } from '../../src/api/validate/index.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const at = (secondsFromNow: number): string => new Date(NOW + secondsFromNow * 1000).toISOString();

function spec(image: string, extra: Record<string, unknown> = {}): ServiceSpec {
  return validateSpec('Service', { image, replicas: 4, ...extra }) as ServiceSpec;
}

const V1 = spec('busybox:1', { replicas: 2, restartedAt: at(-7200) });
const V2 = spec('busybox:2');
const V3 = spec('busybox:3');
const BLUE_GREEN = { strategy: 'blue-green', scaleDownDelaySeconds: 600 };
const CANARY = { strategy: 'canary', steps: [{ weight: 20 }, { pause: {} }, { weight: 100 }] };

function entry(revision: number, template: ServiceSpec, createdAt: string): ServiceRevision {
  return { revision, hash: templateHash(template), template, createdAt, image: template.image };
}

const HISTORY = [entry(1, V1, at(-3600)), entry(2, V2, at(-600))];

function rollout(over: Partial<RolloutStatus> = {}): RolloutStatus {
  return { state: 'progressing', strategy: 'rolling', revision: 2, from: 1, since: at(-60), failuresSince: at(-60), message: '1/4 new tasks ready', startedAt: at(-120), ...over };
}

function svc(s: ServiceSpec, status: ServiceStatus | undefined, namespace = 'default'): Service {
  const o: Service = {
    kind: 'Service',
    metadata: { name: 'web', namespace, uid: 'u1', labels: {}, revision: 7, generation: 3, creationTimestamp: at(-86_400) },
    spec: s,
  };
  if (status !== undefined) o.status = status;
  return o;
}

/** Spec at revision 2 (optionally with another update policy), stable 1 or 2, history 1 and 2. */
function web(r: RolloutStatus | undefined, opts: { update?: Record<string, unknown>; revision?: number; history?: ServiceRevision[]; spec?: ServiceSpec } = {}): Service {
  const s = opts.spec ?? (opts.update !== undefined ? spec('busybox:2', { update: opts.update }) : V2);
  const status: ServiceStatus = { replicas: 4, readyReplicas: 4, revision: opts.revision ?? 1, history: opts.history ?? HISTORY };
  if (r !== undefined) status.rollout = r;
  return svc(s, status);
}

interface Case {
  name: string;
  svc: Service;
  action: RolloutAction;
  toRevision?: number;
  /** The expected next object, or the expected error. */
  want: Service | { error: new (m: string) => FlotillaError; message: string | RegExp };
}

function withStatus(s: Service, patch: Partial<ServiceStatus>): Service {
  return { ...s, status: { ...s.status, ...patch } };
}

const undoSpec = (s: Service): ServiceSpec => ({ ...V1, replicas: s.spec.replicas, update: s.spec.update, restart: s.spec.restart });

const bgPromoted = web(rollout({ state: 'complete', strategy: 'blue-green', revision: 2, from: 1, scaleDownAt: at(300), finishedAt: at(-10) }), { update: BLUE_GREEN, revision: 2 });
const bgWaiting = web(rollout({ state: 'waiting-promotion', strategy: 'blue-green' }), { update: BLUE_GREEN });

const CASES: Case[] = [
  // pause
  { name: 'pause: progressing -> paused by the user', svc: web(rollout()), action: 'pause',
    want: withStatus(web(rollout()), { rollout: rollout({ state: 'paused', userPaused: true, since: at(0), message: USER_PAUSE_MESSAGE }) }) },
  { name: 'pause: complete is refused', svc: web(rollout({ state: 'complete' })), action: 'pause',
    want: { error: ConflictError, message: 'service web has no rollout in progress (rollout: complete)' } },
  { name: 'pause: no rollout is refused', svc: web(undefined), action: 'pause',
    want: { error: ConflictError, message: 'service web has no rollout in progress (no rollout)' } },
  { name: 'pause: paused already is refused', svc: web(rollout({ state: 'paused' })), action: 'pause',
    want: { error: ConflictError, message: 'service web has no rollout in progress (rollout: paused)' } },
  { name: 'pause: waiting-promotion is refused', svc: bgWaiting, action: 'pause',
    want: { error: ConflictError, message: 'service web has no rollout in progress (rollout: waiting-promotion)' } },
  { name: 'pause: names the namespace outside default', svc: svc(V2, undefined, 'prod'), action: 'pause',
    want: { error: ConflictError, message: 'service prod/web has no rollout in progress (no rollout)' } },
  { name: 'pause: takes no revision', svc: web(rollout()), action: 'pause', toRevision: 1,
    want: { error: BadRequestError, message: 'toRevision: only undo takes a revision, not pause' } },
  // resume
  { name: 'resume: user pause -> progressing, failures counted from now', svc: web(rollout({ state: 'paused', userPaused: true, message: USER_PAUSE_MESSAGE })), action: 'resume',
    want: withStatus(web(undefined), { rollout: rollout({ state: 'progressing', userPaused: false, since: at(0), failuresSince: at(0), message: 'resumed by flotilla rollout resume' }) }) },
  { name: 'resume: a pause after failures resumes too', svc: web(rollout({ state: 'paused', message: 'paused: 2/4 new tasks failed' })), action: 'resume',
    want: withStatus(web(undefined), { rollout: rollout({ state: 'progressing', userPaused: false, since: at(0), failuresSince: at(0), message: 'resumed by flotilla rollout resume' }) }) },
  { name: 'resume: progressing is refused', svc: web(rollout()), action: 'resume',
    want: { error: ConflictError, message: 'service web has no paused rollout (rollout: progressing)' } },
  { name: 'resume: no rollout is refused', svc: web(undefined), action: 'resume',
    want: { error: ConflictError, message: 'service web has no paused rollout (no rollout)' } },
  // promote
  { name: 'promote: blue-green switches the name to R and keeps S until scaleDownAt', svc: bgWaiting, action: 'promote',
    want: withStatus(bgWaiting, {
      revision: 2,
      rollout: rollout({ state: 'complete', strategy: 'blue-green', since: at(0), finishedAt: at(0), scaleDownAt: at(600),
        message: `promoted: revision 2 serves web; revision 1 kept until ${at(600)} for undo` }),
    }) },
  { name: 'promote: canary goes to the next step', svc: web(rollout({ state: 'waiting-promotion', strategy: 'canary', step: 1, weight: 20 }), { update: CANARY }), action: 'promote',
    want: withStatus(web(undefined, { update: CANARY }), { rollout: rollout({ state: 'progressing', strategy: 'canary', step: 2, weight: 20, since: at(0), message: 'promoted by flotilla rollout promote' }) }) },
  { name: 'promote: canary without a step starts from step 0', svc: web(rollout({ state: 'waiting-promotion', strategy: 'canary' }), { update: CANARY }), action: 'promote',
    want: withStatus(web(undefined, { update: CANARY }), { rollout: rollout({ state: 'progressing', strategy: 'canary', step: 1, since: at(0), message: 'promoted by flotilla rollout promote' }) }) },
  { name: 'promote: progressing is refused', svc: web(rollout({ strategy: 'blue-green' }), { update: BLUE_GREEN }), action: 'promote',
    want: { error: ConflictError, message: 'service web is not waiting for promotion (rollout: progressing)' } },
  { name: 'promote: no rollout is refused', svc: web(undefined), action: 'promote',
    want: { error: ConflictError, message: 'service web is not waiting for promotion (no rollout)' } },
  { name: 'promote: a complete blue-green is refused', svc: bgPromoted, action: 'promote',
    want: { error: ConflictError, message: 'service web is not waiting for promotion (rollout: complete)' } },
  // undo
  { name: 'undo: spec <- template of the previous revision, replicas/update/restart kept', svc: web(rollout({ state: 'complete' }), { revision: 2 }), action: 'undo',
    want: { ...web(rollout({ state: 'complete' }), { revision: 2 }), spec: undoSpec(web(undefined)) } },
  { name: 'undo: explicit revision', svc: web(undefined, { spec: V3, history: [...HISTORY, entry(3, V3, at(-60))] }), action: 'undo', toRevision: 1,
    want: { ...web(undefined, { history: [...HISTORY, entry(3, V3, at(-60))] }), spec: undoSpec(web(undefined)) } },
  { name: 'undo: restartedAt comes from the template (absent there: absent)', svc: web(undefined, { spec: { ...V3, restartedAt: at(-5) }, history: [...HISTORY, entry(3, { ...V3, restartedAt: at(-5) }, at(-60))] }), action: 'undo', toRevision: 2,
    want: { ...web(undefined, { history: [...HISTORY, entry(3, { ...V3, restartedAt: at(-5) }, at(-60))] }), spec: V2 } },
  { name: 'undo: default goes to the revision rolled out last, not the highest number', svc: web(undefined, { spec: V3, history: [entry(1, V1, at(-60)), entry(2, V2, at(-600)), entry(3, V3, at(-30))] }), action: 'undo',
    want: { ...web(undefined, { history: [entry(1, V1, at(-60)), entry(2, V2, at(-600)), entry(3, V3, at(-30))] }), spec: { ...V1, replicas: 4, update: V3.update, restart: V3.restart } } },
  { name: 'undo: a spec not yet in history goes back to the newest recorded one', svc: web(rollout({ state: 'complete' }), { spec: V3, revision: 2 }), action: 'undo',
    want: { ...web(rollout({ state: 'complete' }), { revision: 2 }), spec: V2 } },
  { name: 'undo: unknown revision lists the ones there are', svc: web(undefined), action: 'undo', toRevision: 7,
    want: { error: NotFoundError, message: 'service web has no revision 7 (revisions: 1, 2)' } },
  { name: 'undo: unknown revision without history', svc: web(undefined, { history: [] }), action: 'undo', toRevision: 1,
    want: { error: NotFoundError, message: 'service web has no revision 1 (revisions: none)' } },
  { name: 'undo: nothing earlier than the only revision', svc: web(undefined, { history: [HISTORY[1] as ServiceRevision] }), action: 'undo',
    want: { error: ConflictError, message: 'service web has no earlier revision to undo to' } },
  { name: 'undo: nothing earlier without status', svc: svc(V2, undefined), action: 'undo',
    want: { error: ConflictError, message: 'service web has no earlier revision to undo to' } },
  { name: 'undo: to the revision the spec has is refused', svc: web(undefined), action: 'undo', toRevision: 2,
    want: { error: ConflictError, message: 'service web is at revision 2 already' } },
  { name: 'undo: blue-green after promotion switches back at once', svc: bgPromoted, action: 'undo',
    want: { ...withStatus(bgPromoted, {
      revision: 1,
      rollout: { state: 'complete', strategy: 'blue-green', revision: 1, from: 2, scaleDownAt: at(600), since: at(0), startedAt: at(0), finishedAt: at(0), failuresSince: at(0), message: 'undone: switched back to revision 1' },
    }), spec: undoSpec(bgPromoted) } },
  { name: 'undo: blue-green waiting for promotion switches back, the preview is the side given up', svc: bgWaiting, action: 'undo',
    want: { ...withStatus(bgWaiting, {
      revision: 1,
      rollout: { state: 'complete', strategy: 'blue-green', revision: 1, from: 2, scaleDownAt: at(600), since: at(0), startedAt: at(0), finishedAt: at(0), failuresSince: at(0), message: 'undone: switched back to revision 1' },
    }), spec: undoSpec(bgWaiting) } },
  { name: 'undo: blue-green after scaleDownAt only changes the spec', svc: withStatus(bgPromoted, { rollout: { ...(bgPromoted.status?.rollout as RolloutStatus), scaleDownAt: at(-1) } }), action: 'undo',
    want: { ...withStatus(bgPromoted, { rollout: { ...(bgPromoted.status?.rollout as RolloutStatus), scaleDownAt: at(-1) } }), spec: undoSpec(bgPromoted) } },
  { name: 'undo: rolling in progress only changes the spec', svc: web(rollout()), action: 'undo',
    want: { ...web(rollout()), spec: undoSpec(web(undefined)) } },
  // restart
  { name: 'restart: restartedAt = now', svc: web(rollout({ state: 'complete' }), { revision: 2 }), action: 'restart',
    want: { ...web(rollout({ state: 'complete' }), { revision: 2 }), spec: { ...V2, restartedAt: at(0) } } },
  { name: 'restart: in the middle of a rollout too', svc: web(rollout()), action: 'restart',
    want: { ...web(rollout()), spec: { ...V2, restartedAt: at(0) } } },
  { name: 'restart: takes no revision', svc: web(undefined), action: 'restart', toRevision: 1,
    want: { error: BadRequestError, message: 'toRevision: only undo takes a revision, not restart' } },
];

void describe('applyRolloutAction', () => {
  for (const c of CASES) {
    void it(c.name, () => {
      const before = structuredClone(c.svc);
      const run = (): Service => applyRolloutAction(c.svc, c.action, { nowMs: NOW, ...(c.toRevision !== undefined ? { toRevision: c.toRevision } : {}) });
      const want = c.want;
      if ('error' in want) {
        assert.throws(run, (err: unknown) => {
          assert.ok(err instanceof want.error, `expected ${want.error.name}, got ${String(err)}`);
          if (typeof want.message === 'string') assert.equal(err.message, want.message);
          else assert.match(err.message, want.message);
          return true;
        });
      } else {
        assert.deepEqual(run(), want);
      }
      assert.deepEqual(c.svc, before, 'input not mutated');
    });
  }

  void it('never mutates, fails only with 400/404/409, and undo lands on the target template', () => {
    const states: RolloutState[] = ['progressing', 'paused', 'waiting-promotion', 'complete', 'rolled-back', 'failed'];
    const arb = fc.record({
      state: fc.option(fc.constantFrom(...states), { nil: undefined }),
      strategy: fc.constantFrom<RolloutStatus['strategy']>('rolling', 'blue-green', 'canary'),
      action: fc.constantFrom(...ROLLOUT_ACTIONS),
      toRevision: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
      scaleDownIn: fc.integer({ min: -600, max: 600 }),
      specAt: fc.constantFrom(1, 2, 3),
    });
    fc.assert(fc.property(arb, (a) => {
      const history = [...HISTORY, entry(3, V3, at(-30))];
      const r = a.state === undefined ? undefined : rollout({ state: a.state, strategy: a.strategy, scaleDownAt: at(a.scaleDownIn) });
      const s = web(r, { spec: [V1, V2, V3][a.specAt - 1], history });
      const before = structuredClone(s);
      let next: Service | undefined;
      try {
        next = applyRolloutAction(s, a.action, { nowMs: NOW, ...(a.toRevision !== undefined ? { toRevision: a.toRevision } : {}) });
      } catch (err) {
        assert.ok(err instanceof FlotillaError && [400, 404, 409].includes(err.status), String(err));
      }
      assert.deepEqual(s, before);
      if (next === undefined) return;
      assert.deepEqual(next.metadata, s.metadata);
      if (a.action === 'undo') {
        const target = history.find((h) => templateHash(next.spec) === h.hash);
        assert.ok(target !== undefined && target.revision !== a.specAt, 'undo: spec is another revision of the history');
        assert.equal(next.spec.replicas, s.spec.replicas);
        if (next.status?.revision !== s.status?.revision) assert.equal(next.status?.revision, target.revision, 'a switch goes to the target');
      } else if (a.action !== 'restart') {
        assert.deepEqual(next.spec, s.spec, `${a.action} changes status only`);
      }
    }));
  });
});
