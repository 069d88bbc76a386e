/**
 * WriteLimit (src/agent/hollow/write-limit.ts): never more than `limit` calls in flight, FIFO
 * order for the waiting ones, a slot freed by failures too, and the limited status writer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApiObject } from '../../../src/api/object.js';
import { limitedStatusWriter, WriteLimit } from '../../../src/agent/hollow/write-limit.js';

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

void describe('WriteLimit', () => {
  void it('keeps at most `limit` calls in flight and runs the rest in arrival order', async () => {
    const limit = new WriteLimit(3);
    let inFlight = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(Array.from({ length: 20 }, (_, i) => limit.run(async () => {
      order.push(i);
      peak = Math.max(peak, ++inFlight);
      await delay(2 + (i % 3));
      inFlight--;
    })));
    assert.equal(peak, 3);
    assert.deepEqual(order, Array.from({ length: 20 }, (_, i) => i));
    assert.equal(limit.inFlight, 0);
    assert.equal(limit.queued, 0);
  });

  void it('a failing call frees its slot and its error reaches the caller', async () => {
    const limit = new WriteLimit(1);
    const failed = limit.run(() => Promise.reject(new Error('boom')));
    const next = limit.run(() => Promise.resolve('ok'));
    await assert.rejects(failed, /boom/);
    assert.equal(await next, 'ok');
    assert.equal(limit.inFlight, 0);
  });

  void it('rejects a limit below 1', () => {
    assert.throws(() => new WriteLimit(0), RangeError);
  });

  void it('the limited status writer passes writes and reads through one limit', async () => {
    const limit = new WriteLimit(2);
    let inFlight = 0;
    let peak = 0;
    const slow = async <T>(v: T): Promise<T> => {
      peak = Math.max(peak, ++inFlight);
      await delay(3);
      inFlight--;
      return v;
    };
    const w = limitedStatusWriter({ updateStatus: (o) => slow(o), get: () => slow(undefined) }, limit);
    const obj = { kind: 'Task', metadata: { name: 't' } } as unknown as ApiObject;
    await Promise.all([...Array.from({ length: 5 }, () => w.updateStatus(obj)), ...Array.from({ length: 5 }, () => w.get({ kind: 'Task', namespace: 'default', name: 't' }))]);
    assert.equal(peak, 2);
  });
});
