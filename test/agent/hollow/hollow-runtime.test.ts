/**
 * The hollow runtime keeps the ContainerRuntime contract the TaskSupervisor relies on, in
 * memory: lifecycle and its errors, the start delay, wait/stop/remove, logs (tail, follow),
 * exec, crash, and the supervisor's plan driven over it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { AlreadyExistsError, ConflictError, NotFoundError, ValidationError } from '../../../src/api/errors.js';
import { HollowRuntime } from '../../../src/agent/hollow/hollow-runtime.js';
import { HollowTaskImages } from '../../../src/agent/hollow/hollow-images.js';
import type { ContainerSpec, LogEntry } from '../../../src/agent/runtime/runtime.js';

const spec = (id: string): ContainerSpec => ({ id, rootfs: '/nonexistent', args: ['hollow'], annotations: { 'flotilla.task': id, 'flotilla.namespace': 'default' } });

async function collect(it: AsyncIterable<LogEntry>): Promise<string[]> {
  const lines: string[] = [];
  for await (const e of it) lines.push(e.line);
  return lines;
}

describe('HollowRuntime', { timeout: 10_000 }, () => {
  it('moves a container prepared -> created -> running -> stopped -> gone', async () => {
    const rt = new HollowRuntime({ startDelayMs: 30 });
    await rt.prepare(spec('a'));
    assert.equal((await rt.state('a'))?.status, 'prepared');
    assert.deepEqual((await rt.state('a'))?.annotations, { 'flotilla.task': 'a', 'flotilla.namespace': 'default' });
    const t0 = Date.now();
    const starting = rt.start('a');
    assert.equal((await rt.state('a'))?.status, 'created');
    const { pid } = await starting;
    assert.ok(Date.now() - t0 >= 25, 'the start delay is honoured');
    assert.ok(pid >= 1_000_000, 'fake pids are above real ones');
    assert.deepEqual(await rt.state('a'), { id: 'a', status: 'running', pid, annotations: spec('a').annotations });
    const waited = rt.wait('a');
    await rt.stop('a', 1000);
    const exit = await waited;
    assert.equal(exit.exitCode, 143);
    assert.equal(exit.signal, 'SIGTERM');
    assert.equal((await rt.state('a'))?.status, 'stopped');
    assert.equal((await rt.state('a'))?.pid, undefined);
    assert.deepEqual(await rt.wait('a'), exit, 'wait after the exit answers at once');
    await rt.remove('a');
    assert.equal(await rt.state('a'), undefined);
    assert.equal(rt.size, 0);
    await rt.remove('a'); // idempotent
  });

  it('gives distinct pids and lists every container', async () => {
    const rt = new HollowRuntime({ startDelayMs: 0 });
    await rt.prepare(spec('a'));
    await rt.prepare(spec('b'));
    const [a, b] = await Promise.all([rt.start('a'), rt.start('b')]);
    assert.notEqual(a.pid, b.pid);
    assert.deepEqual((await rt.list()).map((c) => c.id).sort(), ['a', 'b']);
  });

  it('refuses what runc refuses, with the same typed errors', async () => {
    const rt = new HollowRuntime({ startDelayMs: 0 });
    await assert.rejects(rt.prepare(spec('-bad id')), ValidationError);
    await assert.rejects(rt.prepare({ ...spec('x'), args: [] }), ValidationError);
    await rt.prepare(spec('a'));
    await assert.rejects(rt.prepare(spec('a')), AlreadyExistsError);
    await rt.start('a');
    await assert.rejects(rt.start('a'), ConflictError);
    await assert.rejects(rt.start('nope'), NotFoundError);
    await assert.rejects(rt.wait('nope'), NotFoundError);
    await assert.rejects(rt.stop('nope', 10), NotFoundError);
    await assert.rejects(rt.exec('nope', ['true']), NotFoundError);
    assert.equal(await rt.state('nope'), undefined);
  });

  it('remove kills a running container (waiters see SIGKILL) and fails a start in progress', async () => {
    const rt = new HollowRuntime({ startDelayMs: 0 });
    await rt.prepare(spec('a'));
    await rt.start('a');
    const waited = rt.wait('a');
    await rt.remove('a');
    assert.equal((await waited).exitCode, 137);
    const slow = new HollowRuntime({ startDelayMs: 50 });
    await slow.prepare(spec('b'));
    const starting = slow.start('b');
    await slow.remove('b');
    await assert.rejects(starting, NotFoundError);
    await slow.prepare(spec('c'));
    const neverStarted = slow.wait('c');
    await slow.remove('c');
    await assert.rejects(neverStarted, NotFoundError);
  });

  it('crash ends a running container with its exit code', async () => {
    const rt = new HollowRuntime({ startDelayMs: 0 });
    await rt.prepare(spec('a'));
    await rt.start('a');
    const waited = rt.wait('a');
    rt.crash('a', 3);
    assert.equal((await waited).exitCode, 3);
    assert.equal((await rt.state('a'))?.exit?.exitCode, 3);
    assert.throws(() => rt.crash('a'), ConflictError);
  });

  it('logs say hollow; tail and follow work; exec runs nothing and says so', async () => {
    const rt = new HollowRuntime({ startDelayMs: 0 });
    await rt.prepare(spec('a'));
    await rt.start('a');
    const ac = new AbortController();
    const following = collect(rt.readLogs('a', { follow: true, signal: ac.signal }));
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => { text += d.toString(); });
    assert.deepEqual(await rt.exec('a', ['cat', '/etc/hostname'], { stdout: out }), { exitCode: 0 });
    assert.match(text, /hollow/);
    await rt.stop('a', 10);
    const lines = await following; // ends with the container
    assert.equal(lines.length, 2);
    assert.match(lines[0] as string, /hollow container a started/);
    assert.match(lines[1] as string, /ended \(exit code 143, SIGTERM\)/);
    assert.deepEqual(await collect(rt.readLogs('a', { tail: 1 })), [lines[1]]);
    await assert.rejects(rt.exec('a', ['true']), ConflictError);
    assert.deepEqual(await rt.stats('a'), { memoryBytes: 0, cpuUsageNs: 0, pids: 0 });
  });

  it('a follower stops when its signal aborts', async () => {
    const rt = new HollowRuntime({ startDelayMs: 0, maxLogLines: 1 });
    await rt.prepare(spec('a'));
    await rt.start('a');
    const ac = new AbortController();
    const following = collect(rt.readLogs('a', { follow: true, signal: ac.signal }));
    setTimeout(() => ac.abort(), 20);
    assert.equal((await following).length, 1);
  });
});

describe('HollowTaskImages', () => {
  it('pulls nothing and returns an absolute, never-created rootfs', async () => {
    const images = new HollowTaskImages();
    const r = await images.prepareRootfs('a', '127.0.0.1:1/nothing:1', () => assert.fail('no progress'));
    assert.ok(r.rootfs.startsWith('/'));
    await images.releaseRootfs('a');
  });
});
