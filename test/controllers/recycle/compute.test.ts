/**
 * Table tests of the reverse-uptime decision (src/controllers/recycle/compute.ts): when a node is
 * due (cluster age, label override, label off, `node recycle`), the one-at-a-time and readiness
 * rules, the provisioner step (ok, failed, lost across a restart), cordon, drain, and the one
 * transaction that writes the Revocation and deletes the Node and its Lease.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_NODE_AGE_LABEL, RECYCLE_REQUEST_ANNOTATION, type Lease, type NodeObject, type NodeRecycle, type Revocation, type Task } from '../../../src/api/kinds.js';
import { parseNodeAgeMs } from '../../../src/api/node-age.js';
import { nodeLabelIssues } from '../../../src/api/validate/node.js';
import type { Action } from '../../../src/controllers/framework/apply.js';
import { computeRecycle, type RecycleInput } from '../../../src/controllers/recycle/compute.js';
import { node, service, T0, task } from '../fixtures.js';

const H = 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString();

function input(over: Partial<RecycleInput> = {}): RecycleInput {
  return {
    node: node('n1'), tasks: [], nowMs: T0 + 25 * H, clusterMaxAgeMs: 24 * H, otherRecycling: undefined, shortServices: [],
    provisioner: true, otherSchedulable: 2, hook: undefined, provisionerTimeoutMs: 60_000, drainTimeoutMs: 600_000, revocation: undefined, lease: undefined, ...over,
  };
}

const withRecycle = (n: NodeObject, recycle: NodeRecycle): NodeObject => ({ ...n, status: { ...n.status!, recycle } });
const nodeOf = (a: Action | undefined): NodeObject => {
  assert.ok(a !== undefined && a.type === 'update' && a.object.kind === 'Node', 'a Node update');
  return a.object as NodeObject;
};

void describe('recycle compute: when a node is due', () => {
  void it('leaves a young node alone and looks again when it is due', () => {
    const p = computeRecycle(input({ nowMs: T0 + 10 * H }));
    assert.deepEqual(p.actions, []);
    assert.equal(p.requeueAfterMs, H); // capped at one hour
    assert.equal(computeRecycle(input({ nowMs: T0 + 24 * H - 5_000 })).requeueAfterMs, 5_000);
  });

  void it('starts a node past the cluster age: provisioning, RecycleStarted, run the hook', () => {
    const p = computeRecycle(input());
    const n = nodeOf(p.actions[0]);
    assert.equal(n.status?.recycle?.phase, 'provisioning');
    assert.equal(n.status?.recycle?.reason, 'recycled: older than 24h');
    assert.equal(n.spec.availability, 'active'); // cordoned only once the hook ended
    assert.equal(p.startHook, true);
    assert.deepEqual(p.events.map((e) => e.reason), ['RecycleStarted']);
  });

  void it('a label overrides the cluster age; 0/off exempts; no cluster age: labels only', () => {
    const labelled = (v: string): NodeObject => ({ ...node('n1'), metadata: { ...node('n1').metadata, labels: { [MAX_NODE_AGE_LABEL]: v } } });
    assert.equal(nodeOf(computeRecycle(input({ node: labelled('30s'), nowMs: T0 + 31_000 })).actions[0]).status?.recycle?.reason, 'recycled: older than 30s');
    assert.deepEqual(computeRecycle(input({ node: labelled('off'), nowMs: T0 + 1000 * H })).actions, []);
    assert.deepEqual(computeRecycle(input({ node: labelled('0'), nowMs: T0 + 1000 * H })).actions, []);
    assert.deepEqual(computeRecycle(input({ clusterMaxAgeMs: undefined, nowMs: T0 + 1000 * H })).actions, []);
    assert.equal(computeRecycle(input({ node: labelled('48h'), nowMs: T0 + 25 * H })).actions.length, 0);
  });

  void it('`node recycle` (the request annotation) makes any node due, age or not', () => {
    const n = node('n1');
    const asked = { ...n, metadata: { ...n.metadata, annotations: { [RECYCLE_REQUEST_ANNOTATION]: iso(T0) } } };
    const p = computeRecycle(input({ node: asked, nowMs: T0 + 1000, clusterMaxAgeMs: undefined }));
    assert.equal(nodeOf(p.actions[0]).status?.recycle?.reason, 'recycled: requested');
  });

  void it('waits while another node recycles, or while a service on it is short of ready tasks', () => {
    const p = computeRecycle(input({ otherRecycling: 'n2' }));
    const r = nodeOf(p.actions[0]).status?.recycle;
    assert.equal(r?.phase, 'waiting');
    assert.match(r?.message ?? '', /node n2 is recycling/);
    assert.equal(p.startHook, undefined);
    // Same wait again: no rewrite.
    assert.deepEqual(computeRecycle(input({ node: withRecycle(node('n1'), r!), otherRecycling: 'n2' })).actions, []);
    const short = computeRecycle(input({ shortServices: ['default/web (2/3 ready)'] }));
    assert.match(nodeOf(short.actions[0]).status?.recycle?.message ?? '', /default\/web \(2\/3 ready\)/);
    // Its turn: starts.
    assert.equal(nodeOf(computeRecycle(input({ node: withRecycle(node('n1'), r!) })).actions[0]).status?.recycle?.phase, 'provisioning');
  });

  void it('without a provisioner, the last schedulable node waits (its tasks would have nowhere to go)', () => {
    const p = computeRecycle(input({ provisioner: false, otherSchedulable: 0 }));
    assert.match(nodeOf(p.actions[0]).status?.recycle?.message ?? '', /no other ready, active node/);
    // With a provisioner, the hook is what brings the capacity: it starts.
    assert.equal(nodeOf(computeRecycle(input({ otherSchedulable: 0 })).actions[0]).status?.recycle?.phase, 'provisioning');
  });

  void it('without a provisioner: cordons at once', () => {
    const p = computeRecycle(input({ provisioner: false }));
    const n = nodeOf(p.actions[0]);
    assert.equal(n.status?.recycle?.phase, 'cordoned');
    assert.equal(n.spec.availability, 'pause');
    assert.deepEqual(p.events.map((e) => e.reason), ['RecycleStarted', 'Cordoned']);
  });
});

void describe('recycle compute: the steps', () => {
  const started = (phase: NodeRecycle['phase'], sinceMs: number): NodeObject =>
    withRecycle(node('n1'), { phase, since: iso(sinceMs), startedAt: iso(sinceMs), reason: 'recycled: older than 24h' });
  const now = T0 + 25 * H;

  void it('provisioning: hook running -> wait; ok -> ProvisionerCalled + cordon; failed -> Warning + cordon', () => {
    assert.deepEqual(computeRecycle(input({ node: started('provisioning', now), hook: { done: false } })).actions, []);
    const stuck = computeRecycle(input({ node: started('provisioning', now - 66_000), hook: { done: false } }));
    assert.match(stuck.events[0]?.message ?? '', /no provisioner result after 1m \(it did not end\)/);
    const ok = computeRecycle(input({ node: started('provisioning', now - 1000), hook: { done: true, ok: true, message: 'exited 0' } }));
    assert.equal(nodeOf(ok.actions[0]).spec.availability, 'pause');
    assert.deepEqual(ok.events.map((e) => `${e.type} ${e.reason}`), ['Normal ProvisionerCalled', 'Normal Cordoned']);
    const bad = computeRecycle(input({ node: started('provisioning', now - 1000), hook: { done: true, ok: false, message: 'exited 3' } }));
    assert.equal(nodeOf(bad.actions[0]).status?.recycle?.phase, 'cordoned');
    assert.deepEqual(bad.events.map((e) => `${e.type} ${e.reason}`), ['Warning ProvisionerFailed', 'Normal Cordoned']);
  });

  void it('provisioning after a restart (no hook known here): never run twice; goes on after the bound', () => {
    const before = computeRecycle(input({ node: started('provisioning', now - 10_000) }));
    assert.deepEqual(before.actions, []);
    assert.equal(before.startHook, undefined);
    assert.equal(before.requeueAfterMs, 50_000);
    const afterBound = computeRecycle(input({ node: started('provisioning', now - 60_000) }));
    assert.equal(nodeOf(afterBound.actions[0]).status?.recycle?.phase, 'cordoned');
    assert.equal(afterBound.events[0]?.reason, 'ProvisionerFailed');
  });

  void it('cordoned -> draining (availability drain)', () => {
    const n = nodeOf(computeRecycle(input({ node: started('cordoned', now) })).actions[0]);
    assert.equal(n.spec.availability, 'drain');
    assert.equal(n.status?.recycle?.phase, 'draining');
  });

  const svc = service('web', { replicas: 2 });
  const live: Task = task(svc, 1, 'running', { node: 'n1', ready: true });
  const ended: Task = task(svc, 2, 'shutdown', { node: 'n1', desired: 'shutdown' });

  void it('draining with live tasks: waits (and re-drains an uncordoned node)', () => {
    const draining = { ...started('draining', now - 1000), spec: { ...node('n1').spec, availability: 'drain' as const } };
    const p = computeRecycle(input({ node: draining, tasks: [live, ended] }));
    assert.match(nodeOf(p.actions[0]).status?.recycle?.message ?? '', /1 task\(s\) still on it/);
    const uncordoned = started('draining', now - 1000);
    assert.equal(nodeOf(computeRecycle(input({ node: uncordoned, tasks: [live] })).actions[0]).spec.availability, 'drain');
  });

  void it('drained: Revocation created, Node and Lease deleted, in one batch; events Drained, NodeRemoved', () => {
    const lease = { kind: 'Lease', metadata: { name: 'n1', namespace: '', uid: 'l', labels: {}, revision: 7, generation: 1, creationTimestamp: iso(T0) }, spec: { holder: 'n1', renewTime: iso(T0) } } as Lease;
    const p = computeRecycle(input({ node: started('draining', now - 1000), tasks: [ended], lease }));
    assert.deepEqual(p.actions.map((a) => `${a.type} ${a.type === 'delete' ? `${a.key.kind}/${a.key.name}` : `${a.object.kind}/${a.object.metadata.name}`}`), ['create Revocation/node.n1', 'delete Node/n1', 'delete Lease/n1']);
    const rev = (p.actions[0] as { object: Revocation }).object;
    assert.deepEqual(rev.spec, { subject: 'node:n1', issuedBefore: iso(now), reason: 'recycled: older than 24h' });
    assert.deepEqual(p.events.map((e) => `${e.type} ${e.reason}`), ['Normal Drained', 'Normal NodeRemoved']);
  });

  void it('drain deadline: removed anyway (Warning); an existing Revocation is updated', () => {
    const old = { kind: 'Revocation', metadata: { name: 'node.n1', namespace: '', uid: 'r', labels: {}, revision: 3, generation: 1, creationTimestamp: iso(T0) }, spec: { subject: 'node:n1', issuedBefore: iso(T0), reason: 'x' } } as Revocation;
    const p = computeRecycle(input({ node: started('draining', now - 600_000), tasks: [live], revocation: old }));
    assert.equal(p.actions[0]?.type, 'update');
    assert.equal(p.events[0]?.type, 'Warning');
    assert.match(p.events[0]?.message ?? '', /drain deadline/);
  });
});

void describe('node ages', () => {
  void it('parses durations; refuses the rest with the field and what is expected', () => {
    assert.equal(parseNodeAgeMs('24h'), 24 * H);
    assert.equal(parseNodeAgeMs('90m'), 90 * 60_000);
    assert.equal(parseNodeAgeMs('7d'), 7 * 24 * H);
    assert.equal(parseNodeAgeMs('off'), 0);
    assert.equal(parseNodeAgeMs('soon'), undefined);
    assert.equal(parseNodeAgeMs('24'), undefined);
    const issues = nodeLabelIssues({ [MAX_NODE_AGE_LABEL]: 'soon' }, {});
    assert.equal(issues.length, 1);
    assert.match(JSON.stringify(issues[0]), /max-node-age/);
    assert.deepEqual(nodeLabelIssues({ [MAX_NODE_AGE_LABEL]: '30s' }, {}), []);
  });
});
