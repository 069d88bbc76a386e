/**
 * `describe networkpolicy` rendering: the selected tasks (name, node, ip) and each rule's ports
 * and peers with the addresses they stand for now.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeObject } from '../../src/cli/format/describe.js';
import { policy, ptask } from '../agent/netpol/fixtures.js';

void describe('describe networkpolicy', () => {
  void it('lists selected tasks, rules, peers and their addresses', () => {
    const p = policy('db-from-api', { selector: { services: ['db'] }, ingress: [{ from: [{ service: 'api' }, { cidr: '10.1.0.0/16' }, { service: 'gone' }], ports: [8080] }, {}] });
    const tasks = [ptask('db', '10.88.2.5', { name: 'db-a1', node: 'node2' }), ptask('api', '10.88.1.4'), ptask('api', '10.88.3.4')];
    const text = describeObject(p, { events: [], policyTasks: tasks }, new Date());
    assert.match(text, /Selected tasks \(1\):\n  NAME +NODE +IP\n  db-a1 +node2 +10\.88\.2\.5\n/);
    assert.match(text, /Ingress:\n {2}rule 1: ports 8080\n {4}from service api: 10\.88\.1\.4, 10\.88\.3\.4\n {4}from cidr 10\.1\.0\.0\/16\n {4}from service gone: <no task now>\n {2}rule 2: every port\n {4}from anywhere\n/);
    assert.match(text, /Egress:\n {2}unrestricted by this policy \(no list\)\n/);
    const deny = describeObject(policy('deny', { selector: { labels: { a: 'b' } }, ingress: [], egress: [] }), { events: [], policyTasks: [] }, new Date());
    assert.match(deny, /Selected tasks \(0\):\n {2}<none>\n/);
    assert.match(deny, /Egress:\n {2}nothing allowed \(but DNS to the node\)\n/);
  });
});
