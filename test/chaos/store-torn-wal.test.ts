/**
 * Issue 13, fault 6 (second half): a torn end of the SQLite WAL. Rounds of: `flotilla server` (a
 * real process) under heavy concurrent creates and updates, kill -9 in the middle of them, and
 * in every other round a torn last write appended to the WAL (a partial frame of garbage, what a
 * crash in the middle of a write(2) leaves); then the file must open (`PRAGMA integrity_check`
 * = ok, on a copy, so the server recovers the very file the crash left) and, after a restart,
 * every acknowledged write is there: each acknowledged create, and each object's counter at
 * least its last acknowledged update and at most its last attempted one.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { rounds, reportCounts } from '../helpers/chaos.js';
import { FlotillaProcess } from '../helpers/flotilla.js';
import { RawApi } from './raw-api.js';

const WRITERS = 16;
/** Objects each writer owns: created once, then updated with a growing counter. */
const OBJECTS_PER_WRITER = 4;

/** What the clients know: acknowledged and attempted counters per object. */
interface History {
  /** name -> highest counter the API acknowledged (0: the create). */
  acked: Map<string, number>;
  /** name -> highest counter ever sent. */
  attempted: Map<string, number>;
}

function configBody(name: string, counter: number): Record<string, unknown> {
  return { kind: 'Config', metadata: { name, namespace: 'default', annotations: { 'chaos/counter': String(counter), 'chaos/pad': 'p'.repeat(512) } }, spec: { data: { counter: String(counter) } } };
}

/** A copy of the files a crash left, checked by SQLite itself; returns the check's answer and the stored counters. */
function checkCopy(dataDir: string): { integrity: string; counters: Map<string, number> } {
  const dir = mkdtempSync(path.join(tmpdir(), 'flotilla-torn-copy-'));
  try {
    for (const f of ['state.db', 'state.db-wal']) if (existsSync(path.join(dataDir, f))) copyFileSync(path.join(dataDir, f), path.join(dir, f));
    const db = new Database(path.join(dir, 'state.db'));
    try {
      const integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
      const rows = db.prepare("SELECT name, json FROM objects WHERE kind = 'Config' AND namespace = 'default'").all() as { name: string; json: string }[];
      const counters = new Map(rows.map((r) => [r.name, Number((JSON.parse(r.json) as { metadata: { annotations?: Record<string, string> } }).metadata.annotations?.['chaos/counter'] ?? NaN)]));
      return { integrity, counters };
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Names whose stored counter contradicts the history: below the acknowledged one, or never sent. */
function violations(h: History, stored: Map<string, number>): string[] {
  const bad: string[] = [];
  for (const [name, acked] of h.acked) {
    const s = stored.get(name);
    const sent = h.attempted.get(name) ?? acked;
    if (s === undefined || !(s >= acked && s <= sent)) bad.push(`${name}: stored ${s}, acknowledged ${acked}, sent up to ${sent}`);
  }
  return bad;
}

describe('chaos store-torn-wal: kill -9 during heavy writes, torn WAL tail', { timeout: 900_000 }, () => {
  let dir: string;
  let server: FlotillaProcess | undefined;
  let api: RawApi | undefined;
  const history: History = { acked: new Map(), attempted: new Map() };

  const start = async (): Promise<RawApi> => {
    server = new FlotillaProcess(['server', '--data-dir', dir, '--listen', '127.0.0.1:0']);
    await server.start(90_000);
    api?.close();
    api = new RawApi(path.join(dir, 'admin.json'), { maxSockets: WRITERS });
    return api;
  };

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'flotilla-torn-wal-'));
  });
  after(async () => {
    api?.close();
    await server?.kill9();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens after every crash and keeps every acknowledged write', async () => {
    const total = rounds(5, 20);
    const counts = { rounds: 0, writes: 0, acknowledged: 0, 'in-flight-at-kill': 0, 'torn-tails': 0, 'integrity-ok': 0, unexpected: 0, lost: 0 };
    const unexpected: string[] = [];
    for (let round = 0; round < total; round++) {
      const client = await start();
      let running = true;
      let ackedThisRound = 0;
      // One writer per slot, each on its own objects: create, then updates with counter 1, 2, ...
      const writers = Array.from({ length: WRITERS }, async (_, w) => {
        for (let i = 0; running; i++) {
          const name = `w${w}-o${i % OBJECTS_PER_WRITER}`;
          // A create whose answer the crash took may or may not be stored: create again (409 tells).
          const exists = history.acked.has(name);
          const counter = exists ? (history.attempted.get(name) ?? 0) + 1 : 0;
          history.attempted.set(name, Math.max(counter, history.attempted.get(name) ?? 0));
          counts.writes++;
          const a = exists
            ? await client.request('PUT', `/api/v1/configs/${name}`, configBody(name, counter), 10_000)
            : await client.request('POST', '/api/v1/configs', configBody(name, counter), 10_000);
          if (a.status === 200 || a.status === 201) {
            history.acked.set(name, Math.max(counter, history.acked.get(name) ?? 0));
            counts.acknowledged++;
            ackedThisRound++;
          } else if (a.status === 0 || !running) {
            counts['in-flight-at-kill']++;
            return;
          } else if (a.status === 409 && !exists) {
            history.acked.set(name, history.acked.get(name) ?? 0); // it is stored: from now on, updates
          } else {
            counts.unexpected++;
            unexpected.push(`${a.status} ${a.text.slice(0, 200)}`);
          }
        }
      });
      // Kill once the load is well under way, at a random point.
      const killAfter = 100 + Math.floor(Math.random() * 300);
      const deadline = Date.now() + 30_000;
      while (ackedThisRound < killAfter && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await server?.kill9();
      running = false;
      await Promise.all(writers);
      const wal = path.join(dir, 'state.db-wal');
      if (round % 2 === 1 && existsSync(wal)) {
        // A frame header (24 bytes) and part of a page: a write the crash cut short.
        appendFileSync(wal, randomBytes(24 + Math.floor(Math.random() * 4096)));
        counts['torn-tails']++;
      }
      const copy = checkCopy(dir);
      if (copy.integrity === 'ok') counts['integrity-ok']++;
      assert.equal(copy.integrity, 'ok', `round ${round}: integrity_check of the crashed file`);
      assert.deepEqual(violations(history, copy.counters), [], `round ${round}: the crashed file, read directly`);
      counts.rounds++;
    }
    // The last crash's file, recovered by the server itself and read through the API.
    const client = await start();
    const listed = await client.request('GET', '/api/v1/configs');
    assert.equal(listed.status, 200, listed.text.slice(0, 200));
    const items = (listed.json as { items: { metadata: { name: string; annotations?: Record<string, string> } }[] }).items;
    const stored = new Map(items.map((o) => [o.metadata.name, Number(o.metadata.annotations?.['chaos/counter'] ?? NaN)]));
    const lost = violations(history, stored);
    counts.lost = lost.length;
    reportCounts('store-torn-wal', counts);
    assert.deepEqual(lost, [], 'acknowledged writes missing or wrong after the restart');
    assert.deepEqual(unexpected, [], 'answers other than 200/201 while the server was up');
  });
});
