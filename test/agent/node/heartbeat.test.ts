/**
 * The agent's heartbeats (src/agent/node/registration.ts) against a hand-written fake API that
 * records calls: Lease renewals on most beats and a full Node status write every
 * nodeStatusEveryMs; the Lease created when missing; plain status beats when the server has no
 * Lease kind or the API offers no spec writes; a deleted Node registered again.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotFoundError } from '../../../src/api/errors.js';
import type { Lease, NodeObject } from '../../../src/api/kinds.js';
import type { ApiObject } from '../../../src/api/object.js';
import { registerNode, startHeartbeats, type NodeApi } from '../../../src/agent/node/registration.js';

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Records every call; `leaseKind: false` answers like a server without the Lease kind. */
class FakeNodeApi implements NodeApi {
  readonly calls: string[] = [];
  readonly objects = new Map<string, ApiObject>();
  constructor(private readonly leaseKind = true) {}
  private k(kind: string, name: string): string { return `${kind}/${name}`; }
  get(key: { kind: 'Node'; namespace: string; name: string }): Promise<ApiObject | undefined> {
    this.calls.push(`get ${key.kind}`);
    return Promise.resolve(this.objects.get(this.k(key.kind, key.name)));
  }
  create(obj: ApiObject): Promise<ApiObject> {
    this.calls.push(`create ${obj.kind}`);
    if (obj.kind === 'Lease' && !this.leaseKind) return Promise.reject(new NotFoundError('no route for /api/v1/leases: unknown kind'));
    const o = { ...obj, metadata: { ...obj.metadata, revision: 1 } };
    this.objects.set(this.k(obj.kind, obj.metadata.name), o);
    return Promise.resolve(o);
  }
  updateStatus(obj: ApiObject): Promise<ApiObject> {
    this.calls.push(`status ${obj.kind}`);
    const key = this.k(obj.kind, obj.metadata.name);
    if (!this.objects.has(key)) return Promise.reject(new NotFoundError(`${key} not found`));
    this.objects.set(key, obj);
    return Promise.resolve(obj);
  }
  updateSpec(obj: ApiObject): Promise<ApiObject> {
    this.calls.push(`spec ${obj.kind}`);
    const key = this.k(obj.kind, obj.metadata.name);
    if (!this.objects.has(key)) return Promise.reject(new NotFoundError(obj.kind === 'Lease' && !this.leaseKind ? 'unknown kind' : `${key} not found`));
    this.objects.set(key, obj);
    return Promise.resolve(obj);
  }
}

const id = { name: 'n1', labels: {} };

async function beatFor(api: NodeApi, ms: number, statusEveryMs = 150): Promise<void> {
  const first = await registerNode(api, id, 'test');
  const beats = startHeartbeats(api, first, id, 'test', 20, () => undefined, { nodeStatusEveryMs: statusEveryMs });
  await delay(ms);
  await beats.stop();
}

void describe('heartbeats', () => {
  void it('renew the Lease (created on the first beat) and write the Node status every nodeStatusEveryMs', { timeout: 5_000 }, async () => {
    const api = new FakeNodeApi();
    await beatFor(api, 500);
    const beats = api.calls.slice(api.calls.indexOf('status Node') + 1);
    const leases = beats.filter((c) => c === 'spec Lease').length;
    const statuses = beats.filter((c) => c === 'status Node').length;
    assert.equal(beats.filter((c) => c === 'create Lease').length, 1, 'created once');
    assert.ok(leases >= 8, `${leases} lease renewals`);
    assert.ok(statuses >= 1 && statuses <= 4, `${statuses} status writes in 500 ms at one per 150 ms`);
    const lease = api.objects.get('Lease/n1') as Lease;
    assert.equal(lease.spec.holder, 'n1');
    assert.ok(Date.now() - Date.parse(lease.spec.renewTime) < 200);
  });

  void it('a server without the Lease kind: every beat is a Node status write', { timeout: 5_000 }, async () => {
    const api = new FakeNodeApi(false);
    await beatFor(api, 300);
    const after = api.calls.slice(api.calls.lastIndexOf('create Lease') + 1);
    assert.ok(after.length >= 5 && after.every((c) => c === 'status Node'), after.join(', '));
  });

  void it('an API without spec writes: every beat is a Node status write (as before leases)', { timeout: 5_000 }, async () => {
    const full = new FakeNodeApi();
    const api: NodeApi = { get: (k) => full.get(k), create: (o) => full.create(o), updateStatus: (o) => full.updateStatus(o) };
    await beatFor(api, 300);
    assert.ok(full.calls.filter((c) => c === 'status Node').length >= 6);
    assert.equal(full.calls.filter((c) => c.endsWith('Lease')).length, 0);
  });

  void it('a deleted Node is registered again at the next status beat', { timeout: 5_000 }, async () => {
    const api = new FakeNodeApi();
    const first = await registerNode(api, id, 'test');
    const beats = startHeartbeats(api, first, id, 'test', 20, () => undefined, { nodeStatusEveryMs: 100 });
    api.objects.delete('Node/n1');
    await delay(300);
    await beats.stop();
    assert.equal((api.objects.get('Node/n1') as NodeObject | undefined)?.status?.state, 'ready');
  });
});
