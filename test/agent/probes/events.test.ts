/**
 * Probe Events: the reason and type of each transition, Event names a node may create, and a
 * recorder that never blocks nor throws, whatever the server does.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EventObject, ProbeResult } from '../../../src/api/kinds.js';
import type { ApiObject } from '../../../src/api/object.js';
import { probeEventOf, ProbeEventRecorder } from '../../../src/agent/probes/events.js';

const r = (result: 'success' | 'failure', message: string, consecutive = 1): ProbeResult => ({ result, message, consecutive, time: '' });
const task = { metadata: { name: 'web-1-abcde', namespace: 'default', uid: 'u', labels: {}, revision: 1, generation: 1, creationTimestamp: '' } };

describe('probe events', () => {
  it('names each transition with its reason', () => {
    assert.deepEqual(probeEventOf('readiness', r('success', 'HTTP 200')), { type: 'Normal', reason: 'ProbeReady', message: 'readiness probe passed: HTTP 200' });
    assert.deepEqual(probeEventOf('readiness', r('failure', 'HTTP 503', 3)), { type: 'Warning', reason: 'ProbeNotReady', message: 'readiness probe failed (3 times in a row): HTTP 503' });
    assert.equal(probeEventOf('startup', r('success', 'x'))?.reason, 'StartupSucceeded');
    assert.equal(probeEventOf('startup', r('failure', 'x'))?.reason, 'StartupFailed');
    assert.equal(probeEventOf('liveness', r('failure', 'exit code 1'))?.reason, 'LivenessFailed');
    assert.equal(probeEventOf('liveness', r('success', 'exit code 0')), undefined);
  });

  it('creates one Event per transition on the task, from agent/<node>', async () => {
    const made: EventObject[] = [];
    const rec = new ProbeEventRecorder({ create: async (o: ApiObject) => { made.push(o as EventObject); return o; } }, 'n1', undefined, () => Date.parse('2026-01-01T00:00:00Z'));
    rec.record(task, { type: 'Warning', reason: 'ProbeNotReady', message: 'readiness probe failed: HTTP 503' });
    rec.record(task, { type: 'Normal', reason: 'ProbeReady', message: 'readiness probe passed: HTTP 200' });
    await new Promise((res) => setTimeout(res, 20));
    await rec.stop();
    assert.equal(made.length, 2);
    const [a, b] = made as [EventObject, EventObject];
    assert.notEqual(a.metadata.name, b.metadata.name);
    assert.match(a.metadata.name, /^web-1-abcde\.probenotready\.[0-9a-f]+$/);
    assert.equal(a.metadata.namespace, 'default');
    assert.deepEqual({ ...a.spec }, {
      involved: 'Task/default/web-1-abcde', type: 'Warning', reason: 'ProbeNotReady', message: 'readiness probe failed: HTTP 503',
      source: 'agent/n1', count: 1, firstTimestamp: '2026-01-01T00:00:00.000Z', lastTimestamp: '2026-01-01T00:00:00.000Z',
    });
  });

  it('a failing or hanging server neither blocks record() nor throws; stop() drops what waits', async () => {
    const logs: string[] = [];
    let calls = 0;
    const failing = new ProbeEventRecorder({ create: () => { calls++; return Promise.reject(new Error('forbidden')); } }, 'n1', (l) => logs.push(l));
    failing.record(task, { type: 'Normal', reason: 'ProbeReady', message: 'm' });
    await new Promise((res) => setTimeout(res, 20));
    await failing.stop();
    assert.equal(calls, 1);
    assert.match(logs[0] ?? '', /ProbeReady for Task\/default\/web-1-abcde not recorded: forbidden/);

    let release!: () => void;
    const hanging = new ProbeEventRecorder({ create: (o) => new Promise((res) => { release = () => res(o); }) }, 'n1');
    const t0 = Date.now();
    for (let i = 0; i < 1_000; i++) hanging.record(task, { type: 'Normal', reason: 'ProbeReady', message: String(i) });
    assert.ok(Date.now() - t0 < 500, 'record() returns at once');
    const stopped = hanging.stop();
    release();
    await stopped;
  });
});
