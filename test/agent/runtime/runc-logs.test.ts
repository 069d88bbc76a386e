/**
 * Real runc + conmon: stdout and stderr are captured to files, rotated by size without losing
 * lines, and read back in order across rotated files, with tail and follow.
 */
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LogEntry } from '../../../src/agent/runtime/runtime.js';
import { runtimeWorld, type RuntimeWorld } from './harness.js';

const T = { timeout: 60_000 };

async function collect(it: AsyncIterable<LogEntry>): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
}

function numbers(entries: LogEntry[], stream: 'stdout' | 'stderr', prefix: string): number[] {
  return entries.filter((e) => e.stream === stream).map((e) => Number(e.line.replace(prefix, '')));
}

function assertContiguous(ns: number[], last: number): void {
  assert.ok(ns.length > 0);
  assert.equal(ns.at(-1), last);
  ns.forEach((n, i) => assert.equal(n, ns[0]! + i, `gap or reorder at ${i}: ${ns.slice(Math.max(0, i - 2), i + 2).join(',')}`));
}

describe('runc runtime logs', { timeout: 180_000 }, () => {
  let w: RuntimeWorld;
  before(async () => {
    w = await runtimeWorld();
  });
  after(async () => {
    await w.cleanup();
  });

  it('captures stdout and stderr with their stream and time, long lines whole', T, async () => {
    await w.runtime.prepare(w.spec('plain', ['sh', '-c', 'echo one; echo two >&2; head -c 20000 /dev/zero | tr "\\0" x; echo; echo three']));
    await w.runtime.start('plain');
    await w.runtime.wait('plain');
    const all = await collect(w.runtime.readLogs('plain'));
    assert.deepEqual(all.filter((e) => e.stream === 'stderr').map((e) => e.line), ['two']);
    const out = all.filter((e) => e.stream === 'stdout').map((e) => e.line);
    assert.deepEqual(out.map((l) => l.length > 100 ? `x*${l.length}` : l), ['one', 'x*20000', 'three']);
    assert.ok(all.every((e) => !Number.isNaN(Date.parse(e.time))));
    const tail = await collect(w.runtime.readLogs('plain', { tail: 1 }));
    assert.deepEqual(tail.map((e) => e.line), ['three']);
  });

  it('rotates by size, keeps maxFiles files, and loses no line while rotating', T, async () => {
    const dir = join(w.stateDir, 'rotlogs');
    await w.runtime.prepare(w.spec('rot', ['sh', '-c', 'for i in $(seq 1 400); do echo "out $i"; echo "err $i" >&2; usleep 2000; done'],
      { log: { dir, maxBytes: 4096, maxFiles: 3 } }));
    await w.runtime.start('rot');
    await w.runtime.wait('rot');
    const base = join(dir, 'rot.log');
    assert.ok(existsSync(base) && existsSync(`${base}.1`) && existsSync(`${base}.2`), 'current + 2 rotated files');
    assert.equal(existsSync(`${base}.3`), false);
    for (const f of [`${base}.1`, `${base}.2`]) assert.ok(statSync(f).size < 4096 * 4, `${f} is bounded`);
    const all = await collect(w.runtime.readLogs('rot'));
    const out = numbers(all, 'stdout', 'out ');
    const err = numbers(all, 'stderr', 'err ');
    assertContiguous(out, 400);
    assertContiguous(err, 400);
    assert.ok(out[0]! > 1, 'the oldest lines were rotated away');
    const tail = await collect(w.runtime.readLogs('rot', { tail: 4 }));
    assert.deepEqual(tail.map((e) => e.line).sort(), ['err 399', 'err 400', 'out 399', 'out 400']);
  });

  it('follow streams new lines across rotations and ends when the container exits', T, async () => {
    const dir = join(w.stateDir, 'followlogs');
    await w.runtime.prepare(w.spec('follow', ['sh', '-c', 'for i in $(seq 1 60); do echo "line $i"; usleep 20000; done'],
      { log: { dir, maxBytes: 300, maxFiles: 50 } }));
    await w.runtime.start('follow');
    const got = await collect(w.runtime.readLogs('follow', { follow: true, signal: AbortSignal.timeout(30_000) }));
    assertContiguous(numbers(got, 'stdout', 'line '), 60);
    assert.equal(got.length, 60);
    assert.ok(existsSync(join(dir, 'follow.log.3')), 'it did rotate while following');
  });

  it('follow stops when aborted', T, async () => {
    await w.runtime.prepare(w.spec('endless', ['sh', '-c', 'while true; do echo tick; sleep 0.05; done']));
    await w.runtime.start('endless');
    const ac = new AbortController();
    let n = 0;
    for await (const e of w.runtime.readLogs('endless', { follow: true, signal: ac.signal })) {
      assert.equal(e.line, 'tick');
      if (++n === 5) ac.abort();
    }
    assert.ok(n >= 5);
    await w.runtime.remove('endless');
  });
});
