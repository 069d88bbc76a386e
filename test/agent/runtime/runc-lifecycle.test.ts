/**
 * Real runc + conmon: namespaces, process settings, exit codes, stop with and without a
 * SIGTERM handler, exec, and that remove() leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { AlreadyExistsError, ValidationError } from '../../../src/api/errors.js';
import { existingCgroupDirs } from '../../../src/agent/runtime/runc/cgroups.js';
import { ContainerRuntimeError } from '../../../src/agent/runtime/runtime.js';
import { Collect, processAlive, runtimeWorld, type RuntimeWorld } from './harness.js';

const T = { timeout: 30_000 };

async function logText(w: RuntimeWorld, id: string): Promise<string> {
  const lines: string[] = [];
  for await (const e of w.runtime.readLogs(id)) lines.push(`${e.stream}:${e.line}`);
  return lines.join('\n');
}

async function run(w: RuntimeWorld, id: string, args: string[], extra = {}): Promise<{ exitCode: number; log: string }> {
  await w.runtime.prepare(w.spec(id, args, extra));
  await w.runtime.start(id);
  const exit = await w.runtime.wait(id);
  return { exitCode: exit.exitCode, log: await logText(w, id) };
}

describe('runc runtime lifecycle', { timeout: 120_000 }, () => {
  let w: RuntimeWorld;
  const netns = `flt-test-${process.pid}`;
  before(async () => {
    w = await runtimeWorld();
  });
  after(async () => {
    try {
      execFileSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
    } catch {
      // not created
    }
    await w.cleanup();
  });

  it('runs the command as PID 1 of its own pid namespace, with its hostname', T, async () => {
    const r = await run(w, 'pidns', ['sh', '-c', 'echo "pid=$$"; hostname; ps -o pid,args; exit 0'], { hostname: 'box-one' });
    assert.equal(r.exitCode, 0);
    assert.match(r.log, /stdout:pid=1\n/);
    assert.match(r.log, /stdout:box-one/);
    assert.match(r.log, /^stdout:\s*1 sh -c/m);
  });

  it('applies env, cwd and user (by name and numeric)', T, async () => {
    const r = await run(w, 'envs', ['sh', '-c', 'echo "g=$GREETING"; pwd; id -u; id -g; id -G; echo "home=$HOME"'],
      { env: { GREETING: 'hello' }, cwd: '/home/app', user: 'app' });
    assert.equal(r.exitCode, 0);
    assert.equal(r.log, 'stdout:g=hello\nstdout:/home/app\nstdout:1000\nstdout:1000\nstdout:1000 50\nstdout:home=/home/app');
    const n = await run(w, 'numeric', ['sh', '-c', 'id -u; id -g'], { user: '1234:99' });
    assert.equal(n.log, 'stdout:1234\nstdout:99');
  });

  it('reports exit codes 0 and 3', T, async () => {
    assert.equal((await run(w, 'exit0', ['true'])).exitCode, 0);
    const three = await run(w, 'exit3', ['sh', '-c', 'exit 3']);
    assert.equal(three.exitCode, 3);
    const st = await w.runtime.state('exit3');
    assert.equal(st?.status, 'stopped');
    assert.equal(st?.exit?.exitCode, 3);
    assert.equal(st?.exit?.oomKilled, false);
  });

  it('rejects bad specs and duplicates, and reports a missing executable at start', T, async () => {
    await assert.rejects(w.runtime.prepare(w.spec('bad/id', ['true'])), ValidationError);
    await w.runtime.prepare(w.spec('dup', ['true']));
    await assert.rejects(w.runtime.prepare(w.spec('dup', ['true'])), AlreadyExistsError);
    await w.runtime.prepare(w.spec('noexe', ['/no/such/program']));
    await assert.rejects(w.runtime.start('noexe'), (err: unknown) =>
      err instanceof ContainerRuntimeError && /no such file or directory/.test(err.message));
    assert.equal((await w.runtime.state('dup'))?.status, 'prepared');
  });

  it('joins a given network namespace', T, async () => {
    execFileSync('ip', ['netns', 'add', netns]);
    const path = `/var/run/netns/${netns}`;
    const r = await run(w, 'netns', ['readlink', '/proc/self/ns/net'], { netnsPath: path });
    assert.equal(r.log, `stdout:net:[${statSync(path).ino}]`);
    const own = await run(w, 'ownns', ['readlink', '/proc/self/ns/net']);
    assert.notEqual(own.log, r.log);
  });

  it('stop: a shell that traps SIGTERM exits by itself', T, async () => {
    await w.runtime.prepare(w.spec('trap', ['sh', '-c', 'trap "echo got-term; exit 0" TERM; echo ready; while true; do sleep 0.1; done']));
    await w.runtime.start('trap');
    await waitForLog(w, 'trap', 'ready');
    const t0 = Date.now();
    await w.runtime.stop('trap', 10_000);
    assert.ok(Date.now() - t0 < 5_000, 'exited well before the grace period');
    const exit = await w.runtime.wait('trap');
    assert.equal(exit.exitCode, 0);
    assert.match(await logText(w, 'trap'), /got-term/);
  });

  it('stop: a PID 1 without a SIGTERM handler is killed after the grace period', T, async () => {
    await w.runtime.prepare(w.spec('ignore', ['sleep', '60']));
    const { pid } = await w.runtime.start('ignore');
    // Until runc's init has exec'd the command, SIGTERM still finds runc's default handler.
    for (let i = 0; i < 100 && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'sleep'; i++) await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    await w.runtime.stop('ignore', 400);
    const took = Date.now() - t0;
    assert.ok(took >= 400 && took < 8_000, `took ${took} ms`);
    const exit = await w.runtime.wait('ignore');
    assert.equal(exit.exitCode, 137);
    assert.equal(exit.signal, 'SIGKILL');
  });

  it('exec returns output and exit code; a missing command gives 127; a timeout kills it', T, async () => {
    await w.runtime.prepare(w.spec('execbox', ['sleep', '60'], { env: { FROM_SPEC: 'yes' } }));
    await w.runtime.start('execbox');
    const out = new Collect();
    const err = new Collect();
    const r = await w.runtime.exec('execbox', ['sh', '-c', 'echo "out $FROM_SPEC $EXTRA"; echo oops >&2; exit 4'], { stdout: out, stderr: err, env: { EXTRA: 'x' } });
    assert.equal(r.exitCode, 4);
    assert.equal(out.text, 'out yes x\n'); // the container's env plus the exec's
    assert.equal(err.text, 'oops\n');
    const err2 = new Collect();
    const missing = await w.runtime.exec('execbox', ['no-such-command'], { stderr: err2 });
    assert.equal(missing.exitCode, 127);
    assert.match(err2.text, /no-such-command: command not found/);
    assert.doesNotMatch(err2.text, /exec failed/);
    const t0 = Date.now();
    const slow = await w.runtime.exec('execbox', ['sleep', '30'], { timeoutMs: 300 });
    assert.deepEqual(slow, { exitCode: 137, timedOut: true });
    assert.ok(Date.now() - t0 < 5_000);
    await w.runtime.stop('execbox', 0);
  });

  it('remove leaves nothing: no runc state, cgroup, bundle, process, monitor or mount', T, async () => {
    await w.runtime.prepare(w.spec('gone', ['sleep', '60'], { limits: { memoryBytes: 64 << 20, pids: 20 } }));
    const { pid } = await w.runtime.start('gone');
    const conmonPid = Number(await readFile(w.runtime.layout.file('gone', 'conmon.pid'), 'utf8'));
    assert.ok(processAlive(pid) && processAlive(conmonPid));
    const cg = `/${w.cgroupParent}/gone`;
    assert.ok((await existingCgroupDirs(cg)).length > 0);
    await w.runtime.remove('gone');
    const runcList = execFileSync('/usr/sbin/runc', ['--root', w.runcRoot, 'list', '-q'], { encoding: 'utf8' });
    assert.doesNotMatch(runcList, /^gone$/m);
    assert.deepEqual(await existingCgroupDirs(cg), []);
    assert.equal(existsSync(w.runtime.layout.bundleDir('gone')), false);
    assert.equal(existsSync(w.runtime.layout.exitFile('gone')), false);
    assert.equal(existsSync(w.runtime.layout.defaultLogDir('gone')), false);
    assert.equal(processAlive(pid), false);
    assert.equal(processAlive(conmonPid), false);
    assert.doesNotMatch(await readFile('/proc/self/mountinfo', 'utf8'), new RegExp(w.stateDir));
    assert.equal(await w.runtime.state('gone'), undefined);
    await w.runtime.remove('gone'); // idempotent
  });

  it('after removing every container the cgroup parent is gone too', T, async () => {
    for (const c of await w.runtime.list()) await w.runtime.remove(c.id);
    assert.deepEqual(await w.runtime.list(), []);
    assert.deepEqual(await existingCgroupDirs(`/${w.cgroupParent}`), []);
  });
});

async function waitForLog(w: RuntimeWorld, id: string, text: string): Promise<void> {
  const signal = AbortSignal.timeout(10_000);
  for await (const e of w.runtime.readLogs(id, { follow: true, signal })) {
    if (e.line.includes(text)) return;
  }
  throw new Error(`log of ${id} never said ${text}`);
}
