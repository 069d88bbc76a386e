/** What the TrustPolicies ask of an image (pure): globs, the union of policies, enforce. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseReference } from '../../src/agent/image/reference.js';
import { globRegExp, requirementFor, ruleName } from '../../src/image-trust/index.js';
import { trustPolicy } from '../helpers/trust-keys.js';


void describe('trust policy evaluation', () => {
  void it('globs: * stays in one path segment, ** crosses them, ? is one character', () => {
    const cases: [string, string, boolean][] = [
      ['127.0.0.1:5000/*', '127.0.0.1:5000/web', true],
      ['127.0.0.1:5000/*', '127.0.0.1:5000/demo/web', false],
      ['127.0.0.1:5000/**', '127.0.0.1:5000/demo/web', true],
      ['127.0.0.1:5000/demo/*', '127.0.0.1:5000/demo/web', true],
      ['127.0.0.1:5000/demo/we?', '127.0.0.1:5000/demo/web', true],
      ['127.0.0.1:5000/demo/web', '127.0.0.1:50001/demo/web', false],
      ['reg.example.com/**', 'regXexample.com/a', false],
      ['**', 'docker.io/library/alpine', true],
    ];
    for (const [glob, name, want] of cases) assert.equal(globRegExp(glob).test(name), want, `${glob} vs ${name}`);
  });

  void it('no policy: no requirement at all', () => {
    assert.equal(requirementFor(parseReference('127.0.0.1:5000/a:1'), []), undefined);
  });

  void it('unions registries and rules of every policy; enforce when any policy enforces', () => {
    const a = trustPolicy('a', { enforce: false, registries: ['127.0.0.1:5000'], rules: [{ images: '127.0.0.1:5000/**', keys: ['K1'] }] });
    const b = trustPolicy('b', { enforce: true, registries: ['reg.example.com'], rules: [{ images: 'reg.example.com/*', keys: ['K2'] }, { images: '127.0.0.1:5000/demo/*', keys: ['K3'] }] });
    const c = trustPolicy('c', { enforce: false, rules: [{ images: 'other/*', keys: ['K4'] }] });
    const req = requirementFor(parseReference('127.0.0.1:5000/demo/web:1'), [c, b, a]);
    assert.deepEqual(req?.registries, { allowed: ['127.0.0.1:5000', 'reg.example.com'], by: ['a', 'b'] });
    assert.deepEqual(req?.rules.map(ruleName), ['TrustPolicy a rules[0]', 'TrustPolicy b rules[1]']);
    assert.deepEqual(req?.rules.flatMap((r) => r.keys), ['K1', 'K3']);
    assert.equal(req?.enforce, true);
    assert.equal(requirementFor(parseReference('127.0.0.1:5000/x:1'), [a, c])?.enforce, false);
    assert.equal(requirementFor(parseReference('127.0.0.1:5000/x:1'), [c])?.registries, undefined, 'no list anywhere: any registry');
    assert.deepEqual(requirementFor(parseReference('alpine'), [a])?.rules, [], 'docker.io/library/alpine matches no rule');
  });
});
