/** TrustPolicy validation: enforce, registries host[:port], rules with a glob and P-256 public keys. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { validateObject } from '../../src/api/validate/index.js';
import { openssl, opensslKeyPair } from '../helpers/trust-keys.js';
import { issueAt, issuesOf } from './issues.js';

const dir = mkdtempSync(path.join(tmpdir(), 'trust-validate-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const key = opensslKeyPair(dir, 'k');
openssl(dir, 'ecparam', '-name', 'secp384r1', '-genkey', '-noout', '-out', 'p384.pem');
const p384 = openssl(dir, 'ec', '-in', 'p384.pem', '-pubout').toString();

const trust = (spec: unknown): unknown => ({ kind: 'TrustPolicy', metadata: { name: 'default' }, spec });

void describe('TrustPolicy validation', () => {
  void it('accepts the CONTRACT example (cluster-scoped), registries optional', () => {
    const o = validateObject(trust({ enforce: true, registries: ['127.0.0.1:5000', 'registry.example.com'], rules: [{ images: '127.0.0.1:5000/*', keys: [key.publicPem] }] }));
    assert.equal(o.metadata.namespace, '');
    assert.deepEqual(o.spec, { enforce: true, registries: ['127.0.0.1:5000', 'registry.example.com'], rules: [{ images: '127.0.0.1:5000/*', keys: [key.publicPem] }] });
    assert.deepEqual(validateObject(trust({ enforce: false, rules: [{ images: '**', keys: [key.publicPem] }] })).spec, { enforce: false, rules: [{ images: '**', keys: [key.publicPem] }] });
  });

  void it('a key that is not a P-256 public key is refused at rules[i].keys[j], saying why', () => {
    const issues = issuesOf(trust({ enforce: true, rules: [{ images: '**', keys: [key.publicPem] }, { images: 'a/*', keys: [key.publicPem, p384] }, { images: 'b/*', keys: [key.privatePem] }] }));
    assert.match(issueAt(issues, 'spec.rules[1].keys[1]').expected, /a PEM ECDSA P-256 public key .*found an EC key on curve secp384r1/);
    assert.match(issueAt(issues, 'spec.rules[2].keys[0]').expected, /found a private key/);
    assert.equal(issues.length, 2);
  });

  void it('refuses a missing enforce, bad registries, globs with a tag or digest, empty rules and keys, unknown fields', () => {
    issueAt(issuesOf(trust({ rules: [{ images: '**', keys: [key.publicPem] }] })), 'spec.enforce');
    assert.match(issueAt(issuesOf(trust({ enforce: true, registries: ['https://reg'], rules: [{ images: '**', keys: [key.publicPem] }] })), 'spec.registries[0]').expected, /host\[:port\]/);
    issueAt(issuesOf(trust({ enforce: true, registries: ['reg/path'], rules: [{ images: '**', keys: [key.publicPem] }] })), 'spec.registries[0]');
    assert.match(issueAt(issuesOf(trust({ enforce: true, rules: [{ images: 'reg/app@sha256:abc', keys: [key.publicPem] }] })), 'spec.rules[0].images').expected, /no tag or digest/);
    issueAt(issuesOf(trust({ enforce: true, rules: [{ images: '127.0.0.1:5000/app:1', keys: [key.publicPem] }] })), 'spec.rules[0].images');
    issueAt(issuesOf(trust({ enforce: true, rules: [] })), 'spec.rules');
    issueAt(issuesOf(trust({ enforce: true, rules: [{ images: '**', keys: [] }] })), 'spec.rules[0].keys');
    issueAt(issuesOf(trust({ enforce: true, rules: [{ images: '**', keys: [key.publicPem] }], mode: 'x' })), 'spec.mode');
  });
});
