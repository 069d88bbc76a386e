/**
 * Schema tests of the NetworkPolicy kind: a non-empty selector, peers that are exactly one of
 * service | labels | namespace | cidr (namespace narrowing service or labels), IPv4 CIDRs,
 * ports 1..65535, from only in ingress and to only in egress; every error names its field.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NetworkPolicySpec } from '../../src/api/kinds.js';
import { isIpv4Cidr, validateObject } from '../../src/api/validate/index.js';
import { issueAt, issuesOf } from './issues.js';

const np = (spec: unknown): unknown => ({ kind: 'NetworkPolicy', metadata: { name: 'db-from-api' }, spec });
const specOf = (spec: unknown): NetworkPolicySpec => validateObject(np(spec)).spec as NetworkPolicySpec;

void describe('NetworkPolicy kind', () => {
  void it('accepts the CONTRACT example and keeps egress [] apart from absent', () => {
    const s = specOf({ selector: { services: ['db'] }, ingress: [{ from: [{ service: 'api' }], ports: [8080] }], egress: [] });
    assert.deepEqual(s, { selector: { services: ['db'] }, ingress: [{ from: [{ service: 'api' }], ports: [8080] }], egress: [] });
    const o = specOf({ selector: { labels: { tier: 'db' } } });
    assert.equal(o.ingress, undefined);
    assert.equal(o.egress, undefined);
    assert.equal(validateObject(np({ selector: { services: ['db'] } })).metadata.namespace, 'default');
  });
  void it('accepts each kind of peer, and namespace narrowing service or labels', () => {
    const from = [{ service: 'api' }, { labels: { team: 'a', 'example.com/tier': 'web' } }, { namespace: 'ops' }, { cidr: '10.1.0.0/16' }, { service: 'api', namespace: 'shop' }, { labels: { team: 'b' }, namespace: 'shop' }];
    assert.deepEqual(specOf({ selector: { services: ['db'] }, ingress: [{ from }] }).ingress?.[0]?.from, from);
    assert.deepEqual(specOf({ selector: { services: ['web'] }, egress: [{ to: [{ cidr: '0.0.0.0/0' }], ports: [53, 443] }] }).egress?.[0]?.ports, [53, 443]);
  });
  void it('refuses a missing or empty selector', () => {
    assert.match(issueAt(issuesOf(np({})), 'spec.selector').expected, /a mapping/);
    assert.match(issueAt(issuesOf(np({ selector: {} })), 'spec.selector').expected, /services .* and\/or labels, not empty/);
    assert.match(issueAt(issuesOf(np({ selector: { services: [], labels: {} } })), 'spec.selector').expected, /not empty/);
    assert.match(issueAt(issuesOf(np({ selector: { services: ['Db'] } })), 'spec.selector.services[0]').expected, /DNS label/);
    issueAt(issuesOf(np({ selector: { service: 'db' } })), 'spec.selector.service');
  });
  const bad: [string, unknown, string, RegExp][] = [
    ['two kinds in one peer', { from: [{ service: 'api', labels: { a: 'b' } }] }, 'spec.ingress[0].from[0]', /exactly one of service, labels, namespace or cidr/],
    ['an empty peer', { from: [{}] }, 'spec.ingress[0].from[0]', /exactly one of/],
    ['namespace with cidr', { from: [{ namespace: 'x', cidr: '10.0.0.0/8' }] }, 'spec.ingress[0].from[0]', /exactly one of/],
    ['a bad CIDR', { from: [{ cidr: '10.0.0.256/8' }] }, 'spec.ingress[0].from[0].cidr', /an IPv4 CIDR/],
    ['a CIDR without length', { from: [{ cidr: '10.0.0.0' }] }, 'spec.ingress[0].from[0].cidr', /an IPv4 CIDR/],
    ['an IPv6 CIDR', { from: [{ cidr: 'fd00::/8' }] }, 'spec.ingress[0].from[0].cidr', /an IPv4 CIDR/],
    ['port 0', { ports: [0] }, 'spec.ingress[0].ports[0]', /an integer from 1 to 65535/],
    ['port 65536', { ports: [65536] }, 'spec.ingress[0].ports[0]', /an integer from 1 to 65535/],
    ['a port name', { ports: ['http'] }, 'spec.ingress[0].ports[0]', /an integer from 1 to 65535/],
    ['to in an ingress rule', { to: [{ service: 'x' }] }, 'spec.ingress[0].to', /from \(an ingress rule names its peers with from/],
    ['a bad service name', { from: [{ service: 'API' }] }, 'spec.ingress[0].from[0].service', /DNS label/],
    ['empty labels', { from: [{ labels: {} }] }, 'spec.ingress[0].from[0].labels', /at least one label/],
    ['an unknown field', { from: [{ pod: 'x' }] }, 'spec.ingress[0].from[0].pod', /./],
  ];
  for (const [what, r, path, re] of bad) {
    void it(`refuses ${what} at ${path}`, () => {
      assert.match(issueAt(issuesOf(np({ selector: { services: ['db'] }, ingress: [r] })), path).expected, re);
    });
  }
  void it('refuses from in an egress rule', () => {
    assert.match(issueAt(issuesOf(np({ selector: { services: ['db'] }, egress: [{ from: [{ service: 'x' }] }] })), 'spec.egress[0].from').expected, /to \(an egress rule/);
  });
  void it('isIpv4Cidr', () => {
    for (const s of ['0.0.0.0/0', '10.96.0.0/16', '1.2.3.4/32']) assert.ok(isIpv4Cidr(s), s);
    for (const s of ['1.2.3.4/33', '1.2.3/8', 'a.b.c.d/8', '1.2.3.4/', '01.2.3.4.5/8']) assert.ok(!isIpv4Cidr(s), s);
  });
});
