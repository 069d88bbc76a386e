import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatConstraint, matchConstraint, parseConstraint, type Constraint } from '../../src/api/constraint.js';

void describe('parseConstraint', () => {
  const table: [string, Constraint][] = [
    ['node.labels.ssd == true', { field: { kind: 'label', key: 'ssd' }, op: '==', values: ['true'] }],
    ['node.labels.ssd==true', { field: { kind: 'label', key: 'ssd' }, op: '==', values: ['true'] }],
    ['  node.name != n1 ', { field: { kind: 'name' }, op: '!=', values: ['n1'] }],
    ['node.role == manager', { field: { kind: 'role' }, op: '==', values: ['manager'] }],
    ['node.labels.zone in (w1, w2)', { field: { kind: 'label', key: 'zone' }, op: 'in', values: ['w1', 'w2'] }],
    ['node.labels.zone in(w1,w2)', { field: { kind: 'label', key: 'zone' }, op: 'in', values: ['w1', 'w2'] }],
    ['node.name not in (a)', { field: { kind: 'name' }, op: 'notin', values: ['a'] }],
    ['node.labels.example.com/tier == "front end"', { field: { kind: 'label', key: 'example.com/tier' }, op: '==', values: ['front end'] }],
    ["node.labels.x == ''", { field: { kind: 'label', key: 'x' }, op: '==', values: [''] }],
  ];
  for (const [text, want] of table) void it(text, () => assert.deepEqual(parseConstraint(text), want));

  const bad: [string, RegExp][] = [
    ['', /missing or unknown operator|missing operator/],
    ['node.labels.ssd', /missing operator and value/],
    ['node.labels.ssd = true', /use == \(not =\)/],
    ['node.labels.ssd ==', /missing value/],
    ['node.foo == x', /unknown field "node.foo"/],
    ['labels.ssd == true', /unknown field/],
    ['node.labels. == x', /not a valid label key/],
    ['node.labels.zone in w1, w2', /list in parentheses|missing or unknown operator/],
    ['node.labels.zone in ()', /empty list/],
    ['node.labels.zone ~= x', /operator/],
    ['node.name == a b', /bad value/],
  ];
  for (const [text, re] of bad) {
    void it(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseConstraint(text), (e: unknown) => e instanceof Error && re.test(e.message) && /expected FIELD OP VALUE/.test(e.message));
    });
  }
});

void describe('matchConstraint', () => {
  const node = { name: 'n1', role: 'worker', labels: { ssd: 'true', zone: 'w1' } };
  const table: [string, boolean][] = [
    ['node.labels.ssd == true', true], ['node.labels.ssd == false', false], ['node.labels.ssd != true', false],
    ['node.labels.gpu == yes', false], ['node.labels.gpu != yes', true],
    ['node.labels.zone in (w1, w2)', true], ['node.labels.zone in (e1)', false], ['node.labels.zone not in (w1)', false],
    ['node.labels.gpu in (a)', false], ['node.labels.gpu not in (a)', true],
    ['node.name == n1', true], ['node.name != n1', false], ['node.role == worker', true], ['node.role == manager', false],
    ['node.labels.constructor == x', false],
  ];
  for (const [text, want] of table) void it(`${text} -> ${want}`, () => assert.equal(matchConstraint(parseConstraint(text), node), want));
});

void describe('formatConstraint', () => {
  for (const text of ['node.labels.ssd == true', 'node.name != n1', 'node.labels.zone in (w1, w2)', 'node.role not in (manager)', 'node.labels.t == "a b"']) {
    void it(`round-trips ${text}`, () => {
      assert.equal(formatConstraint(parseConstraint(text)), text);
    });
  }
});
