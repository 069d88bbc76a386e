/** computeSecretRoll: first sight records the hash; a changed source restarts; nothing else does. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from '../../../src/api/kinds.js';
import { computeSecretRoll, SECRETS_HASH_ANNOTATION, sourcesHash, type SourceLookup } from '../../../src/controllers/secrets/compute.js';

function svc(annotations?: Record<string, string>, secrets = ['db-pass'], configs: string[] = []): Service {
  return {
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default', uid: 's', labels: {}, revision: 5, generation: 3, creationTimestamp: '', ...(annotations !== undefined ? { annotations } : {}) },
    spec: { secrets: secrets.map((s) => ({ source: s, target: `/run/secrets/${s}`, mode: 0o400, uid: 0, gid: 0 })), configs: configs.map((c) => ({ source: c, target: `/${c}`, mode: 0o444 })) } as unknown as Service['spec'],
  };
}

const at = (gen: number): SourceLookup => (kind, name) => (name === 'gone' ? undefined : { uid: `${kind}-${name}`, generation: gen });
const NOW = Date.parse('2026-12-04T02:00:00Z');

describe('computeSecretRoll', () => {
  it('records the hash on first sight without a restart', () => {
    const d = computeSecretRoll(svc(), at(1), NOW);
    assert.equal(d?.restart, false);
    assert.equal(d?.service.metadata.annotations?.[SECRETS_HASH_ANNOTATION], sourcesHash(svc(), at(1)));
    assert.equal(d?.service.spec.restartedAt, undefined);
  });
  it('does nothing while the sources are the same', () => {
    assert.equal(computeSecretRoll(svc({ [SECRETS_HASH_ANNOTATION]: sourcesHash(svc(), at(1)) }), at(1), NOW), undefined);
  });
  it('restarts when a source changes (new generation), with a new spec generation', () => {
    const d = computeSecretRoll(svc({ [SECRETS_HASH_ANNOTATION]: sourcesHash(svc(), at(1)) }), at(2), NOW);
    assert.equal(d?.restart, true);
    assert.equal(d?.service.spec.restartedAt, '2026-12-04T02:00:00.000Z');
    assert.equal(d?.service.metadata.generation, 4);
  });
  it('a missing source that appears counts as a change', () => {
    const s = svc(undefined, ['gone']);
    const h = sourcesHash(s, at(1));
    assert.equal(computeSecretRoll(svc({ [SECRETS_HASH_ANNOTATION]: h }, ['gone']), (k, n) => ({ uid: `${k}-${n}`, generation: 1 }), NOW)?.restart, true);
  });
  it('a service without sources is left alone', () => {
    assert.equal(computeSecretRoll(svc(undefined, [], []), at(1), NOW), undefined);
  });
  it('configs count too', () => {
    const s = svc(undefined, [], ['app-conf']);
    assert.equal(computeSecretRoll(svc({ [SECRETS_HASH_ANNOTATION]: sourcesHash(s, at(1)) }, [], ['app-conf']), at(2), NOW)?.restart, true);
  });
});
