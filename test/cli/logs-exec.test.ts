/**
 * `flotilla logs` and `flotilla exec` in-process against a hand-written fake client: targets,
 * query, stream routing (stdout/stderr), service prefixes, error frames, exit codes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../../src/cli/program.js';
import { NotFoundError } from '../../src/api/errors.js';
import type { ExecRequest, LogFrame, LogQuery } from '../../src/api/frames.js';
import type { ExecOutcome, ExecSinks, LogTarget } from '../../src/client/streams.js';
import { FakeClient, fakeDeps } from './fake-client.js';

/** FakeClient plus the two streaming calls, recording what they were asked. */
class StreamingFake extends FakeClient {
  asked: string[] = [];
  frames: LogFrame[] = [];
  outcome: ExecOutcome = { exitCode: 0 };

  async *logs(target: LogTarget, q: LogQuery): AsyncGenerator<LogFrame> {
    this.asked.push(`logs ${target.kind}/${target.name} ns=${target.namespace ?? '-'} follow=${q.follow} tail=${q.tail ?? '-'}`);
    if (target.name === 'missing') throw new NotFoundError('task missing not found in namespace default');
    yield* this.frames;
  }

  exec(task: { name: string; namespace?: string }, req: ExecRequest, sinks: ExecSinks): Promise<ExecOutcome> {
    this.asked.push(`exec ${task.name} ns=${task.namespace ?? '-'} ${JSON.stringify(req)}`);
    sinks.stdout(Buffer.from('h'));
    sinks.stdout(Buffer.from([0xc3]));
    sinks.stdout(Buffer.from([0xa9, 0x0a]));
    sinks.stderr(Buffer.from('warn\n'));
    return Promise.resolve(this.outcome);
  }
}

async function run(argv: string[], client: StreamingFake): Promise<{ code: number; out: string; err: string }> {
  const { deps, captured } = fakeDeps(client);
  const code = await runCli(argv, deps);
  return { code, ...captured };
}

void describe('logs and exec commands', { timeout: 30_000 }, () => {
  void it('logs TASK: stdout lines to stdout, stderr lines to stderr, options passed on', async () => {
    const c = new StreamingFake([]);
    c.frames = [{ stream: 'stdout', line: 'a', time: 't' }, { stream: 'stderr', line: 'b', time: 't' }, { stream: 'stdout', line: '', time: 't' }];
    const r = await run(['logs', 'web-1', '--tail', '5', '-f', '-n', 'prod'], c);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'a\n\n');
    assert.equal(r.err, 'b\n');
    assert.deepEqual(c.asked, ['logs task/web-1 ns=prod follow=true tail=5']);
  });

  void it('logs service/NAME prefixes lines; a failed task is reported and makes the exit 1', async () => {
    const c = new StreamingFake([]);
    c.frames = [
      { stream: 'stdout', line: 'x', time: 't', task: 'web-1' },
      { error: { code: 'Unavailable', message: 'node n2 is down' }, task: 'web-2' },
      { stream: 'stderr', line: 'y', time: 't', task: 'web-3' },
    ];
    const r = await run(['logs', 'service/web'], c);
    assert.equal(r.code, 1);
    assert.equal(r.out, '[web-1] x\n');
    assert.equal(r.err, '[web-3] y\nerror: task web-2: node n2 is down\n');
    assert.deepEqual(c.asked, ['logs service/web ns=- follow=false tail=-']);
  });

  void it('logs refuses other kinds and reports a missing task in one line', async () => {
    const c = new StreamingFake([]);
    const bad = await run(['logs', 'node/n1'], c);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /expected TASK or service\/NAME, found kind "node"/);
    const missing = await run(['logs', 'missing'], c);
    assert.equal(missing.code, 1);
    assert.equal(missing.err, 'error: task missing not found in namespace default\n');
  });

  void it('exec passes the command after -- and exits with its code', async () => {
    const c = new StreamingFake([]);
    c.outcome = { exitCode: 42 };
    const r = await run(['exec', 'web-1', '-n', 'prod', '--', 'sh', '-c', 'exit 42'], c);
    assert.equal(r.code, 42);
    assert.equal(r.out, 'hé\n');
    assert.equal(r.err, 'warn\n');
    assert.deepEqual(c.asked, ['exec web-1 ns=prod {"command":["sh","-c","exit 42"]}']);
    c.outcome = { exitCode: 0 };
    assert.equal((await run(['exec', 'web-1', '--', 'true'], c)).code, 0);
    c.outcome = { exitCode: 137, timedOut: true };
    const slow = await run(['exec', 'web-1', '--timeout', '2', '--', 'sleep', '9'], c);
    assert.equal(slow.code, 137);
    assert.match(slow.err, /error: command killed after 2 s/);
  });
});
