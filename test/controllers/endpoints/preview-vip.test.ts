/**
 * Preview VIPs of blue-green services: the pure decision (vipChangeOf over every vip and
 * previewVip) and the vip loop on the in-memory store, racing another status writer, giving
 * back the address when the service stops being blue-green or is deleted.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError } from '../../../src/api/errors.js';
import type { Service } from '../../../src/api/kinds.js';
import { createEndpointsControllers } from '../../../src/controllers/endpoints/controller.js';
import { parseCidr4, vipChangeOf, type ServiceVips } from '../../../src/controllers/endpoints/vip.js';
import { systemClock } from '../../../src/controllers/framework/clock.js';
import { createClusterInformers } from '../../../src/controllers/informers.js';
import { MemoryStore } from '../../helpers/memory-store.js';
import { service, serviceSpec } from '../fixtures.js';

describe('vipChangeOf (pure)', () => {
  const c = parseCidr4('10.96.0.0/29');
  const subjects: ServiceVips[] = [
    { key: 'a', created: '1', vip: '10.96.0.1', wantsPreview: false },
    { key: 'b', created: '2', vip: '10.96.0.2', wantsPreview: true },
    { key: 'c', created: '3', wantsPreview: true },
    { key: 'd', created: '4', vip: '10.96.0.4', previewVip: '10.96.0.5', wantsPreview: false },
  ];
  it('a blue-green service gets the lowest address no vip or previewVip holds', () => {
    assert.deepEqual(vipChangeOf('b', subjects, c), { previewVip: '10.96.0.3', releasePreview: false, exhausted: [] });
  });
  it('an address being released still counts as used; the range running out is reported', () => {
    assert.deepEqual(vipChangeOf('c', subjects, c), { vip: '10.96.0.6', releasePreview: false, exhausted: ['previewVip'] });
  });
  it('a service no longer blue-green releases its previewVip; one with everything has nothing to do', () => {
    assert.deepEqual(vipChangeOf('d', subjects, c), { releasePreview: true, exhausted: [] });
    assert.equal(vipChangeOf('a', subjects, c), undefined);
    assert.equal(vipChangeOf('zz', subjects, c), undefined);
  });
  it('a previewVip equal to an older vip is replaced', () => {
    const dup: ServiceVips[] = [{ key: 'a', created: '1', vip: '10.96.0.1', wantsPreview: false }, { key: 'b', created: '2', vip: '10.96.0.2', previewVip: '10.96.0.1', wantsPreview: true }];
    assert.deepEqual(vipChangeOf('b', dup, c), { previewVip: '10.96.0.3', releasePreview: false, exhausted: [] });
  });
});

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 5_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the vip loop and previewVip', { timeout: 20_000 }, () => {
  const store = new MemoryStore();
  const informers = createClusterInformers(store, systemClock, () => undefined);
  const loops = createEndpointsControllers({ store, informers, clock: systemClock, log: () => undefined, serviceCidr: '10.100.0.0/24' });
  after(async () => {
    await Promise.all(loops.controllers.map((c) => c.stop()));
    await Promise.all([informers.services.stop(), loops.ingresses.stop()]);
  });
  const get = async (name: string): Promise<Service | undefined> => (await store.get({ kind: 'Service', namespace: 'default', name }).catch(() => undefined)) as Service | undefined;
  const make = (name: string, strategy: 'rolling' | 'blue-green', second: number): Service => {
    const s = service(name, { update: { ...serviceSpec().update, strategy } });
    return { ...s, metadata: { ...s.metadata, revision: 0, creationTimestamp: `2025-01-01T00:00:0${second}Z` } };
  };
  /** Another controller writing the same status: read, change its own field, write with the read revision, retry on conflict. */
  const otherWriter = async (name: string, n: number): Promise<void> => {
    for (let i = 1; i <= n; i++) {
      for (;;) {
        const s = (await get(name)) as Service;
        try {
          await store.update({ ...s, status: { ...(s.status ?? {}), readyReplicas: i } }, s.metadata.revision);
          break;
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err;
        }
      }
      await new Promise((r) => setImmediate(r));
    }
  };

  it('gives a blue-green service a previewVip unique against every vip, kept across writes of others', async () => {
    await Promise.all([informers.services.start(), loops.ingresses.start()]);
    for (const c of loops.controllers) c.start();
    await store.create(make('a', 'rolling', 0));
    await store.create(make('b', 'blue-green', 1));
    await otherWriter('b', 30);
    const b = await until('vip and previewVip of b', async () => { const s = await get('b'); return s?.status?.vip !== undefined && s.status.previewVip !== undefined ? s : undefined; });
    const a = await until('vip of a', async () => (await get('a'))?.status?.vip);
    assert.equal(b.status?.readyReplicas, 30, 'the other writer\'s field survives');
    assert.equal(new Set([a, b.status?.vip, b.status?.previewVip]).size, 3);
    assert.equal((await get('a'))?.status?.previewVip, undefined);
    const before = b.status?.previewVip;
    await store.update({ ...b, spec: { ...b.spec, replicas: 3 } });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await get('b'))?.status?.previewVip, before);
  });

  it('releases the previewVip when the service stops being blue-green; a new one reuses it', async () => {
    const b = (await get('b')) as Service;
    const released = b.status?.previewVip;
    await store.update({ ...b, spec: { ...b.spec, update: { ...b.spec.update, strategy: 'rolling' } } });
    await until('previewVip of b released', async () => ((await get('b'))?.status?.previewVip === undefined ? true : undefined));
    assert.notEqual((await get('b'))?.status?.vip, undefined);
    await store.create(make('c', 'blue-green', 2));
    const c = await until('c', async () => { const s = await get('c'); return s?.status?.previewVip !== undefined ? s : undefined; });
    assert.deepEqual([c.status?.vip, c.status?.previewVip].sort(), [released, '10.100.0.4'].sort());
  });

  it('a deleted blue-green service frees both of its addresses', async () => {
    const c = (await get('c')) as Service;
    await store.delete({ kind: 'Service', namespace: 'default', name: 'c' });
    await store.create(make('d', 'blue-green', 3));
    const d = await until('d', async () => { const s = await get('d'); return s?.status?.previewVip !== undefined ? s : undefined; });
    assert.deepEqual([d.status?.vip, d.status?.previewVip].sort(), [c.status?.vip, c.status?.previewVip].sort());
  });

  it('an Ingress to the preview of a blue-green service is not warned about; one to an unknown preview is', async () => {
    await store.create({ kind: 'Ingress', metadata: { name: 'pv', namespace: 'default', uid: 'ing-pv', labels: {}, revision: 0, generation: 1, creationTimestamp: new Date().toISOString() },
      spec: { rules: [{ host: 'pv.test', paths: [{ path: '/', backend: { service: 'd-preview', port: 80 }, weight: 100 }, { path: '/x', backend: { service: 'ghost-preview', port: 80 }, weight: 100 }] }], tls: [] } });
    const warned = async (): Promise<string[]> => (await store.list('Event')).items.map((e) => (e.spec as { message: string }).message).filter((m) => m.includes('ingress pv'));
    await until('a warning', async () => ((await warned()).length > 0 ? true : undefined));
    await new Promise((r) => setTimeout(r, 100));
    const msgs = await warned();
    assert.equal(msgs.length, 1, msgs.join('\n'));
    assert.match(msgs[0] as string, /service ghost-preview, which does not exist/);
  });
});
