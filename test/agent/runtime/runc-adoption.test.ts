/**
 * Real runc + conmon: a second runtime instance over the same state (an agent restart) lists
 * the running containers with their annotations, gets their exit codes, stops and removes them.
 * The containers' monitor is not the agent's child, so nothing depends on the first instance.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { runtimeWorld, type RuntimeWorld } from './harness.js';

const T = { timeout: 40_000 };

async function parentPid(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

describe('runc runtime adoption after an agent restart', { timeout: 120_000 }, () => {
  let w: RuntimeWorld;
  before(async () => {
    w = await runtimeWorld();
  });
  after(async () => {
    await w.cleanup();
  });

  it('a new instance sees running containers with their annotations and gets their exit codes', T, async () => {
    const first = w.runtime;
    await first.prepare(w.spec('adopt-exit', ['sh', '-c', 'echo started; sleep 1.5; exit 7'], { annotations: { 'flotilla.task': 't-1', 'flotilla.service': 'web' } }));
    await first.prepare(w.spec('adopt-stop', ['sleep', '60'], { annotations: { 'flotilla.task': 't-2' } }));
    await first.prepare(w.spec('adopt-prepared', ['true'], { annotations: { 'flotilla.task': 't-3' } }));
    const { pid } = await first.start('adopt-exit');
    await first.start('adopt-stop');
    const conmonPid = Number(await readFile(first.layout.file('adopt-exit', 'conmon.pid'), 'utf8'));
    assert.notEqual(await parentPid(conmonPid), process.pid, 'the monitor is not the agent\'s child');
    await first.background.stop(); // the agent goes away

    const second = w.newInstance();
    const listed = await second.list();
    const byId = new Map(listed.map((c) => [c.id, c]));
    assert.deepEqual(byId.get('adopt-exit'), { id: 'adopt-exit', status: 'running', pid, annotations: { 'flotilla.task': 't-1', 'flotilla.service': 'web' } });
    assert.equal(byId.get('adopt-stop')?.status, 'running');
    assert.deepEqual(byId.get('adopt-prepared'), { id: 'adopt-prepared', status: 'prepared', annotations: { 'flotilla.task': 't-3' } });

    const exit = await second.wait('adopt-exit');
    assert.equal(exit.exitCode, 7);
    assert.equal(exit.oomKilled, false);
    const logs: string[] = [];
    for await (const e of second.readLogs('adopt-exit')) logs.push(e.line);
    assert.deepEqual(logs, ['started']);

    await second.stop('adopt-stop', 200);
    assert.equal((await second.wait('adopt-stop')).exitCode, 137);
    for (const c of await second.list()) await second.remove(c.id);
    assert.deepEqual(await second.list(), []);
  });

  it('an exit that happened while no agent ran is still known afterwards', T, async () => {
    const first = w.newInstance();
    await first.prepare(w.spec('quick', ['sh', '-c', 'exit 5']));
    await first.start('quick');
    await first.background.stop();
    await new Promise((r) => setTimeout(r, 500)); // it exits while "no agent runs"
    const second = w.newInstance();
    const st = await second.state('quick');
    assert.equal(st?.status, 'stopped');
    assert.equal(st?.exit?.exitCode, 5);
    assert.equal((await second.wait('quick')).exitCode, 5);
    await second.remove('quick');
  });

  it('wait resolves with "monitor lost" when conmon was killed without writing an exit', T, async () => {
    const rt = w.newInstance();
    await rt.prepare(w.spec('lost', ['sleep', '60']));
    await rt.start('lost');
    const conmonPid = Number(await readFile(rt.layout.file('lost', 'conmon.pid'), 'utf8'));
    process.kill(conmonPid, 'SIGKILL');
    const exit = await rt.wait('lost');
    assert.equal(exit.exitCode, 255);
    assert.match(exit.message ?? '', /monitor/);
    await rt.remove('lost');
    assert.equal(await rt.state('lost'), undefined);
  });
});
