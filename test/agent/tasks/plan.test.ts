import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Task, TaskState } from '../../../src/api/kinds.js';
import { planTask } from '../../../src/agent/tasks/plan.js';
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
    status: { state, desiredState: desired, ready: false, timestamp: '', pid: state === 'running' ? 42 : undefined },
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
    assert.ok(step.do === 'report-exit' && /OOM-killed.*64Mi/.test(step.message));
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
