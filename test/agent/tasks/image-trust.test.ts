/**
 * The agent's trust gate (unit, fake verifier, in-memory store): without a policy the image is
 * pulled as written; trusted -> the verified digest; refused and enforced -> ForbiddenError
 * (the supervisor rejects the task with it); refused, report only -> the digest and a warning.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForbiddenError, isRetryable } from '../../../src/api/errors.js';
import { TaskImageTrust } from '../../../src/agent/tasks/image-trust.js';
import type { TrustVerdict } from '../../../src/image-trust/index.js';
import { MemoryStore } from '../../helpers/memory-store.js';
import { trustPolicy } from '../../helpers/trust-keys.js';

const PINNED = `r:5000/app@sha256:${'a'.repeat(64)}`;

async function gate(verdict: TrustVerdict | undefined, withPolicy = true): Promise<{ trust: TaskImageTrust; seen: number[] }> {
  const store = new MemoryStore();
  if (withPolicy) {
    await store.create(trustPolicy('p', { enforce: true, rules: [{ images: '**', keys: ['k'] }] }));
  }
  const seen: number[] = [];
  const trust = new TaskImageTrust(store, { verify: (_image, policies) => { seen.push(policies.length); return Promise.resolve(policies.length === 0 ? undefined : verdict); } });
  await trust.start();
  return { trust, seen };
}

void describe('agent trust gate', () => {
  void it('no policy: the image as written', async () => {
    const { trust, seen } = await gate(undefined, false);
    assert.deepEqual(await trust.resolve('r:5000/app:1'), { reference: 'r:5000/app:1' });
    assert.deepEqual(seen, [0]);
    await trust.stop();
  });

  void it('trusted: the verified digest, by digest', async () => {
    const { trust } = await gate({ image: 'r:5000/app:1', digest: PINNED.split('@')[1], pinned: PINNED, trusted: true, enforce: true, reason: 'signed' });
    assert.deepEqual(await trust.resolve('r:5000/app:1'), { reference: PINNED });
    await trust.stop();
  });

  void it('refused and enforced: ForbiddenError with the reason, not retryable', async () => {
    const { trust } = await gate({ image: 'r:5000/app:1', pinned: PINNED, trusted: false, enforce: true, reason: 'image r:5000/app:1 has no signature by a trusted key (TrustPolicy p rules[0]: no signatures found)' });
    await assert.rejects(trust.resolve('r:5000/app:1'), (e: unknown) => e instanceof ForbiddenError && !isRetryable(e) && /has no signature by a trusted key/.test(e.message));
    await trust.stop();
  });

  void it('refused, report only: runs the verified digest and says so', async () => {
    const { trust } = await gate({ image: 'r:5000/app:1', pinned: PINNED, trusted: false, enforce: false, reason: 'image r:5000/app:1 has no signature by a trusted key' });
    assert.deepEqual(await trust.resolve('r:5000/app:1'), { reference: PINNED, warning: 'image r:5000/app:1 has no signature by a trusted key (running it: no TrustPolicy enforces)' });
    await trust.stop();
  });
});
