/**
 * `flotilla rollout ...`: in-process against a fake client whose rollout actions apply the same
 * pure transition as the server, and whose service can answer a scripted series of states (so
 * `status` sees a rollout move); then once end to end against a real server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RolloutStatus, Service, ServiceRevision, ServiceSpec, ServiceStatus } from '../../src/api/kinds.js';
import { keyString, type ApiObject, type ObjectKey } from '../../src/api/object.js';
import { applyRolloutAction, type RolloutActionRequest } from '../../src/api/rollout-actions.js';
import { templateHash } from '../../src/api/rollout.js';
import { validateSpec } from '../../src/api/validate/index.js';
import { runCli } from '../../src/cli/program.js';
import { ApiClient } from '../../src/client/index.js';
import { startTestServer, type TestServer } from '../server/helpers.js';
import { FakeClient, NOW, fakeDeps, obj } from './fake-client.js';

const ago = (s: number): string => new Date(NOW.getTime() - s * 1000).toISOString();
const spec = (image: string, extra: Record<string, unknown> = {}): ServiceSpec => validateSpec('Service', { image, replicas: 4, ...extra }) as ServiceSpec;
const V1 = spec('reg/web:1');
const V2 = spec('reg/web:2');

function entry(revision: number, s: ServiceSpec, createdAt: string, cause?: string): ServiceRevision {
  return { revision, hash: templateHash(s), template: s, createdAt, image: s.image, ...(cause !== undefined ? { cause } : {}) };
}
const HISTORY = [entry(1, V1, ago(7200), 'apply'), entry(2, V2, ago(300), 'apply')];

function rollout(over: Partial<RolloutStatus> = {}): RolloutStatus {
  return { state: 'progressing', strategy: 'rolling', revision: 2, from: 1, since: ago(60), failuresSince: ago(60), startedAt: ago(60), message: '1/4 new tasks ready', ...over };
}

/** `web` at spec revision 2 with this rollout (undefined: none) and status. */
function web(r: RolloutStatus | undefined, over: Partial<ServiceStatus> = {}, s: ServiceSpec = V2): Service {
  const status: ServiceStatus = { replicas: 4, readyReplicas: 1, revision: 1, history: HISTORY, ...over };
  if (r !== undefined) status.rollout = r;
  return obj('Service', 'web', s, status) as Service;
}

/** FakeClient plus rolloutAction (the pure transition, as the server applies it) and scripted reads. */
class RolloutFake extends FakeClient {
  private readonly script: ApiObject[];
  constructor(objects: ApiObject[], script: ApiObject[] = []) {
    super(objects);
    this.script = [...script];
  }

  override get(key: ObjectKey): Promise<ApiObject | undefined> {
    const next = this.script.length > 1 ? this.script.shift() : this.script[0];
    if (next !== undefined && key.name === next.metadata.name) {
      this.calls.push(`get ${keyString(key)}`);
      return Promise.resolve(next);
    }
    return super.get(key);
  }

  rolloutAction(service: { name: string; namespace?: string }, req: RolloutActionRequest): Promise<ApiObject> {
    const k = keyString({ kind: 'Service', namespace: service.namespace ?? 'default', name: service.name });
    this.calls.push(`rollout ${k} ${req.action}${req.toRevision !== undefined ? ` ${req.toRevision}` : ''}`);
    const cur = this.objects.get(k);
    if (cur === undefined) return Promise.reject(new Error(`${k} not found`));
    try {
      const next = applyRolloutAction(cur as Service, req.action, { nowMs: NOW.getTime(), ...(req.toRevision !== undefined ? { toRevision: req.toRevision } : {}) });
      this.objects.set(k, next);
      return Promise.resolve(next);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }
}

async function run(argv: string[], client: FakeClient): Promise<{ code: number; out: string; err: string }> {
  const { deps, captured } = fakeDeps(client);
  const code = await runCli(argv, deps);
  return { code, ...captured };
}

const FAST = ['--poll-ms', '1'];

void describe('flotilla rollout status', () => {
  void it('prints one line per change of progress, then the completion, exit 0', async () => {
    const c = new RolloutFake([], [
      web(rollout()),
      web(rollout()),
      web(rollout({ message: '3/4 new tasks ready' }), { readyReplicas: 3 }),
      web(rollout({ state: 'complete', finishedAt: ago(0), message: '4/4 new tasks ready' }), { readyReplicas: 4, revision: 2 }),
    ]);
    const r = await run(['rollout', 'status', 'service', 'web', ...FAST], c);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, [
      'Waiting for rollout of web to revision 2: 1/4 new tasks ready (progressing)',
      'Waiting for rollout of web to revision 2: 3/4 new tasks ready (progressing)',
      'rollout of web to revision 2 complete: 4/4 tasks ready',
      '',
    ].join('\n'));
    assert.equal(c.calls.length, 4);
  });

  void it('says rolled back on stderr and exits 1', async () => {
    const c = new RolloutFake([], [
      web(rollout()),
      web(rollout({ state: 'rolled-back', revision: 1, from: 2, message: 'rolled back: 2/4 new tasks failed the readiness probe' }), {}, V1),
    ]);
    const r = await run(['rollout', 'status', 'service/web', ...FAST], c);
    assert.equal(r.code, 1);
    assert.equal(r.out, 'Waiting for rollout of web to revision 2: 1/4 new tasks ready (progressing)\n');
    assert.equal(r.err, 'rollout of web to revision 2 rolled back: 2/4 new tasks failed the readiness probe\n');
  });

  void it('exits 1 on a failed rollout too', async () => {
    const r = await run(['rollout', 'status', 'service', 'web', '--no-wait'], new RolloutFake([], [web(rollout({ state: 'failed', message: 'progress deadline exceeded' }))]));
    assert.equal(r.code, 1);
    assert.equal(r.err, 'rollout of web to revision 2 failed: progress deadline exceeded\n');
  });

  void it('waiting for promotion: --no-wait prints once with the hint; waiting prints the hint once and goes on', async () => {
    const waiting = web(rollout({ state: 'waiting-promotion', strategy: 'blue-green', message: '4/4 new tasks ready on the preview' }), { readyReplicas: 8 });
    const once = await run(['rollout', 'status', 'service', 'web', '--no-wait'], new RolloutFake([], [waiting]));
    assert.equal(once.code, 0);
    assert.equal(once.out, 'Waiting for rollout of web to revision 2: 4/4 new tasks ready on the preview (waiting-promotion)\nwaiting for promotion: run flotilla rollout promote service web\n');
    const done = web(rollout({ state: 'complete', strategy: 'blue-green', message: 'promoted' }), { readyReplicas: 4, revision: 2 });
    const c = new RolloutFake([], [waiting, waiting, waiting, done]);
    const r = await run(['rollout', 'status', 'service', 'web', ...FAST], c);
    assert.equal(r.code, 0);
    assert.equal(r.out.match(/waiting for promotion/g)?.length, 1);
    assert.match(r.out, /rollout of web to revision 2 complete: 4\/4 tasks ready\n$/);
  });

  void it('a paused rollout prints its message and the way out', async () => {
    const r = await run(['rollout', 'status', 'service', 'web', '-n', 'default', '--no-wait'], new RolloutFake([], [web(rollout({ state: 'paused', userPaused: true, message: 'paused by flotilla rollout pause' }))]));
    assert.equal(r.code, 0);
    assert.equal(r.out, 'Waiting for rollout of web to revision 2: paused by flotilla rollout pause (paused)\npaused: run flotilla rollout resume service web\n');
  });

  void it('waits for a changed spec to be picked up before it believes a finished rollout', async () => {
    const V3 = spec('reg/web:3');
    const oldDone = web(rollout({ state: 'complete' }), { readyReplicas: 4, revision: 2 }, V3);
    const recorded = web(rollout({ revision: 3, from: 2, message: '0/4 new tasks ready' }), { revision: 2, history: [...HISTORY, entry(3, V3, ago(0))] }, V3);
    const r = await run(['rollout', 'status', 'service', 'web', ...FAST, '--timeout', '100ms'], new RolloutFake([], [oldDone, recorded]));
    assert.equal(r.code, 1, 'never completes: times out');
    assert.equal(r.out, 'Waiting for rollout of web to start\nWaiting for rollout of web to revision 3: 0/4 new tasks ready (progressing)\n');
    assert.equal(r.err, 'error: timed out after 100ms waiting for the rollout of web (Waiting for rollout of web to revision 3: 0/4 new tasks ready (progressing))\n');
  });

  void it('a service without a rollout', async () => {
    const fresh = obj('Service', 'web', V1, { revision: 1, history: [HISTORY[0]] });
    const r = await run(['rollout', 'status', 'service', 'web'], new RolloutFake([fresh]));
    assert.deepEqual(r, { code: 0, out: 'service web: no rollout yet (revision 1)\n', err: '' });
    const bare = await run(['rollout', 'status', 'service', 'web'], new RolloutFake([obj('Service', 'web', V1)]));
    assert.equal(bare.out, 'service web: no rollout yet (no revision recorded yet)\n');
  });

  void it('refuses other kinds, a missing name, a bad timeout; names an unknown service', async () => {
    for (const argv of [['task', 'web-1'], ['service'], ['svc/'], ['service/web', 'x'], ['service', 'web', '--timeout', 'soon']]) {
      const r = await run(['rollout', 'status', ...argv], new RolloutFake([]));
      assert.equal(r.code, 2, argv.join(' '));
      assert.equal(r.err.trimEnd().split('\n').length, 1, r.err);
    }
    const r = await run(['rollout', 'status', 'services/nope', '-n', 'prod'], new RolloutFake([]));
    assert.deepEqual(r, { code: 1, out: '', err: 'error: service "nope" not found in namespace prod\n' });
  });
});

void describe('flotilla rollout history and actions', () => {
  void it('history: a table with * on the revision the name serves', async () => {
    const s = web(rollout({ state: 'complete' }), { revision: 2, history: [HISTORY[1] as ServiceRevision, entry(1, V1, ago(7200))] });
    const r = await run(['rollout', 'history', 'service', 'web'], new RolloutFake([s]));
    assert.equal(r.code, 0);
    assert.equal(r.out, [
      'REVISION   IMAGE       CAUSE   CREATED',
      '1          reg/web:1   -       2h ago',
      '2*         reg/web:2   apply   5m ago',
      '',
    ].join('\n'));
    const none = await run(['rollout', 'history', 'service', 'web'], new RolloutFake([obj('Service', 'web', V1)]));
    assert.deepEqual(none, { code: 0, out: '', err: 'service web has no revisions yet\n' });
  });

  void it('pause, resume, promote, restart print one line and write the transition', async () => {
    const c = new RolloutFake([web(rollout())]);
    assert.deepEqual(await run(['rollout', 'pause', 'service', 'web'], c), { code: 0, out: 'service/web paused\n', err: '' });
    assert.equal((c.objects.get('Service/default/web')?.status as ServiceStatus).rollout?.state, 'paused');
    assert.deepEqual(await run(['rollout', 'resume', 'service/web'], c), { code: 0, out: 'service/web resumed\n', err: '' });
    assert.deepEqual(await run(['rollout', 'restart', 'service', 'web'], c), { code: 0, out: 'service/web restarted\n', err: '' });
    assert.equal((c.objects.get('Service/default/web')?.spec as ServiceSpec).restartedAt, NOW.toISOString());
    const bg = new RolloutFake([web(rollout({ state: 'waiting-promotion', strategy: 'blue-green' }))]);
    assert.deepEqual(await run(['rollout', 'promote', 'service', 'web'], bg), { code: 0, out: 'service/web promoted\n', err: '' });
    assert.deepEqual(bg.calls, ['rollout Service/default/web promote']);
  });

  void it('pause and promote in the wrong state: one error line, exit 1', async () => {
    const c = new RolloutFake([web(rollout({ state: 'complete' }))]);
    assert.deepEqual(await run(['rollout', 'pause', 'service', 'web'], c), { code: 1, out: '', err: 'error: service web has no rollout in progress (rollout: complete)\n' });
    assert.deepEqual(await run(['rollout', 'promote', 'service', 'web'], c), { code: 1, out: '', err: 'error: service web is not waiting for promotion (rollout: complete)\n' });
  });

  void it('undo: to the previous revision or --to-revision N; unknown revisions and bad numbers refused', async () => {
    const c = new RolloutFake([web(rollout({ state: 'complete' }), { revision: 2 })]);
    assert.deepEqual(await run(['rollout', 'undo', 'service', 'web'], c), { code: 0, out: 'service/web undone to revision 1\n', err: '' });
    assert.equal((c.objects.get('Service/default/web')?.spec as ServiceSpec).image, 'reg/web:1');
    assert.deepEqual(await run(['rollout', 'undo', 'service', 'web', '--to-revision', '2'], c), { code: 0, out: 'service/web undone to revision 2\n', err: '' });
    assert.deepEqual(await run(['rollout', 'undo', 'service', 'web', '--to-revision', '9'], c), { code: 1, out: '', err: 'error: service web has no revision 9 (revisions: 1, 2)\n' });
    const lone = new RolloutFake([web(undefined, { history: [HISTORY[1] as ServiceRevision] })]);
    assert.deepEqual(await run(['rollout', 'undo', 'service', 'web'], lone), { code: 1, out: '', err: 'error: service web has no earlier revision to undo to\n' });
    for (const n of ['0', '-1', 'two']) {
      const r = await run(['rollout', 'undo', 'service', 'web', '--to-revision', n], c);
      assert.equal(r.code, 2, n);
      assert.match(r.err, /expected a revision number >= 1/);
    }
  });

  void it('a client without rollout actions is a clear error', async () => {
    const r = await run(['rollout', 'pause', 'service', 'web'], new FakeClient([web(rollout())]));
    assert.deepEqual(r, { code: 2, out: '', err: 'error: this client cannot act on rollouts\n' });
  });
});

void describe('flotilla rollout against a real server', { timeout: 60_000 }, () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    await t?.cleanup();
  });

  void it('promotes a blue-green service, then status says complete; a second promote is a 409 line', async () => {
    const update = { strategy: 'blue-green', scaleDownDelaySeconds: 600 };
    const v1 = await t.client.create({ kind: 'Service', metadata: { name: 'web' }, spec: { image: 'reg/web:1', replicas: 2, update } } as unknown as ApiObject);
    const v2 = await t.client.updateSpec({ ...v1, spec: { image: 'reg/web:2', replicas: 2, update } });
    const history = [entry(1, v1.spec as ServiceSpec, ago(600)), entry(2, v2.spec as ServiceSpec, ago(60))];
    await t.client.updateStatus({ ...v2, status: { replicas: 4, readyReplicas: 4, revision: 1, history, rollout: rollout({ state: 'waiting-promotion', strategy: 'blue-green', message: '2/2 new tasks ready' }) } });
    const cli = async (argv: string[]): Promise<{ code: number; out: string; err: string }> => {
      const { deps, captured } = fakeDeps(new FakeClient());
      // A client of its own per run: runCli closes it at the end.
      const code = await runCli(argv, { ...deps, now: () => new Date(), openClient: () => Promise.resolve(new ApiClient(t.client.config)) });
      return { code, ...captured };
    };
    assert.deepEqual(await cli(['rollout', 'promote', 'service', 'web']), { code: 0, out: 'service/web promoted\n', err: '' });
    assert.deepEqual(await cli(['rollout', 'status', 'service/web', '--no-wait']), { code: 0, out: 'rollout of web to revision 2 complete: 4/4 tasks ready\n', err: '' });
    assert.deepEqual(await cli(['rollout', 'promote', 'service', 'web']), { code: 1, out: '', err: 'error: service web is not waiting for promotion (rollout: complete)\n' });
    const hist = await cli(['rollout', 'history', 'service', 'web']);
    assert.match(hist.out, /^2\*\s+reg\/web:2/m);
  });
});
