/**
 * The DNS directory over the in-memory store: names follow the endpoints view (blue-green:
 * NAME = the active revision, NAME-preview = previewVip or the preview's ready addresses;
 * canary: tasks.NAME = both revisions), and a real service named like a preview wins.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiObject } from '../../../src/api/object.js';
import type { RolloutStatus, Service, ServiceStatus, Task } from '../../../src/api/kinds.js';
import { InformerDirectory, resolveName } from '../../../src/agent/dns/index.js';
import { MemoryStore } from '../../helpers/memory-store.js';
import { service, task } from '../../controllers/fixtures.js';

function rollout(strategy: RolloutStatus['strategy'], extra: Partial<RolloutStatus> = {}): RolloutStatus {
  const at = new Date().toISOString();
  return { strategy, state: 'waiting-promotion', revision: 2, from: 1, since: at, failuresSince: at, startedAt: at, message: '', ...extra };
}

function svc(name: string, status: ServiceStatus): Service {
  const s = service(name);
  s.metadata.revision = 0;
  s.status = status;
  return s;
}

function ready(s: Service, slot: number, revision: number, ip: string): Task {
  const t = task(s, slot, 'running', { ready: true, node: 'n1', name: `${s.metadata.name}-${slot}` });
  t.metadata.revision = 0;
  t.status = { ...t.status!, ip };
  t.spec.revision = revision;
  return t;
}

describe('InformerDirectory and the traffic plan', { timeout: 20_000 }, () => {
  const store = new MemoryStore();
  const dir = new InformerDirectory(store);
  const blue = svc('blue', { vip: '10.96.0.1', previewVip: '10.96.0.2', revision: 1, rollout: rollout('blue-green') });
  const green = svc('green', { vip: '10.96.0.3', revision: 1, rollout: rollout('blue-green') });
  const can = svc('can', { vip: '10.96.0.4', revision: 1, rollout: rollout('canary', { state: 'paused', weight: 10 }) });
  const shadow = svc('shadow', { vip: '10.96.0.5', previewVip: '10.96.0.6', revision: 1, rollout: rollout('blue-green') });
  const real = svc('shadow-preview', { vip: '10.96.0.7' });
  const objects: ApiObject[] = [
    blue, green, can, shadow, real,
    ready(blue, 1, 1, '10.88.0.11'), ready(blue, 2, 1, '10.88.0.12'), ready(blue, 3, 2, '10.88.0.13'),
    ready(green, 1, 1, '10.88.0.21'), ready(green, 2, 2, '10.88.0.22'),
    ready(can, 1, 1, '10.88.0.31'), ready(can, 2, 2, '10.88.0.32'), ready(can, 3, 3, '10.88.0.33'),
    ready(shadow, 1, 2, '10.88.0.41'), ready(real, 1, 1, '10.88.0.51'),
  ];
  before(async () => {
    for (const o of objects) await store.create(o);
    await dir.start();
  });
  after(() => dir.stop());

  const table: Array<[string, string[] | 'NXDOMAIN']> = [
    ['blue', ['10.96.0.1']],
    ['blue.default.svc', ['10.96.0.1']],
    ['tasks.blue', ['10.88.0.11', '10.88.0.12']],
    ['blue-preview', ['10.96.0.2']],
    ['blue-preview.default', ['10.96.0.2']],
    ['blue-preview.default.svc', ['10.96.0.2']],
    ['tasks.blue-preview', ['10.88.0.13']],
    ['tasks.blue-preview.default.svc', ['10.88.0.13']],
    ['green-preview.default.svc', ['10.88.0.22']],
    ['tasks.can', ['10.88.0.31', '10.88.0.32']],
    ['can-preview.default.svc', 'NXDOMAIN'],
    ['nothing-preview.default.svc', 'NXDOMAIN'],
    ['shadow-preview', ['10.96.0.7']],
    ['tasks.shadow-preview', ['10.88.0.51']],
  ];
  for (const [name, want] of table) {
    it(`${name} -> ${Array.isArray(want) ? want.join(' ') : want}`, () => {
      const got = resolveName(name, '192.0.2.1', dir);
      assert.deepEqual(got, want === 'NXDOMAIN' ? { type: 'cluster', rcode: 'NXDOMAIN', addresses: [] } : { type: 'cluster', rcode: 'NOERROR', addresses: want });
    });
  }
});
