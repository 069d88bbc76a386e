/**
 * The WorkQueue's guarantees (dedup, one key at a time, re-add when dirtied, backoff with a
 * cap, shutdown waits) and the Controller runner on top of it, with a manual clock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConflictError } from '../../src/api/errors.js';
import { ManualClock } from '../../src/controllers/framework/clock.js';
import { Controller } from '../../src/controllers/framework/controller.js';
import { WorkQueue } from '../../src/controllers/framework/queue.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

async function until(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await tick();
  }
}

void describe('WorkQueue', () => {
  void it('drops duplicates of a waiting key', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    assert.equal(q.length, 2);
    assert.equal(await q.get(), 'a');
    assert.equal(await q.get(), 'b');
    q.shutDown();
  });

  void it('never hands out a key being processed; re-adds it after done when dirtied meanwhile', async () => {
    const q = new WorkQueue();
    q.add('a');
    const k = await q.get();
    q.add('a'); // dirtied while processing
    assert.equal(q.length, 0, 'not handed out twice at once');
    q.done(k as string);
    assert.equal(q.length, 1);
    assert.equal(await q.get(), 'a');
    q.done('a');
    assert.equal(q.length, 0);
    q.shutDown();
  });

  void it('backs off per key, doubling up to the cap, and forget() resets', () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock, baseDelayMs: 10, maxDelayMs: 50 });
    assert.deepEqual([1, 2, 3, 4, 5].map(() => q.addRateLimited('a')), [10, 20, 40, 50, 50]);
    assert.equal(q.addRateLimited('b'), 10, 'per key');
    assert.equal(q.length, 0);
    clock.advance(9);
    assert.equal(q.length, 0);
    clock.advance(1);
    assert.equal(q.length, 2, 'earliest delayed add wins');
    q.forget('a');
    assert.equal(q.addRateLimited('a'), 10);
    q.shutDown();
    assert.equal(clock.pending(), 0, 'shutdown cancels delayed adds');
  });

  void it('shutDownAndWait waits for in-flight keys and wakes idle getters with undefined', async () => {
    const q = new WorkQueue();
    const idle = q.get();
    q.add('a');
    assert.equal(await idle, 'a');
    const idle2 = q.get();
    let stopped = false;
    const stopping = q.shutDownAndWait().then(() => { stopped = true; });
    assert.equal(await idle2, undefined);
    await tick();
    assert.equal(stopped, false, 'a is still in flight');
    q.done('a');
    await stopping;
    assert.equal(await q.get(), undefined);
  });
});

void describe('Controller runner', () => {
  void it('runs a key once at a time with several workers, retries failures with backoff, honours requeueAfterMs', async () => {
    const clock = new ManualClock();
    const calls: string[] = [];
    let running = 0;
    let maxRunning = 0;
    let failA = 2;
    const c = new Controller({
      name: 't',
      workers: 3,
      clock,
      baseDelayMs: 100,
      sync: async (key) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        calls.push(key);
        await tick();
        running--;
        if (key === 'a' && failA-- > 0) throw new ConflictError('moved');
        if (key === 'b') return { requeueAfterMs: 1_000 };
      },
    });
    c.enqueue('a');
    c.enqueue('a');
    c.enqueue('b');
    c.start();
    await until(() => calls.length === 2 && running === 0, 'first round');
    assert.deepEqual([...calls].sort(), ['a', 'b']);
    assert.equal(maxRunning, 2);
    clock.advance(100); // first retry of a
    await until(() => calls.length === 3 && running === 0, 'retry 1');
    clock.advance(199);
    await tick();
    assert.equal(calls.length, 3, 'second retry waits 200 ms');
    clock.advance(1);
    await until(() => calls.length === 4 && running === 0, 'retry 2');
    clock.advance(700); // t = 1000: b's requeue
    await until(() => calls.filter((k) => k === 'b').length === 2, 'requeue after');
    await c.stop();
    await c.stop();
    c.enqueue('a');
    await tick();
    assert.equal(calls.filter((k) => k === 'a').length, 3, 'no work after stop');
  });

  void it('stop() waits for the sync in flight', async () => {
    let release!: () => void;
    let finished = false;
    const c = new Controller({ name: 't', sync: async () => { await new Promise<void>((r) => { release = r; }); finished = true; } });
    c.start();
    c.enqueue('k');
    await until(() => release !== undefined, 'sync started');
    const stopping = c.stop();
    await tick();
    assert.equal(finished, false);
    release();
    await stopping;
    assert.equal(finished, true);
  });
});
