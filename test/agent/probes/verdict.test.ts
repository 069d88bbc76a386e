/**
 * The pure probe rules: consecutive results against the thresholds, what each transition does
 * to the verdict, and what an adopted task resumes from.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Probe, ProbeResult, TaskStatus } from '../../../src/api/kinds.js';
import { applyTransition, countResult, seedVerdict, type ProbeCounter, type ProbeSpecs } from '../../../src/agent/probes/verdict.js';

const probe = (over: Partial<Probe> = {}): Probe => ({ tcp: { port: 80 }, initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1, ...over });
const result = (r: 'success' | 'failure', message: string, consecutive = 1): ProbeResult => ({ result: r, message, consecutive, time: '2026-01-01T00:00:00.000Z' });

/** Feeds a sequence of results (`+` success, `-` failure); returns the flips, `.` for none. */
function flips(seq: string, t: Pick<Probe, 'successThreshold' | 'failureThreshold'>, start: ProbeCounter = { successes: 0, failures: 0 }): string {
  let c = start;
  let out = '';
  for (const ch of seq) {
    const r = countResult(c, t, ch === '+');
    c = r.counter;
    out += r.flipped === 'success' ? 'S' : r.flipped === 'failure' ? 'F' : '.';
  }
  return out;
}

describe('countResult', () => {
  const cases: Array<[string, string, number, number, string]> = [
    ['first success passes at successThreshold 1', '+', 1, 3, 'S'],
    ['successes after the transition write nothing', '+++', 1, 3, 'S..'],
    ['failures below the threshold change nothing', '+--+--', 1, 3, 'S.....'],
    ['failureThreshold in a row flips to failure once', '+----', 1, 3, 'S..F.'],
    ['successThreshold 2 needs two in a row to come back', '+---+-++', 2, 3, '...F...S'],
    ['failing from the start is a transition too', '---', 1, 3, '..F'],
    ['failureThreshold 1 flips at once', '+-+', 1, 1, 'SFS'],
  ];
  for (const [name, seq, s, f, want] of cases) {
    it(name, () => assert.equal(flips(seq, { successThreshold: s, failureThreshold: f }), want));
  }
  it('counts consecutive results of the transition', () => {
    let c: ProbeCounter = { successes: 0, failures: 0 };
    for (let i = 0; i < 3; i++) c = countResult(c, { successThreshold: 1, failureThreshold: 3 }, false).counter;
    assert.deepEqual(c, { result: 'failure', successes: 0, failures: 3 });
  });
});

describe('applyTransition', () => {
  const specs: ProbeSpecs = { startup: probe(), readiness: probe(), liveness: probe() };
  const fresh = { started: false, ready: false, probes: {} };
  it('startup success starts the others; readiness still decides ready', () => {
    const v = applyTransition(fresh, 'startup', result('success', 'connected to 10.0.0.2:80'), specs);
    assert.equal(v.started, true);
    assert.equal(v.ready, false);
    assert.equal(v.failed, undefined);
  });
  it('startup success makes a task without readiness probe ready', () => {
    const r = result('success', 'ok');
    const v = applyTransition(fresh, 'startup', r, { startup: probe() });
    assert.equal(v.ready, true);
    assert.equal(v.readySince, r.time);
  });
  it('startup failure fails the task with what it saw', () => {
    const v = applyTransition(fresh, 'startup', result('failure', 'connect ECONNREFUSED 10.0.0.2:80', 3), specs);
    assert.equal(v.failed, 'startup probe failed: connect ECONNREFUSED 10.0.0.2:80');
    assert.deepEqual(v.probes.startup, result('failure', 'connect ECONNREFUSED 10.0.0.2:80', 3));
  });
  it('readiness flips ready and readySince', () => {
    const up = applyTransition({ started: true, ready: false, probes: {} }, 'readiness', result('success', 'HTTP 200'), specs);
    assert.deepEqual([up.ready, up.readySince], [true, '2026-01-01T00:00:00.000Z']);
    const down = applyTransition(up, 'readiness', result('failure', 'HTTP 503', 3), specs);
    assert.equal(down.ready, false);
    assert.ok(!('readySince' in down));
  });
  it('liveness failure fails the task and takes it out of service; success only records', () => {
    const ready = { started: true, ready: true, readySince: 't', probes: {} };
    assert.equal(applyTransition(ready, 'liveness', result('success', 'exit code 0'), specs).ready, true);
    const dead = applyTransition(ready, 'liveness', result('failure', 'exit code 1: no /tmp/alive', 3), specs);
    assert.equal(dead.failed, 'liveness probe failed: exit code 1: no /tmp/alive');
    assert.equal(dead.ready, false);
  });
});

describe('seedVerdict', () => {
  const now = '2026-01-01T00:10:00.000Z';
  const running = (over: Partial<TaskStatus>): TaskStatus => ({ state: 'running', desiredState: 'running', ready: false, timestamp: '', ...over });
  it('a fresh task starts with nothing passed', () => {
    const { verdict, counters } = seedVerdict({ startup: probe(), readiness: probe() }, running({}), now);
    assert.deepEqual(verdict, { started: false, ready: false, probes: {} });
    assert.equal(counters.readiness.result, undefined);
  });
  it('a task without probes is ready at once', () => {
    assert.deepEqual(seedVerdict({}, running({}), now).verdict, { started: true, ready: true, readySince: now, probes: {} });
  });
  it('an adopted ready task stays ready, since when it was, and skips a passed startup probe', () => {
    const st = { startup: result('success', 'ok'), readiness: result('success', 'HTTP 200') };
    const { verdict, counters } = seedVerdict({ startup: probe(), readiness: probe() }, running({ ready: true, readySince: 'then', probes: st }), now);
    assert.deepEqual(verdict, { started: true, ready: true, readySince: 'then', probes: st });
    assert.equal(counters.readiness.result, 'success', 'the next transition is a failure');
    assert.equal(counters.startup.result, 'success');
  });
  it('an adopted unready task resumes from its failure', () => {
    const st = { readiness: result('failure', 'HTTP 503', 3) };
    const { verdict, counters } = seedVerdict({ readiness: probe() }, running({ probes: st }), now);
    assert.deepEqual(verdict, { started: true, ready: false, probes: st });
    assert.equal(counters.readiness.result, 'failure');
  });
  it('results of probes the task does not have are dropped', () => {
    assert.deepEqual(seedVerdict({}, running({ probes: { liveness: result('success', 'x') } }), now).verdict.probes, {});
  });
});
