/**
 * The RuntimeReady filter: a node whose RuntimeReady condition is false gets no task, and the
 * unplaced reason says why; true, or no condition at all (an older agent), passes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeCondition, NodeObject } from '../../src/api/kinds.js';
import { runtimeNotReadyReason } from '../../src/api/node-conditions.js';
import { compileNode, compileSpec, emptyUsage } from '../../src/scheduler/compile.js';
import { runtimeReady } from '../../src/scheduler/filters.js';
import { schedule } from '../../src/scheduler/index.js';
import { node, replicas, spec, T0 } from './fixtures.js';

function withCondition(n: NodeObject, c: NodeCondition): NodeObject {
  return { ...n, status: { ...(n.status as NonNullable<NodeObject['status']>), conditions: [c] } };
}

const broken = (name: string): NodeObject => withCondition(node(name), { type: 'RuntimeReady', status: false, reason: 'NoCgroupHierarchy', message: 'no cgroup hierarchy under /x' });
const working = (name: string): NodeObject => withCondition(node(name), { type: 'RuntimeReady', status: true, reason: 'RuntimeWorks' });

describe('filter RuntimeReady', { timeout: 30_000 }, () => {
  const reject = (n: NodeObject): string | undefined => runtimeReady.reject(compileNode(n, emptyUsage()), compileSpec('default/web', spec()), { nowMs: T0, heartbeatTimeoutMs: undefined });
  it('passes a node whose runtime works', () => assert.equal(reject(working('n1')), undefined));
  it('passes a node without the condition (older agents)', () => assert.equal(reject(node('n1')), undefined));
  it('rejects a node whose runtime cannot run containers, with the reason', () => assert.equal(reject(broken('n1')), 'runtime not ready (NoCgroupHierarchy)'));
  it('reads the reason word, with a default', () => {
    assert.equal(runtimeNotReadyReason(broken('n1')), 'NoCgroupHierarchy');
    assert.equal(runtimeNotReadyReason(withCondition(node('n1'), { type: 'RuntimeReady', status: false })), 'NotReady');
    assert.equal(runtimeNotReadyReason(working('n1')), undefined);
  });
});

describe('scheduling with a node that cannot run containers', { timeout: 30_000 }, () => {
  it('places every replica on the working node', () => {
    const r = schedule({ nodes: [broken('bad'), working('good')], tasks: [] }, replicas('web', 4));
    assert.deepEqual(r.unplaced, []);
    assert.deepEqual([...new Set(r.placements.map((p) => p.node))], ['good']);
  });
  it('explains an unplaced task', () => {
    const r = schedule({ nodes: [broken('b1'), broken('b2')], tasks: [] }, replicas('web', 1));
    assert.deepEqual(r.placements, []);
    assert.equal(r.unplaced[0]?.reason, '0/2 nodes: 2 runtime not ready (NoCgroupHierarchy)');
  });
});
