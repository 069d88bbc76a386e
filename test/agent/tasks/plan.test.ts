import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Probe, ProbeResult, Task, TaskState } from '../../../src/api/kinds.js';
import { planTask, type ProbeInput } from '../../../src/agent/tasks/plan.js';
import type { ProbeVerdict } from '../../../src/agent/probes/verdict.js';
import { resolveArgs, resolveEnv } from '../../../src/agent/tasks/spec.js';
import type { ContainerState } from '../../../src/agent/runtime/runtime.js';

function task(state: TaskState, desired: 'running' | 'shutdown' = 'running', extra: Partial<Task['spec']['template']> = {}): Task {
  return {
    kind: 'Task',
    metadata: { name: 'web-1-abcde', namespace: 'default', uid: 'u', labels: {}, revision: 3, generation: 1, creationTimestamp: '' },
    spec: {
      service: 'web', serviceGeneration: 1, slot: 1, node: 'n1', image: 'img', desiredState: desired,
      template: { resources: { requests: {}, limits: { memory: '64Mi' } }, env: { A: 'b' }, probes: {}, stopGracePeriodSeconds: 10, ...extra } as Task['spec']['template'],
    },
    status: { state, desiredState: desired, ready: state === 'running', timestamp: '', pid: state === 'running' ? 42 : undefined },
  };
}
const running: ContainerState = { id: 'x', status: 'running', pid: 42, annotations: {} };
const exited = (code: number, oom = false): ContainerState => ({ id: 'x', status: 'stopped', annotations: {}, exit: { exitCode: code, oomKilled: oom, finishedAt: '' } });

describe('planTask', () => {
  const cases: Array<[string, Task | undefined, ContainerState | undefined, string]> = [
    ['new assigned task is prepared', task('assigned'), undefined, 'prepare'],
    ['prepared container is started', task('starting'), { id: 'x', status: 'created', annotations: {} }, 'start'],
    ['running and reported: idle', task('running'), running, 'idle'],
    ['adopted container is reported running', task('starting'), running, 'report-running'],
    ['exit 0 is complete', task('running'), exited(0), 'report-exit:complete'],
    ['exit 3 is failed', task('running'), exited(3), 'report-exit:failed'],
    ['OOM is failed', task('running'), exited(137, true), 'report-exit:failed'],
    ['terminal task with container is cleaned up', task('failed'), exited(3), 'cleanup'],
    ['desired shutdown stops a running container', task('running', 'shutdown'), running, 'stop'],
    ['desired shutdown after the stop reports shutdown', task('running', 'shutdown'), exited(137), 'report:shutdown'],
    ['shutdown before it ever ran', task('assigned', 'shutdown'), undefined, 'report:shutdown'],
    ['task gone: stop its container', undefined, running, 'stop'],
    ['task gone: clean up an exited one', undefined, exited(0), 'cleanup'],
    ['running but container vanished: failed', task('running'), undefined, 'report:failed'],
    ['stopped, exit code not written yet: wait', task('running'), { id: 'x', status: 'stopped', annotations: {} }, 'await-exit'],
    ['terminal and clean: idle', task('complete'), undefined, 'idle'],
  ];
  for (const [name, t, c, want] of cases) {
    it(name, () => {
      const step = planTask(t, c);
      const got = 'state' in step ? `${step.do}:${step.state}` : step.do;
      assert.equal(got, want);
    });
  }
  it('says OOM in the message', () => {
    const step = planTask(task('running'), exited(137, true));
    assert.ok(step.do === 'report-exit' && /^OOMKilled: .*64Mi/.test(step.message));
  });
});

describe('container spec', () => {
  it('command replaces entrypoint and cmd; args replace cmd', () => {
    const img = { entrypoint: ['/bin/ep'], cmd: ['c1'] };
    assert.deepEqual(resolveArgs(task('new'), img), ['/bin/ep', 'c1']);
    assert.deepEqual(resolveArgs(task('new', 'running', { args: ['a'] }), img), ['/bin/ep', 'a']);
    assert.deepEqual(resolveArgs(task('new', 'running', { command: ['sh'] }), img), ['sh']);
  });
  it('service env overrides image env', () => {
    const env = resolveEnv(task('new', 'running', { env: { A: 'svc' } }), { env: ['A=img', 'B=img'] });
    assert.equal(env.A, 'svc');
    assert.equal(env.B, 'img');
    assert.ok(env.PATH);
  });
});

const probe = (over: Partial<Probe> = {}): Probe => ({ http: { path: '/ready', port: 8080, scheme: 'http', headers: {} }, initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1, ...over });
const result = (r: 'success' | 'failure', message: string, time = '2026-01-01T00:00:05.000Z'): ProbeResult => ({ result: r, message, consecutive: r === 'success' ? 1 : 3, time });
const verdict = (over: Partial<ProbeVerdict> = {}): ProbeVerdict => ({ started: true, ready: false, probes: {}, ...over });
/** A running task with a readiness probe and the given readiness status. */
function probed(ready: boolean, probes: NonNullable<Task['status']>['probes'] = {}): Task {
  const t = task('running', 'running', { probes: { readiness: probe() } });
  t.status = { ...(t.status as NonNullable<Task['status']>), ready, ...(ready ? { readySince: '2026-01-01T00:00:01.000Z' } : {}), probes };
  return t;
}
const on = (v?: ProbeVerdict): ProbeInput => ({ enabled: true, verdict: v });

describe('planTask with probes', () => {
  it('starts a prober for a running, reported task', () => {
    assert.equal(planTask(probed(false), running, on()).do, 'start-probes');
  });
  it('does not start probers on a node without them (hollow): a running task is ready', () => {
    assert.equal(planTask(probed(false), running).do, 'report-probe');
    const step = planTask(probed(false), running);
    assert.ok(step.do === 'report-probe' && step.ready);
    assert.equal(planTask(probed(true), running).do, 'idle');
  });
  it('reports the task ready once the verdict says so, with the transition and its time', () => {
    const r = result('success', 'HTTP 200');
    const step = planTask(probed(false), running, on(verdict({ ready: true, readySince: r.time, probes: { readiness: r } })));
    assert.deepEqual(step, { do: 'report-probe', ready: true, readySince: r.time, probes: { readiness: r } });
  });
  it('is idle while the verdict and the status agree (no write per probe period)', () => {
    const r = result('success', 'HTTP 200');
    assert.equal(planTask(probed(true, { readiness: r }), running, on(verdict({ ready: true, readySince: 'later', probes: { readiness: r } }))).do, 'idle');
  });
  it('reports not ready after the failure transition, dropping readySince', () => {
    const ok = result('success', 'HTTP 200');
    const bad = result('failure', 'HTTP 503', '2026-01-01T00:01:00.000Z');
    const step = planTask(probed(true, { readiness: ok }), running, on(verdict({ ready: false, probes: { readiness: bad } })));
    assert.deepEqual(step, { do: 'report-probe', ready: false, readySince: undefined, probes: { readiness: bad } });
  });
  it('keeps readySince of a task that stays ready when another probe is written', () => {
    const ok = result('success', 'HTTP 200');
    const live = result('success', 'exit code 0');
    const step = planTask(probed(true, { readiness: ok }), running, on(verdict({ ready: true, readySince: 'prober start', probes: { readiness: ok, liveness: live } })));
    assert.ok(step.do === 'report-probe');
    assert.equal(step.readySince, '2026-01-01T00:00:01.000Z');
  });
  it('reports the task failed when liveness or startup failed for good', () => {
    const bad = result('failure', 'exit code 1');
    const step = planTask(probed(true), running, on(verdict({ ready: false, failed: 'liveness probe failed: exit code 1', probes: { liveness: bad } })));
    assert.deepEqual(step, { do: 'report', state: 'failed', message: 'liveness probe failed: exit code 1', probes: { liveness: bad } });
  });
  it('stops the prober before anything else once the task no longer runs', () => {
    const v = on(verdict());
    const failed = task('failed');
    failed.status = { ...(failed.status as NonNullable<Task['status']>), message: 'liveness probe failed: exit code 1' };
    assert.equal(planTask(failed, running, v).do, 'stop-probes');
    assert.equal(planTask(task('running', 'shutdown'), running, v).do, 'stop-probes');
    assert.equal(planTask(undefined, running, v).do, 'stop-probes');
    assert.equal(planTask(undefined, undefined, v).do, 'stop-probes');
    assert.equal(planTask(task('running'), exited(3), v).do, 'stop-probes');
  });
  it('a task failed by its liveness probe then has its container stopped, its message kept', () => {
    const failed = task('failed');
    assert.equal(planTask(failed, running, on()).do, 'stop');
    assert.equal(planTask(failed, exited(137), on()).do, 'cleanup', 'the exit is not reported over the probe failure');
  });
  it('adoption: a running container of a task not yet reported running is reported first', () => {
    assert.equal(planTask(task('starting', 'running', { probes: { readiness: probe() } }), running, on()).do, 'report-running');
  });
});
