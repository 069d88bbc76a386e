/**
 * The TaskProber on a ManualClock with a scripted checker: startup first, thresholds, one
 * onChange per transition (never per period), liveness and startup failures halting it,
 * initialDelaySeconds and periodSeconds, and stop() aborting and awaiting the probes in flight.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Probe } from '../../../src/api/kinds.js';
import { ManualClock } from '../../../src/controllers/framework/clock.js';
import type { ProbeChecker } from '../../../src/agent/probes/checks.js';
import { TaskProber, type ProbeTransition } from '../../../src/agent/probes/prober.js';
import type { CheckOutcome, ProbeKind, ProbeSpecs } from '../../../src/agent/probes/verdict.js';

const probe = (over: Partial<Probe> = {}): Probe => ({ exec: { command: ['true'] }, initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1, ...over });

/** Answers each kind with what the test set (default: success); records the calls. */
class ScriptedChecker implements ProbeChecker {
  readonly calls: Array<{ kind: ProbeKind; at: number }> = [];
  readonly answers = new Map<ProbeKind, CheckOutcome>();
  /** When set, checks of this kind hang until aborted. */
  hang: ProbeKind | undefined;
  constructor(private readonly clock: ManualClock) {}

  check(kind: ProbeKind, _p: Probe, signal: AbortSignal): Promise<CheckOutcome> {
    this.calls.push({ kind, at: this.clock.now() });
    if (this.hang === kind) return new Promise((r) => signal.addEventListener('abort', () => setTimeout(() => r({ ok: false, message: 'probe stopped' }), 5), { once: true }));
    return Promise.resolve(this.answers.get(kind) ?? { ok: true, message: kind === 'readiness' ? 'HTTP 200' : 'exit code 0' });
  }

  count(kind: ProbeKind): number {
    return this.calls.filter((c) => c.kind === kind).length;
  }
}

function setup(probes: ProbeSpecs): { clock: ManualClock; checker: ScriptedChecker; prober: TaskProber; changes: () => number; transitions: ProbeTransition[]; tick: (ms: number) => Promise<void> } {
  const clock = new ManualClock(Date.parse('2026-01-01T00:00:00.000Z'));
  const checker = new ScriptedChecker(clock);
  let changes = 0;
  const transitions: ProbeTransition[] = [];
  const prober = new TaskProber({ probes, checker, clock, onChange: () => changes++, onTransition: (t) => transitions.push(t) });
  /** Moves the clock one step at a time, letting each probe's result land before the next timer. */
  const tick = async (ms: number): Promise<void> => {
    for (let i = 0; i < ms / 100; i++) {
      clock.advance(100);
      for (let j = 0; j < 5; j++) await new Promise((r) => setImmediate(r));
    }
  };
  return { clock, checker, prober, changes: () => changes, transitions, tick };
}

describe('TaskProber', () => {
  it('runs startup first; readiness and liveness only once it passed', async () => {
    const s = setup({ startup: probe({ failureThreshold: 10 }), readiness: probe(), liveness: probe() });
    s.checker.answers.set('startup', { ok: false, message: 'connect ECONNREFUSED 10.0.0.2:8080' });
    s.prober.start();
    await s.tick(2_500);
    assert.equal(s.checker.count('readiness') + s.checker.count('liveness'), 0, 'nothing but startup while it fails');
    assert.equal(s.prober.verdict().started, false);
    s.checker.answers.delete('startup');
    await s.tick(1_000);
    assert.equal(s.prober.verdict().started, true);
    await s.tick(2_000);
    assert.ok(s.checker.count('readiness') >= 2 && s.checker.count('liveness') >= 2);
    const startups = s.checker.count('startup');
    await s.tick(3_000);
    assert.equal(s.checker.count('startup'), startups, 'startup never runs again once passed');
    assert.deepEqual(s.transitions.map((t) => `${t.kind}:${t.result.result}`), ['startup:success', 'readiness:success', 'liveness:success']);
    assert.equal(s.prober.verdict().ready, true);
    await s.prober.stop();
  });

  it('changes the verdict only on transitions: many periods, few changes', async () => {
    const s = setup({ readiness: probe({ failureThreshold: 3 }) });
    s.prober.start();
    await s.tick(5_000);
    assert.equal(s.changes(), 1, 'one change for the first success, none for the next four');
    const ready = s.prober.verdict();
    assert.equal(ready.ready, true);
    const first = '2026-01-01T00:00:00.100Z'; // the first probe's result landed in the first 100 ms
    assert.equal(ready.readySince, first);
    assert.deepEqual(ready.probes.readiness, { result: 'success', message: 'HTTP 200', consecutive: 1, time: first });
    s.checker.answers.set('readiness', { ok: false, message: 'HTTP 503' });
    await s.tick(2_000);
    assert.equal(s.prober.verdict().ready, true, 'two failures are below failureThreshold 3');
    await s.tick(1_000);
    const v = s.prober.verdict();
    assert.equal(v.ready, false);
    assert.equal(v.readySince, undefined);
    assert.equal(v.probes.readiness?.result, 'failure');
    assert.equal(v.probes.readiness?.message, 'HTTP 503');
    assert.equal(v.probes.readiness?.consecutive, 3);
    await s.tick(5_000);
    assert.equal(s.changes(), 2, 'failing on: no more changes');
    s.checker.answers.delete('readiness');
    await s.tick(1_000);
    assert.equal(s.prober.verdict().ready, true);
    assert.equal(s.changes(), 3);
    await s.prober.stop();
  });

  it('liveness failing failureThreshold times fails the task and stops probing', async () => {
    const s = setup({ readiness: probe(), liveness: probe({ failureThreshold: 2 }) });
    s.prober.start();
    await s.tick(1_000);
    s.checker.answers.set('liveness', { ok: false, message: 'exit code 1: no alive file' });
    await s.tick(2_000);
    const v = s.prober.verdict();
    assert.equal(v.failed, 'liveness probe failed: exit code 1: no alive file');
    assert.equal(v.ready, false);
    const calls = s.checker.calls.length;
    await s.tick(5_000);
    assert.equal(s.checker.calls.length, calls, 'no probe after the task failed');
    assert.equal(s.transitions.at(-1)?.kind, 'liveness');
    await s.prober.stop();
  });

  it('startup never passing fails the task with what it saw', async () => {
    const s = setup({ startup: probe({ failureThreshold: 3 }), readiness: probe() });
    s.checker.answers.set('startup', { ok: false, message: 'timeout after 1s' });
    s.prober.start();
    await s.tick(5_000);
    assert.equal(s.prober.verdict().failed, 'startup probe failed: timeout after 1s');
    assert.equal(s.checker.count('startup'), 3);
    assert.equal(s.checker.count('readiness'), 0);
    await s.prober.stop();
  });

  it('waits initialDelaySeconds, then probes every periodSeconds', async () => {
    const s = setup({ readiness: probe({ initialDelaySeconds: 2, periodSeconds: 3 }) });
    s.prober.start();
    await s.tick(8_500);
    assert.deepEqual(s.checker.calls.map((c) => (c.at - Date.parse('2026-01-01T00:00:00.000Z')) / 1000), [2, 5, 8]);
    await s.prober.stop();
  });

  it('stop() aborts the probe in flight, waits for it, and is idempotent', async () => {
    const s = setup({ readiness: probe() });
    s.checker.hang = 'readiness';
    s.prober.start();
    await s.tick(100);
    assert.equal(s.checker.count('readiness'), 1);
    const a = s.prober.stop();
    const b = s.prober.stop();
    assert.equal(a, b);
    await a;
    assert.equal(s.changes(), 0, 'an aborted probe changes nothing');
    assert.equal(s.clock.pending(), 0, 'no timer left');
  });

  it('a checker that throws counts as a failure with its message', async () => {
    const s = setup({ readiness: probe({ failureThreshold: 1 }) });
    s.checker.check = () => Promise.reject(new Error('exec in x: container not running'));
    s.prober.start();
    await s.tick(100);
    assert.equal(s.prober.verdict().probes.readiness?.message, 'exec in x: container not running');
    await s.prober.stop();
  });
});
