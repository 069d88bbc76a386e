/**
 * The endpoints area: VIP planning (pure), the endpoints view (pure), the vip and
 * ingress-backends loops on the in-memory store, and the publish-port admission check.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from '../../../src/api/kinds.js';
import { ValidationError } from '../../../src/api/errors.js';
import { endpointsView, inRotation } from '../../../src/controllers/endpoints/endpoints.js';
import { parseCidr4, planVips } from '../../../src/controllers/endpoints/vip.js';
import { startControllers } from '../../../src/controllers/index.js';
import { PublishPortAdmission, publishConflicts } from '../../../src/server/admission/ports.js';
import { MemoryStore } from '../../helpers/memory-store.js';
import { service, task } from '../fixtures.js';

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 5_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('planVips', () => {
  const c = parseCidr4('10.96.0.0/29');
  it('keeps valid unique VIPs and gives the lowest free address to the others, oldest first', () => {
    const plan = planVips([
      { key: 'a', created: '1', vip: '10.96.0.2' },
      { key: 'b', created: '2' },
      { key: 'c', created: '3', vip: '10.96.0.2' },
      { key: 'd', created: '4', vip: '10.97.0.1' },
    ], c);
    assert.deepEqual([...plan.assign], [['b', '10.96.0.1'], ['c', '10.96.0.3'], ['d', '10.96.0.4']]);
  });
  it('reports keys left without an address when the range is full', () => {
    const holders = Array.from({ length: 8 }, (_, i) => ({ key: `s${i}`, created: String(i) }));
    const plan = planVips(holders, c);
    assert.equal(plan.assign.size, 6);
    assert.deepEqual(plan.exhausted, ['s6', 's7']);
  });
  it('refuses CIDRs that are not IPv4 ranges', () => {
    assert.throws(() => parseCidr4('10.96.0.0'), /expected an IPv4 CIDR/);
    assert.throws(() => parseCidr4('10.96.0.0/31'), /prefix from \/8 to \/30/);
  });
});

describe('endpointsView', () => {
  it('lists only running, ready tasks with an address of the same service incarnation', () => {
    const web = service('web', { ports: [{ port: 80, targetPort: 8080, protocol: 'tcp' }] });
    web.status = { vip: '10.96.0.1' };
    const ok = task(web, 1, 'running', { ready: true, node: 'n1', name: 'ok' });
    ok.status = { ...ok.status!, ip: '10.88.1.2' };
    const notReady = task(web, 2, 'running', { ready: false, name: 'nr' });
    notReady.status = { ...notReady.status!, ip: '10.88.1.3' };
    const leaving = task(web, 3, 'running', { ready: true, desired: 'shutdown', name: 'lv' });
    leaving.status = { ...leaving.status!, ip: '10.88.1.4' };
    const foreign = task(web, 4, 'running', { ready: true, name: 'fo' });
    foreign.status = { ...foreign.status!, ip: '10.88.1.5' };
    foreign.metadata.annotations = { 'flotilla.dev/service-uid': 'older' };
    assert.equal(inRotation(ok, web.metadata.uid), true);
    const view = endpointsView([web], [ok, notReady, leaving, foreign]);
    assert.deepEqual(view.get('default/web')?.endpoints, [{ task: ok.metadata.name, node: 'n1', ip: '10.88.1.2' }]);
    assert.equal(view.get('default/web')?.vip, '10.96.0.1');
  });
});

describe('vip and ingress-backends loops', { timeout: 20_000 }, () => {
  const store = new MemoryStore();
  const ctl = startControllers(store, { serviceCidr: '10.100.0.0/24' });
  after(() => ctl.stop());

  it('gives every service a distinct, stable VIP and reuses a deleted one', async () => {
    await ctl.ready;
    for (const n of ['a', 'b', 'c']) await store.create({ ...service(n), metadata: { ...service(n).metadata, revision: 0, creationTimestamp: `2025-01-01T00:00:0${['a', 'b', 'c'].indexOf(n)}Z` } });
    const vips = await until('3 vips', async () => {
      const { items } = await store.list('Service');
      const v = (items as Service[]).map((s) => s.status?.vip);
      return v.every((x) => x !== undefined) ? v : undefined;
    });
    assert.deepEqual(vips, ['10.100.0.1', '10.100.0.2', '10.100.0.3']);
    const b = (await store.get({ kind: 'Service', namespace: 'default', name: 'b' })) as Service;
    await store.update({ ...b, spec: { ...b.spec, replicas: 3 } });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(((await store.get({ kind: 'Service', namespace: 'default', name: 'b' })) as Service).status?.vip, '10.100.0.2');
    await store.delete({ kind: 'Service', namespace: 'default', name: 'b' });
    await store.create({ ...service('d'), metadata: { ...service('d').metadata, revision: 0 } });
    const d = await until('vip of d', async () => ((await store.get({ kind: 'Service', namespace: 'default', name: 'd' })) as Service | undefined)?.status?.vip);
    assert.equal(d, '10.100.0.2');
  });

  it('an Ingress to a missing service gets one Warning event', async () => {
    await store.create({ kind: 'Ingress', metadata: { name: 'web', namespace: 'default', uid: 'ing1', labels: {}, revision: 0, generation: 1, creationTimestamp: new Date().toISOString() },
      spec: { rules: [{ host: 'x.test', paths: [{ path: '/', backend: { service: 'ghost', port: 80 }, weight: 100 }, { path: '/a', backend: { service: 'a', port: 80 }, weight: 100 }] }], tls: [] } });
    const mine = async (): Promise<Array<{ spec: unknown }>> => (await store.list('Event')).items.filter((e) => (e.spec as { reason: string }).reason === 'BackendServiceMissing');
    const ev = await until('event', async () => (await mine())[0]);
    const spec = ev.spec as { type: string; reason: string; message: string; involved: string };
    assert.equal(spec.type, 'Warning');
    assert.equal(spec.reason, 'BackendServiceMissing');
    assert.equal(spec.involved, 'Ingress/default/web');
    assert.match(spec.message, /service ghost, which does not exist.*503/);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await mine()).length, 1);
  });
});

describe('publish-port admission', () => {
  const withPorts = (name: string, ns: string, ports: Array<{ publish?: number; protocol?: 'tcp' | 'udp' }>): Service => {
    const s = service(name, { ports: ports.map((p, i) => ({ port: 80 + i, targetPort: 80, protocol: p.protocol ?? 'tcp', ...(p.publish !== undefined ? { publish: p.publish } : {}) })) });
    s.metadata.namespace = ns;
    return s;
  };
  it('refuses a port another service publishes, naming it; the same service may keep its own', () => {
    const web = withPorts('web', 'default', [{ publish: 30080 }]);
    const issues = publishConflicts(withPorts('api', 'team', [{ publish: 30080 }, { publish: 30081 }]), [web]);
    assert.deepEqual(issues.map((i) => [i.path, i.found]), [['spec.ports[0].publish', '30080/tcp (published by service default/web)']]);
    assert.deepEqual(publishConflicts(withPorts('web', 'default', [{ publish: 30080 }]), [web]), []);
    assert.deepEqual(publishConflicts(withPorts('dns', 'default', [{ publish: 30080, protocol: 'udp' }]), [web]), []);
    assert.equal(publishConflicts(withPorts('dup', 'default', [{ publish: 30090 }, { publish: 30090 }]), []).length, 1);
  });
  it('the hook throws a ValidationError for services only', async () => {
    const store = new MemoryStore();
    await store.create({ ...withPorts('web', 'default', [{ publish: 30080 }]), metadata: { ...service('web').metadata, revision: 0 } });
    const hook = new PublishPortAdmission(store);
    const identity = { kind: 'admin', name: 'admin' } as never;
    await assert.rejects(hook.admit({ operation: 'create', identity, object: withPorts('api', 'default', [{ publish: 30080 }]) }), (e: unknown) => e instanceof ValidationError && /expected a port no other service publishes, found 30080\/tcp \(published by service default\/web\)/.test(e.message));
    await hook.admit({ operation: 'create', identity, object: withPorts('api', 'default', [{ publish: 30081 }]) });
  });
});
