/** Ingress routing, pure: host and path matching, route merging, smooth weighted round-robin, canary groups. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildRouteTable, GroupPicker, matchRoute, normalizeHost, pathMatches, WeightedPicker, type IngressSource } from '../../../src/agent/ingress/routes.js';
import type { EndpointGroup } from '../../../src/controllers/endpoints/endpoints.js';
import { ingressSpecSchema } from '../../../src/api/validate/ingress.js';

function ing(name: string, spec: unknown, namespace = 'default'): IngressSource {
  return { namespace, name, spec: ingressSpecSchema.parse(spec) };
}

const table = buildRouteTable([
  ing('shop', { rules: [{ host: 'shop.example.com', paths: [{ path: '/', backend: { service: 'shop', port: 80 } }, { path: '/api', backend: { service: 'api', port: 'http' } }] }] }),
  ing('wild', { rules: [{ host: '*.example.com', paths: [{ path: '/', backend: { service: 'wild', port: 80 } }] }] }),
  ing('any', { rules: [{ paths: [{ path: '/health', backend: { service: 'health', port: 80 } }] }] }),
  ing('canary', { rules: [{ host: 'shop.example.com', paths: [{ path: '/api', backend: { service: 'api-v2', port: 80 }, weight: 10 }] }] }),
]);

const svcOf = (host: string | undefined, path: string): string[] | undefined => matchRoute(table, host, path)?.backends.map((b) => b.service);

describe('ingress routes', () => {
  it('matches exact host, longest whole-segment prefix', () => {
    assert.deepEqual(svcOf('shop.example.com', '/'), ['shop']);
    assert.deepEqual(svcOf('shop.example.com', '/api/v1/x'), ['api-v2', 'api']);
    assert.deepEqual(svcOf('shop.example.com', '/api'), ['api-v2', 'api']);
    assert.deepEqual(svcOf('shop.example.com', '/apix'), ['shop']);
    assert.deepEqual(svcOf('SHOP.example.com:8443', '/api'), ['api-v2', 'api']);
  });

  it('falls back to a wildcard host (one label), then to host-less rules', () => {
    assert.deepEqual(svcOf('blog.example.com', '/x'), ['wild']);
    assert.equal(svcOf('a.b.example.org', '/x'), undefined);
    assert.deepEqual(svcOf('other.org', '/health'), ['health']);
    assert.equal(svcOf('other.org', '/'), undefined);
    assert.equal(svcOf(undefined, '/nothing'), undefined);
  });

  it('merges same host+path from several Ingresses into one weighted route', () => {
    const r = matchRoute(table, 'shop.example.com', '/api');
    assert.deepEqual(r?.backends.map((b) => [b.service, b.port, b.weight]), [['api-v2', 80, 10], ['api', 'http', 100]]);
    assert.deepEqual(r?.ingresses, ['default/canary', 'default/shop']);
  });

  it('path and host helpers', () => {
    assert.equal(pathMatches('/', '/anything'), true);
    assert.equal(pathMatches('/a/', '/a/b'), true);
    assert.equal(pathMatches('/a', '/ab'), false);
    assert.equal(normalizeHost('Example.COM.:80'), 'example.com');
  });

  it('smooth weighted round-robin gives exact, interleaved shares', () => {
    const p = new WeightedPicker([{ id: 'a', weight: 5 }, { id: 'b', weight: 1 }, { id: 'c', weight: 1 }]);
    const seq = Array.from({ length: 7 }, () => p.pick()?.id).join('');
    assert.equal(seq, 'aabacaa');
    const counts = new Map<string, number>();
    for (let i = 0; i < 700; i++) { const id = p.pick()?.id as string; counts.set(id, (counts.get(id) ?? 0) + 1); }
    assert.deepEqual([...counts].sort(), [['a', 500], ['b', 100], ['c', 100]]);
  });

  it('skips ineligible and zero-weight backends; undefined when none is left', () => {
    const p = new WeightedPicker([{ id: 'a', weight: 90 }, { id: 'b', weight: 10 }, { id: 'z', weight: 0 }]);
    for (let i = 0; i < 20; i++) assert.equal(p.pick((x) => x.id !== 'a')?.id, 'b');
    assert.equal(p.pick((x) => x.id === 'z'), undefined);
  });

  it('GroupPicker: exact weighted shares of the groups, then the tasks of the picked group', () => {
    const ep = (ip: string): { task: string; node: string; ip: string } => ({ task: ip, node: 'n1', ip });
    const groups = (w: number, stable: string[], canary: string[]): EndpointGroup[] => [{ revision: 1, weight: 100 - w, endpoints: stable.map(ep) }, { revision: 2, weight: w, endpoints: canary.map(ep) }];
    const endpoints = [ep('s1'), ep('s2'), ep('c1')];
    const p = new GroupPicker();
    const picks = Array.from({ length: 100 }, () => p.pick({ endpoints, groups: groups(20, ['s1', 's2'], ['c1']) }));
    assert.equal(picks.filter((x) => x.revision === 2).length, 20);
    assert.deepEqual(picks.find((x) => x.revision === 2)?.endpoints.map((e) => e.ip), ['c1']);
    assert.deepEqual(picks.slice(0, 5).map((x) => x.revision), [1, 1, 2, 1, 1], 'interleaved, not in bursts');
    // A group without ready tasks gives its share to the other; both weights 0 with tasks: shared equally.
    for (let i = 0; i < 10; i++) assert.equal(p.pick({ endpoints, groups: groups(20, ['s1'], []) }).revision, 1);
    for (let i = 0; i < 10; i++) assert.equal(p.pick({ endpoints, groups: groups(100, ['s1'], []) }).revision, 1);
    // No groups (plan all, blue-green): the service's endpoints as they are.
    assert.deepEqual(p.pick({ endpoints }), { endpoints });
  });

  it('the schema refuses bad hosts, paths and weights with clear messages', () => {
    const r = ingressSpecSchema.safeParse({ rules: [{ host: 'Bad_Host', paths: [{ path: 'x', backend: { service: 's', port: 0 }, weight: -1 }] }], tls: [{ hosts: [], secret: 's' }] });
    assert.equal(r.success, false);
    const paths = r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
    for (const p of ['rules.0.host', 'rules.0.paths.0.path', 'rules.0.paths.0.backend.port', 'rules.0.paths.0.weight', 'tls.0.hosts']) assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
  });
});
