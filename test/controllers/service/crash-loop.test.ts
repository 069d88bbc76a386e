/** status.crashLoop (src/controllers/service/crash-loop.ts): when a slot counts as crash-looping, and the message. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crashLoopOf } from '../../../src/controllers/service/crash-loop.js';
import { service, T0, task } from '../fixtures.js';

const svc = service('web', { restart: { condition: 'on-failure', delaySeconds: 1, maxDelaySeconds: 60 } });

/** A failed task that ran `ranMs` after `created`, with `restarts` quick failures before it. */
function failed(name: string, createdMs: number, ranMs: number, restarts: number, desired: 'running' | 'shutdown' = 'shutdown') {
  const t = task(svc, 1, 'failed', { name, createdMs, endedMs: createdMs + ranMs, restarts, desired });
  t.status = { ...(t.status as NonNullable<typeof t.status>), message: 'exited with code 1', exitCode: 1 };
  return t;
}

void describe('crash loop status', () => {
  it('none below 3 quick failures in a row', () => {
    const ts = [failed('a', T0, 100, 0), failed('b', T0 + 2000, 100, 1, 'running')];
    assert.equal(crashLoopOf(svc, ts, T0 + 3000).status, undefined);
  });

  it('the 3rd quick failure in a row: crash loop, with the task, how it ended and the backoff', () => {
    const ts = [failed('a', T0, 100, 0), failed('b', T0 + 2000, 100, 1), failed('c', T0 + 5000, 100, 2, 'running')];
    const s = crashLoopOf(svc, ts, T0 + 5200).status;
    assert.deepEqual(s, { units: 1, message: 'crash loop: task web-1-c failed (exited with code 1), 3 quick failures in a row, next restart in 4s (backoff doubles up to 60s)' });
  });

  it('stays while the replacement runs briefly, clears once it ran 10 s (with a wake-up then)', () => {
    const ts = [failed('a', T0, 100, 0), failed('b', T0 + 2000, 100, 1), failed('c', T0 + 5000, 100, 2)];
    const d = task(svc, 1, 'running', { name: 'd', createdMs: T0 + 9100, endedMs: T0 + 9500, restarts: 3 });
    const during = crashLoopOf(svc, [...ts, d], T0 + 12_000);
    assert.equal(during.status?.units, 1);
    assert.equal(during.wakeAtMs, T0 + 19_500);
    assert.equal(crashLoopOf(svc, [...ts, d], T0 + 19_500).status, undefined);
  });

  it('a failure after a long run is not a loop', () => {
    const ts = [failed('a', T0, 100, 0), failed('b', T0 + 2000, 100, 1), failed('c', T0 + 5000, 60_000, 2, 'running')];
    assert.equal(crashLoopOf(svc, ts, T0 + 70_000).status, undefined);
  });
});
