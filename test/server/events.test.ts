/**
 * Events: repeats created through the API are merged into one counted Event (server-side
 * correlation), expired Events are swept, and `flotilla events` (the real CLI as a child
 * process against a real server) lists, filters with --for and follows with --watch.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { ApiObject } from '../../src/api/object.js';
import type { EventSpec } from '../../src/api/kinds.js';
import { EventCorrelator } from '../../src/server/events/correlator.js';
import { expiredEvents, sweepEvents } from '../../src/controllers/events/expiry.js';
import { isAbout, involvedOf } from '../../src/cli/commands/events.js';
import { MemoryStore } from '../helpers/memory-store.js';
import { startTestServer, type TestServer } from './helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

function event(name: string, reason: string, message: string, involved = 'Task/default/web-1-abc', times: Partial<EventSpec> = {}): ApiObject {
  return {
    kind: 'Event',
    metadata: { name, namespace: 'default', uid: name, labels: {}, revision: 0, generation: 1, creationTimestamp: new Date().toISOString() },
    spec: { involved, type: 'Warning', reason, message, source: 'agent/n1', count: 1, firstTimestamp: '', lastTimestamp: '', ...times },
  };
}

describe('EventCorrelator', () => {
  it('merges a repeat into the stored Event (count, lastTimestamp) and keeps different ones apart', async () => {
    let now = Date.parse('2026-12-04T10:00:00Z');
    const store = new MemoryStore();
    const c = new EventCorrelator(store, { now: () => now, windowMs: 60_000 });
    await c.record(event('a1', 'ProbeNotReady', 'readiness probe failed'));
    now += 5_000;
    const merged = await c.record(event('a2', 'ProbeNotReady', 'readiness probe failed'));
    await c.record(event('b1', 'ProbeReady', 'readiness probe passed'));
    const { items } = await store.list('Event');
    assert.deepEqual(items.map((e) => e.metadata.name).sort(), ['a1', 'b1']);
    assert.equal(merged.metadata.name, 'a1');
    const a = (await store.get({ kind: 'Event', namespace: 'default', name: 'a1' }))?.spec as EventSpec;
    assert.equal(a.count, 2);
    assert.equal(a.firstTimestamp, '2026-12-04T10:00:00.000Z');
    assert.equal(a.lastTimestamp, '2026-12-04T10:00:05.000Z');
  });

  it('creates a new Event after the window, or when the stored one is gone', async () => {
    let now = Date.parse('2026-12-04T10:00:00Z');
    const store = new MemoryStore();
    const c = new EventCorrelator(store, { now: () => now, windowMs: 60_000 });
    await c.record(event('a1', 'R', 'm'));
    now += 61_000;
    await c.record(event('a2', 'R', 'm'));
    await store.delete({ kind: 'Event', namespace: 'default', name: 'a2' });
    now += 1_000;
    await c.record(event('a3', 'R', 'm'));
    assert.deepEqual((await store.list('Event')).items.map((e) => e.metadata.name).sort(), ['a1', 'a3']);
  });

  it('forgets the oldest keys beyond its bound', async () => {
    const store = new MemoryStore();
    const c = new EventCorrelator(store, { maxEntries: 2 });
    await c.record(event('x1', 'R', 'one'));
    await c.record(event('y1', 'R', 'two'));
    await c.record(event('z1', 'R', 'three'));
    await c.record(event('x2', 'R', 'one')); // "one" was forgotten: created anew
    await c.record(event('z2', 'R', 'three')); // still known: merged
    assert.deepEqual((await store.list('Event')).items.map((e) => e.metadata.name).sort(), ['x1', 'x2', 'y1', 'z1']);
  });
});

describe('Event expiry', () => {
  it('deletes the Events last seen before the TTL, by lastTimestamp else creation time', async () => {
    const store = new MemoryStore();
    const t0 = Date.parse('2026-12-04T10:00:00Z');
    await store.create(event('old', 'R', 'm', undefined, { lastTimestamp: '2026-12-04T08:59:00Z' }));
    await store.create(event('fresh', 'R', 'm', undefined, { lastTimestamp: '2026-12-04T09:30:00Z' }));
    const noTime = event('notime', 'R', 'm');
    noTime.metadata.creationTimestamp = '2026-12-04T08:00:00Z';
    await store.create(noTime);
    assert.deepEqual(expiredEvents((await store.list('Event')).items, t0, 3_600_000).map((e) => e.metadata.name).sort(), ['notime', 'old']);
    assert.equal(await sweepEvents(store, t0, 3_600_000), 2);
    assert.deepEqual((await store.list('Event')).items.map((e) => e.metadata.name), ['fresh']);
  });
});

describe('events --for', () => {
  it('matches namespaced and cluster-scoped involved objects', () => {
    assert.equal(isAbout('Task/default/web-1-abc', involvedOf('task/web-1-abc', undefined)), true);
    assert.equal(isAbout('Task/other/web-1-abc', involvedOf('task/web-1-abc', undefined)), false);
    assert.equal(isAbout('Node/n1', involvedOf('node/n1', undefined)), true);
    assert.equal(isAbout('Node//n1', involvedOf('nodes/n1', undefined)), true);
    assert.equal(isAbout('Service/default/web', involvedOf('svc/web', 'default')), true);
    assert.throws(() => involvedOf('web', undefined), /expected KIND\/NAME/);
  });
});

/** Runs the CLI; resolves on exit, or kills it with SIGINT once `until` matches stdout. */
function cli(args: string[], config: string, until?: RegExp): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: { ...process.env, FLOTILLA_CONFIG: config, FLOTILLA_DEBUG: '' } });
    let out = '';
    let err = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`flotilla ${args.join(' ')}: no exit within 30 s\n${out}\n${err}`)); }, 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (until?.test(out) === true) child.kill('SIGINT');
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out, err }); });
  });
}

describe('flotilla events against a server', () => {
  let s: TestServer;
  const config = (): string => path.join(s.dir, 'admin.json');
  // No audit Events: they would be listed among the ones the test makes.
  before(async () => { s = await startTestServer({ auditFlushMs: 0 }); });
  after(async () => { await s.cleanup(); });

  it('counts repeats created through the API, lists them newest last and filters with --for', async () => {
    await s.client.create(event('p1', 'ProbeNotReady', 'readiness probe failed: connection refused'));
    await s.client.create(event('p2', 'ProbeNotReady', 'readiness probe failed: connection refused'));
    await s.client.create(event('p3', 'ProbeNotReady', 'readiness probe failed: connection refused'));
    await s.client.create(event('n1', 'NodeDown', 'node n1 missed its heartbeats', 'Node/n1'));
    const stored = (await s.client.list('Event', { namespace: 'default' })).items;
    assert.equal(stored.length, 2);
    assert.equal((stored.find((e) => e.metadata.name === 'p1')?.spec as EventSpec).count, 3);
    const all = await cli(['events'], config());
    assert.equal(all.code, 0, all.err);
    const lines = all.out.trim().split('\n');
    assert.match(lines[0] ?? '', /LAST\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE/);
    assert.match(lines[1] ?? '', /ProbeNotReady\s+task\/web-1-abc\s+readiness probe failed: connection refused \(x3\)/);
    assert.match(lines[2] ?? '', /NodeDown\s+node\/n1/);
    const forNode = await cli(['events', '--for', 'node/n1'], config());
    assert.equal(forNode.code, 0, forNode.err);
    assert.doesNotMatch(forNode.out, /ProbeNotReady/);
    assert.match(forNode.out, /NodeDown/);
    const none = await cli(['events', '--for', 'service/nothing'], config());
    assert.equal(none.code, 0);
    assert.match(none.err, /No events found for service\/nothing in namespace default/);
  });

  it('--watch prints the Events that come after the list', async () => {
    const watching = cli(['events', '--watch', '--for', 'task/web-2-xyz'], config(), /LivenessFailed/);
    await new Promise((r) => setTimeout(r, 3_000)); // the CLI lists, then watches from the list's revision
    await s.client.create(event('w1', 'OtherTask', 'not this one', 'Task/default/web-3-zzz'));
    await s.client.create(event('w2', 'LivenessFailed', 'liveness probe failed: exit code 1', 'Task/default/web-2-xyz'));
    const r = await watching;
    assert.match(r.out, /LivenessFailed\s+task\/web-2-xyz\s+liveness probe failed: exit code 1/);
    assert.doesNotMatch(r.out, /OtherTask/);
  });
});
