/**
 * Issue 13, fault 6 (first half): the SQLite file on a full filesystem. `flotilla server` (a real
 * process) keeps its data dir on a small tmpfs; a filler file takes every free block. Writes must
 * then fail with 503 (code Unavailable, "store: no space left on device: ...", Retry-After),
 * never 500, and never be acknowledged unless stored; reads keep answering; once the filler is
 * deleted, writes succeed again without a restart. After a kill -9 and a restart, every
 * acknowledged write is there and no refused one is.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { rounds, reportCounts } from '../helpers/chaos.js';
import { eventually, FlotillaProcess } from '../helpers/flotilla.js';
import { bigConfig, RawApi, type RawAnswer } from './raw-api.js';
import { Tmpfs } from './tmpfs.js';

const TMPFS_BYTES = 16 * 1024 * 1024;
const PAYLOAD_BYTES = 32 * 1024;
const WRITERS = 4;

interface Tally {
  attempts: number;
  acknowledged: Map<string, string>;
  refused: Set<string>;
  statuses: Map<number, number>;
  unexpected: string[];
}

function newTally(): Tally {
  return { attempts: 0, acknowledged: new Map(), refused: new Set(), statuses: new Map(), unexpected: [] };
}

function count(t: Tally, status: number): void {
  t.statuses.set(status, (t.statuses.get(status) ?? 0) + 1);
}

/** A 503 the way the brief wants it: code Unavailable, the store's reason, Retry-After. */
function isDiskFull503(a: RawAnswer): boolean {
  const body = a.json as { code?: string; message?: string } | undefined;
  return a.status === 503 && body?.code === 'Unavailable' && /^store: no space left on device: /.test(body.message ?? '') && Number(a.headers['retry-after']) > 0;
}

describe('chaos store-disk: SQLite on a full filesystem', { timeout: 180_000 }, () => {
  let disk: Tmpfs;
  let server: FlotillaProcess;
  let api: RawApi;
  const tally = newTally();
  let seq = 0;

  const start = async (): Promise<void> => {
    server = new FlotillaProcess(['server', '--data-dir', disk.dir, '--listen', '127.0.0.1:0']);
    await server.start(90_000);
    api?.close();
    api = new RawApi(path.join(disk.dir, 'admin.json'));
  };

  /** One create; files its name under acknowledged (201) or refused (503); anything else is unexpected. */
  const createOne = async (phase: string): Promise<RawAnswer> => {
    const name = `${phase}-${seq++}`;
    const marker = `${name}/${Math.random().toString(36).slice(2)}`;
    tally.attempts++;
    const a = await api.request('POST', '/api/v1/configs', bigConfig(name, PAYLOAD_BYTES, marker));
    count(tally, a.status);
    if (a.status === 201) tally.acknowledged.set(name, marker);
    else if (isDiskFull503(a)) tally.refused.add(name);
    else tally.unexpected.push(`${phase} POST ${name}: ${a.status} ${a.headers['retry-after'] ?? '-'} ${a.text.slice(0, 200)}${a.error ?? ''}`);
    return a;
  };

  /** `WRITERS` concurrent writers until `until()` says stop or `max` attempts. */
  const load = async (phase: string, max: number, until: () => boolean): Promise<void> => {
    let left = max;
    await Promise.all(Array.from({ length: WRITERS }, async () => {
      while (left-- > 0 && !until()) await createOne(phase);
    }));
  };

  before(async () => {
    disk = await Tmpfs.mount(TMPFS_BYTES);
    await start();
  });
  after(async () => {
    api?.close();
    await server?.kill9();
    await disk?.unmount();
  });

  it('refuses writes with 503 while full, keeps reading, recovers without a restart, loses nothing acknowledged', async () => {
    await load('before', 20, () => false);
    assert.equal(tally.acknowledged.size, 20, `writes on a disk with space: ${tally.unexpected.join('\n')}`);

    const filler = path.join(disk.dir, 'filler');
    const fillerBytes = disk.fill(filler);
    // The first writes may still fit in space SQLite holds already (WAL reuse); then 503s.
    const want503 = rounds(20, 100);
    let full503 = 0;
    const before503 = tally.refused.size;
    await load('full', 2_000, () => tally.refused.size - before503 >= want503);
    full503 = tally.refused.size - before503;
    assert.equal(tally.unexpected.length, 0, `only 201 or the disk-full 503 while full:\n${tally.unexpected.slice(0, 5).join('\n')}`);
    assert.ok(full503 >= want503, `expected ${want503} refusals, got ${full503} (statuses ${JSON.stringify([...tally.statuses])})`);

    // Updates and deletes are writes too; reads answer from what is stored.
    const [someName] = [...tally.acknowledged.keys()];
    const got = await api.request('GET', `/api/v1/configs/${someName}`);
    assert.equal(got.status, 200, got.text);
    const update = await api.request('PUT', `/api/v1/configs/${someName}`, { ...(got.json as Record<string, unknown>), spec: { data: { marker: 'x'.repeat(PAYLOAD_BYTES) } } });
    assert.ok(update.status === 200 || isDiskFull503(update), `PUT while full: ${update.status} ${update.text.slice(0, 200)}`);
    let readsWhileFull = 0;
    for (const p of ['/api/v1/configs', `/api/v1/configs/${someName}`, '/readyz', '/api/v1/revision']) {
      const r = await api.request('GET', p);
      assert.equal(r.status, 200, `GET ${p} while full: ${r.text.slice(0, 200)}`);
      readsWhileFull++;
    }

    // Space returns: writes succeed again, same process.
    rmSync(filler);
    let writesToRecover = 0;
    await eventually('a write to succeed after the filler is gone', 30_000, async () => (++writesToRecover > 0 && (await createOne('after')).status === 201 ? true : undefined));
    const acknowledgedBefore = tally.acknowledged.size;
    await load('after', 20, () => false);
    assert.equal(tally.acknowledged.size - acknowledgedBefore, 20, `writes after space returned: ${tally.unexpected.join('\n')}`);
    assert.equal(tally.unexpected.length, 0, tally.unexpected.join('\n'));

    // Everything acknowledged survives a crash and restart; nothing refused appears.
    await server.kill9();
    await start();
    const all = await api.request('GET', '/api/v1/configs');
    assert.equal(all.status, 200, all.text.slice(0, 200));
    const stored = new Map(((all.json as { items: { metadata: { name: string; annotations?: Record<string, string> } }[] }).items).map((o) => [o.metadata.name, o.metadata.annotations?.['chaos/marker']]));
    const lost = [...tally.acknowledged].filter(([name, marker]) => stored.get(name) !== marker).map(([n]) => n);
    const phantom = [...tally.refused].filter((name) => stored.has(name));
    reportCounts('store-disk', {
      writes: tally.attempts,
      acknowledged: tally.acknowledged.size,
      'enospc-503': tally.refused.size,
      'status-500': tally.statuses.get(500) ?? 0,
      'reads-while-full': readsWhileFull,
      'writes-to-recover': writesToRecover,
      'filler-bytes': fillerBytes,
      lost: lost.length,
      'refused-present': phantom.length,
    });
    assert.deepEqual(lost, [], 'acknowledged writes missing after restart');
    assert.deepEqual(phantom, [], 'refused writes present after restart');
    assert.equal(tally.statuses.get(500) ?? 0, 0);
    assert.doesNotMatch(server.output, /internal error|Unhandled|uncaught/i, 'the restarted server logged no crash');
  });
});
