/**
 * Content trust end to end (real server, agent in a network namespace, registries, runc): with
 * an enforcing TrustPolicy an unsigned image is refused by the API with the reason, a signed one
 * runs, and after its tag is re-pointed to an unsigned image the agent refuses the new task
 * (rejected, the reason in status.message) and never pulls the unsigned digest, while the task
 * it verified before keeps running. With enforce: false an unsigned image is admitted and runs,
 * and Warning Events on the Service and on the task say it would have been refused.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { signImage } from '../../src/cli/commands/image.js';
import { Cluster, eventually, type TaskJson } from '../helpers/cluster.js';
import { opensslKeyPair, type KeyPairFiles } from '../helpers/trust-keys.js';

const T = { timeout: 400_000 };

describe('content trust on a cluster', T, () => {
  let cluster: Cluster | undefined;
  let key: KeyPairFiles;

  before(async () => {
    cluster = await Cluster.start({ nodes: 1, serverRegistry: true });
    key = opensslKeyPair(cluster.dir, 'trust');
  });
  after(async () => {
    await cluster?.stop();
  });

  it('refuses unsigned images at the API, runs signed ones, and the agent refuses a re-pointed tag', T, async () => {
    const c = cluster as Cluster;
    const signed = await c.buildImage('trust/app', '1');
    const unsigned = await c.buildImage('trust/raw', '1', { env: { RAW: '1' } });
    await signImage(signed.ref, key.privateFile);
    const policyYaml = (enforce: boolean): string => `kind: TrustPolicy
metadata: {name: default}
spec:
  enforce: ${enforce}
  registries: ["${c.registryHost}"]
  rules:
    - images: "${c.registryHost}/trust/*"
      keys: [${JSON.stringify(key.publicPem)}]
`;
    await c.apply(policyYaml(true));
    const service = (name: string, image: string): string => `kind: Service
metadata: {name: ${name}}
spec:
  image: ${image}
  command: ["sleep", "3600"]
  stopGracePeriodSeconds: 1
`;
    await assert.rejects(c.apply(service('raw', unsigned.ref)), new RegExp(`image ${unsigned.ref} has no signature by a trusted key \\(TrustPolicy default rules\\[0\\]: no signatures found\\)`));
    assert.deepEqual(await c.list('services'), [], 'nothing written');

    await c.apply(service('app', signed.ref));
    const [first] = await c.runningTasks('app', 1, 120_000);

    // Re-point the tag to an image nobody signed; a new task of the same (admitted) service must not run it.
    const evil = await c.buildImage('trust/app', '1', { env: { EVIL: '1' } });
    assert.notEqual(evil.digest, signed.digest);
    const scaled = await c.cli(['scale', 'service', 'app', '--replicas', '2']);
    assert.equal(scaled.code, 0, scaled.stderr);
    const rejected = await eventually('the new task rejected by the agent', 120_000, async () => {
      const ts = await c.tasks('app');
      return ts.find((t: TaskJson) => t.status?.state === 'rejected');
    });
    assert.match(rejected.status?.message ?? '', new RegExp(`image ${signed.ref} has no signature by a trusted key \\(TrustPolicy default rules\\[0\\]: no signatures found\\)`));
    const hex = (d: string): string => d.replace('sha256:', '');
    const images = path.join(c.node(1).dataDir, 'images', 'images');
    assert.ok(existsSync(path.join(images, `${hex(signed.digest)}.json`)), 'the verified digest was pulled');
    assert.ok(!existsSync(path.join(images, `${hex(evil.digest)}.json`)), 'the unsigned digest was never pulled');
    const stillRunning = (await c.tasks('app')).find((t) => t.metadata.name === first?.metadata.name);
    assert.equal(stillRunning?.status?.state, 'running', 'the verified task keeps running');

    // Signing the new digest lets the next attempt run it.
    await signImage(evil.ref, key.privateFile);
    await c.runningTasks('app', 2, 180_000);

    // enforce: false: admitted and run, with Warning Events on the Service and on the task.
    await c.apply(policyYaml(false));
    await c.apply(service('raw', unsigned.ref));
    const [task] = await c.runningTasks('raw', 1, 120_000);
    const events = await eventually('UntrustedImage events on the service and the task', 60_000, async () => {
      const es = (await c.list<{ spec: { involved: string; reason: string; message: string } }>('events', ['-A'])).filter((e) => e.spec.reason === 'UntrustedImage');
      const onTask = es.find((e) => e.spec.involved === `Task/default/${task?.metadata.name ?? ''}`);
      const onService = es.find((e) => e.spec.involved === 'Service/default/raw');
      return onTask !== undefined && onService !== undefined ? { onTask, onService } : undefined;
    });
    assert.match(events.onService.spec.message, /has no signature by a trusted key .*it would have been refused/);
    assert.match(events.onTask.spec.message, /has no signature by a trusted key .*\(running it: no TrustPolicy enforces\)/);
  });
});
