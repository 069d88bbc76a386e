/** `flotilla get trustpolicies`: enforce, registries and the rule count, never the key PEM. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderList } from '../../src/cli/format/output.js';
import { NOW, obj } from './fake-client.js';

void describe('TrustPolicy table', () => {
  void it('shows ENFORCE, REGISTRIES, RULES (wide: IMAGES) and no key', () => {
    const p = obj('TrustPolicy', 'default', { enforce: true, registries: ['127.0.0.1:5000'], rules: [{ images: '127.0.0.1:5000/*', keys: ['-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'] }] }, undefined, { namespace: '', ageSeconds: 60 });
    const table = renderList('TrustPolicy', [p], 'table', { allNamespaces: false, now: NOW });
    assert.match(table, /^NAME\s+ENFORCE\s+REGISTRIES\s+RULES\s+AGE\n/);
    assert.match(table, /default\s+true\s+127\.0\.0\.1:5000\s+1\s+/);
    assert.doesNotMatch(table, /BEGIN PUBLIC KEY/);
    assert.match(renderList('TrustPolicy', [p], 'wide', { allNamespaces: false, now: NOW }), /IMAGES\n.*127\.0\.0\.1:5000\/\*/);
  });
});
