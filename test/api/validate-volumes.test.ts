/**
 * Schema tests of volumes: the Volume kind (driver local only, namespaced, status shape) and a
 * Service's `volumes` entries (named volume, tmpfs with its size default, host bind).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServiceSpec, VolumeSpec } from '../../src/api/kinds.js';
import { validateObject, validateStatus } from '../../src/api/validate/index.js';
import { ValidationError } from '../../src/api/errors.js';
import { issueAt, issuesOf } from './issues.js';


const svc = (volumes: unknown[]): unknown => ({ kind: 'Service', metadata: { name: 'db' }, spec: { image: 'busybox:1', volumes } });
const volumesOf = (volumes: unknown[]): ServiceSpec['volumes'] => (validateObject(svc(volumes)).spec as ServiceSpec).volumes;

void describe('Volume kind', () => {
  void it('driver defaults to local; the object is namespaced', () => {
    const v = validateObject({ kind: 'Volume', metadata: { name: 'data' } });
    assert.deepEqual(v.spec as VolumeSpec, { driver: 'local' });
    assert.equal(v.metadata.namespace, 'default');
    const p = validateObject({ kind: 'Volume', metadata: { name: 'data', namespace: 'prod' }, spec: { driver: 'local' } });
    assert.equal(p.metadata.namespace, 'prod');
  });
  void it('another driver is refused naming the field', () => {
    const i = issueAt(issuesOf({ kind: 'Volume', metadata: { name: 'data' }, spec: { driver: 'nfs' } }), 'spec.driver');
    assert.match(i.expected, /a volume driver: local/);
  });
  void it('unknown spec fields and bad names are refused', () => {
    issueAt(issuesOf({ kind: 'Volume', metadata: { name: 'data' }, spec: { size: '1Gi' } }), 'spec.size');
    issueAt(issuesOf({ kind: 'Volume', metadata: { name: 'Data' }, spec: {} }), 'metadata.name');
  });
  void it('status: node, path, state (bound or unbound)', () => {
    assert.deepEqual(validateStatus('Volume', { node: 'n1', state: 'bound', path: '/x' }), { node: 'n1', state: 'bound', path: '/x' });
    assert.throws(() => validateStatus('Volume', { state: 'lost' }), (e: unknown) => e instanceof ValidationError && e.issues[0]?.path === 'status.state');
  });
});

void describe('Service volumes', () => {
  void it('a named volume: type volume by default, read-write by default', () => {
    assert.deepEqual(volumesOf([{ source: 'data', target: '/var/lib/db' }]), [{ type: 'volume', source: 'data', target: '/var/lib/db', readOnly: false }]);
    assert.equal(volumesOf([{ source: 'data', target: '/d', readOnly: true }])[0]?.readOnly, true);
  });
  void it('a tmpfs: size kept, or 64Mi by default', () => {
    assert.deepEqual(volumesOf([{ type: 'tmpfs', target: '/cache', size: '16Mi' }]), [{ type: 'tmpfs', source: '', target: '/cache', readOnly: false, size: '16Mi' }]);
    assert.equal(volumesOf([{ type: 'tmpfs', target: '/cache' }])[0]?.size, '64Mi');
  });
  void it('a host bind passes the schema (admission decides whether the cluster allows it)', () => {
    assert.deepEqual(volumesOf([{ type: 'bind', source: '/srv/www', target: '/www', readOnly: true }]), [{ type: 'bind', source: '/srv/www', target: '/www', readOnly: true }]);
  });
  const table: [string, unknown, string, RegExp][] = [
    ['volume without a name', { target: '/d' }, 'spec.volumes[0].source', /the name of a Volume/],
    ['volume bad name', { source: 'My_Data', target: '/d' }, 'spec.volumes[0].source', /DNS label/],
    ['target relative', { source: 'data', target: 'd' }, 'spec.volumes[0].target', /absolute path/],
    ['target /', { source: 'data', target: '/' }, 'spec.volumes[0].target', /other than \//],
    ['size on a volume', { source: 'data', target: '/d', size: '1Gi' }, 'spec.volumes[0].size', /size is for type: tmpfs/],
    ['tmpfs with a source', { type: 'tmpfs', source: 'x', target: '/c' }, 'spec.volumes[0].source', /a tmpfs has none/],
    ['tmpfs size 0', { type: 'tmpfs', target: '/c', size: '0' }, 'spec.volumes[0].size', /above 0/],
    ['tmpfs size garbage', { type: 'tmpfs', target: '/c', size: 'lots' }, 'spec.volumes[0].size', /quantity/],
    ['bind relative', { type: 'bind', source: 'srv', target: '/c' }, 'spec.volumes[0].source', /absolute host path/],
    ['type', { type: 'nfs', source: 'data', target: '/d' }, 'spec.volumes[0].type', /volume, tmpfs, bind/],
  ];
  for (const [name, entry, path, expected] of table) {
    void it(`refuses: ${name}`, () => assert.match(issueAt(issuesOf(svc([entry])), path).expected, expected));
  }
  void it('two mounts on one target are refused', () => {
    const issues = issuesOf(svc([{ source: 'a', target: '/d' }, { type: 'tmpfs', target: '/d' }]));
    assert.match(issueAt(issues, 'spec.volumes[1].target').expected, /not already used by volumes\[0\]/);
  });
});
