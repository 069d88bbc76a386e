/**
 * The agent's trust gate (unit, fake verifier, in-memory store): without a policy the image is
 * pulled as written; trusted -> the verified digest; refused and enforced -> ForbiddenError
 * (the supervisor rejects the task with it); refused, report only -> the digest and a warning.
 * And PullerTaskImages over it (fake puller): it pulls what the gate says, asks the gate on
 * every start (a tag may move), and reports a report-only refusal for the task's Event.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ForbiddenError, isRetryable } from '../../../src/api/errors.js';
import type { ImagePuller, PulledImage } from '../../../src/agent/image/index.js';
import { TaskImageTrust, type TrustedReference } from '../../../src/agent/tasks/image-trust.js';
import { PullerTaskImages } from '../../../src/agent/tasks/images.js';
import { containerIdOf, taskOfContainerId } from '../../../src/agent/tasks/spec.js';
import type { Task } from '../../../src/api/kinds.js';
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

void describe('PullerTaskImages with the trust gate', () => {
  /** A puller that records what it was asked to pull and builds no rootfs. */
  function fakePuller(pulled: string[]): ImagePuller {
    const image = { reference: '', digest: '', manifestDigest: '', config: { Cmd: ['sh'] }, imageConfig: {}, layers: [], cached: false } as PulledImage;
    return {
      pull: (ref: string) => { pulled.push(ref); return Promise.resolve({ ...image, reference: ref }); },
      prepareRootfs: (_img: unknown, dir: string) => Promise.resolve({ rootfs: path.join(dir, 'rootfs'), method: 'overlay', cleanup: () => Promise.resolve() }),
    } as unknown as ImagePuller;
  }

  void it('pulls the digest the gate verified, asks it on every start, and reports report-only refusals', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'trust-images-'));
    try {
      const pulled: string[] = [];
      const answers: TrustedReference[] = [{ reference: PINNED }, { reference: `r:5000/app@sha256:${'b'.repeat(64)}`, warning: 'would refuse' }];
      const reported: [string, string][] = [];
      const images = new PullerTaskImages(fakePuller(pulled), dir, () => undefined, { resolve: () => Promise.resolve(answers.shift() as TrustedReference) }, (id, w) => reported.push([id, w]));
      const progress: string[] = [];
      await images.prepareRootfs('default_app-1', 'r:5000/app:1', (m) => progress.push(m));
      await images.prepareRootfs('default_app-2', 'r:5000/app:1', (m) => progress.push(m));
      assert.deepEqual(pulled, [PINNED, `r:5000/app@sha256:${'b'.repeat(64)}`], 'the tag was resolved again for the second task');
      assert.deepEqual(reported, [['default_app-2', 'would refuse']]);
      assert.deepEqual(progress, ['would refuse']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  void it('a container id names its task back', () => {
    const t = { metadata: { namespace: 'prod', name: 'web-1-a_b' } } as Task;
    assert.deepEqual(taskOfContainerId(containerIdOf(t)), { namespace: 'prod', name: 'web-1-a_b' });
  });
});
