/**
 * What `flotilla describe` shows of probes and rollouts: a task's Probes section (each probe's
 * check, last result, consecutive count, time and message) and a service's Rollout section
 * (revision, rollout state, revision from which, weight, message, history).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Probe } from '../../../src/api/kinds.js';
import { describeObject } from '../../../src/cli/format/describe.js';
import { NOW, obj } from '../../cli/fake-client.js';

const timing = { initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1 };
const readiness: Probe = { http: { path: '/ready', port: 8080, scheme: 'http', headers: {} }, ...timing };
const liveness: Probe = { exec: { command: ['test', '-f', '/tmp/alive'] }, ...timing };

describe('describe: probes and rollouts', () => {
  it('a task shows each probe with its last transition', () => {
    const t = obj('Task', 'web-1-abc', { service: 'web', node: 'n1', image: 'reg/demo:1', desiredState: 'running', slot: 1, template: { probes: { readiness, liveness } } }, {
      state: 'running', desiredState: 'running', ready: false, ip: '10.1.0.5', timestamp: NOW.toISOString(),
      probes: { readiness: { result: 'failure', message: 'HTTP 503', consecutive: 3, time: '2026-01-01T11:59:50.000Z' } },
    });
    const text = describeObject(t, { events: [] }, NOW);
    assert.match(text, /^Probes:\n {2}PROBE +CHECK +RESULT +CONSECUTIVE +TIME +MESSAGE$/m);
    assert.match(text, /^ {2}readiness +http GET :8080\/ready every 1s +failure +3 +2026-01-01T11:59:50.000Z \(10s ago\) +HTTP 503$/m);
    assert.match(text, /^ {2}liveness +exec test -f \/tmp\/alive every 1s +pending +- +- +-$/m);
    assert.match(text, /^ {2}Ready: +no$/m);
  });

  it('a ready task shows since when; a task without probes has no Probes section', () => {
    const t = obj('Task', 'api-1-x', { service: 'api', node: 'n1', image: 'i', desiredState: 'running', slot: 1, template: { probes: {} } }, { state: 'running', desiredState: 'running', ready: true, readySince: '2026-01-01T11:00:00.000Z', timestamp: '' });
    const text = describeObject(t, { events: [] }, NOW);
    assert.match(text, /^ {2}Ready since: +2026-01-01T11:00:00.000Z$/m);
    assert.doesNotMatch(text, /^Probes:/m);
  });

  it('a service shows its revision, rollout and history', () => {
    const svc = obj('Service', 'web', { mode: 'replicated', replicas: 3, image: 'reg/demo:2', ports: [], env: {} }, {
      replicas: 3, readyReplicas: 3, revision: 1,
      rollout: { state: 'progressing', strategy: 'canary', revision: 2, from: 1, weight: 20, step: 0, message: '1/1 new tasks ready', since: '', failuresSince: '', startedAt: '2026-01-01T11:58:00.000Z' },
      history: [
        { revision: 1, hash: 'a', image: 'reg/demo:1', cause: 'apply', createdAt: '2026-01-01T11:00:00.000Z', template: {} },
        { revision: 2, hash: 'b', image: 'reg/demo:2', cause: 'apply', createdAt: '2026-01-01T11:58:00.000Z', template: {} },
      ],
    });
    const text = describeObject(svc, { tasks: [], events: [] }, NOW);
    assert.match(text, /^Rollout:\n {2}Revision: +1$/m);
    assert.match(text, /^ {2}State: +progressing \(canary\)$/m);
    assert.match(text, /^ {2}Rolling out: +revision 2 from 1$/m);
    assert.match(text, /^ {2}Weight: +20%$/m);
    assert.match(text, /^ {2}Message: +1\/1 new tasks ready$/m);
    assert.match(text, /^ {2}History:\n {4}REVISION +IMAGE +CAUSE +AGE\n {4}1 +reg\/demo:1 +apply +60m\n {4}2 +reg\/demo:2 +apply +2m$/m);
  });

  it('a service without revisions has no Rollout section', () => {
    const svc = obj('Service', 'old', { mode: 'replicated', replicas: 1, image: 'i', ports: [], env: {} }, { replicas: 1, readyReplicas: 1 });
    assert.doesNotMatch(describeObject(svc, { tasks: [], events: [] }, NOW), /^Rollout:/m);
  });
});
