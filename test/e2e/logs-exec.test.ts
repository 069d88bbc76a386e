/**
 * `flotilla logs` and `flotilla exec` end to end: the real CLI (child processes) against a real
 * server (runServer, SQLite) and a real agent (runAgent with runc and conmon, no CNI network)
 * joined with a token, running busybox from a real registry. The server proxies to the agent
 * endpoint over mutual TLS; nothing is faked.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Task } from '../../src/api/kinds.js';
import { runAgent, type RunningAgent } from '../../src/agent/run.js';
import { releaseRootfsDir } from '../../src/agent/image/index.js';
import { newJoinToken } from '../../src/server/join/token.js';
import { runServer, type RunningServer } from '../../src/server/run.js';
import { buildBusyboxImage } from '../helpers/images.js';
import { eventually, flotilla, manifestFile, type CliResult } from '../helpers/flotilla.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

function serviceYaml(name: string, image: string, replicas: number, script: string, restart = 'any'): string {
  return `kind: Service
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  image: ${image}
  command: ["sh", "-c", ${JSON.stringify(script)}]
  restart: {condition: ${restart}}
  stopGracePeriodSeconds: 1
`;
}

describe('flotilla logs and exec through the server and the agent', { timeout: 300_000 }, () => {
  let dir: string;
  let registry: TestRegistry | undefined;
  let server: RunningServer | undefined;
  let agent: RunningAgent | undefined;
  let config: string;
  let talkers: string[] = [];
  const agentLog: string[] = [];

  const cli = (args: string[]): Promise<CliResult> => flotilla(args, { config, timeoutMs: 60_000 });
  const tasksOf = async (service: string): Promise<Task[]> =>
    ((await server?.store.list('Task', { namespace: 'default' }))?.items as Task[] ?? []).filter((t) => t.spec.service === service);

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flotilla-logs-e2e-'));
    registry = await startRegistry();
    const image = (await buildBusyboxImage(registry.host, 'logs/busybox', '1')).ref;
    server = await runServer({ dataDir: path.join(dir, 'server'), listen: '127.0.0.1:0', store: 'sqlite', log: () => undefined });
    config = server.adminConfigPath;
    const { token, object } = newJoinToken(server.pki.caFingerprint(), 'worker', 10 * 60_000);
    await server.store.create({ ...object, metadata: { ...object.metadata, uid: `t-${object.metadata.name}`, creationTimestamp: new Date().toISOString(), generation: 1 } });
    agent = await runAgent({
      server: server.url, token, dataDir: path.join(dir, 'agent'), name: `logs-${randomBytes(3).toString('hex')}`,
      hooks: [], heartbeatMs: 1_000, log: (l) => agentLog.push(l),
    });
    const talker = serviceYaml('talker', image, 2, 'echo out-1; echo err-1 >&2; sleep 0.3; echo out-2; exec sleep 600');
    const oneshot = serviceYaml('oneshot', image, 1, 'echo done-1; echo done-2 >&2', 'none');
    const r = await cli(['apply', '-f', await manifestFile(dir, 'services.yaml', `${talker}---\n${oneshot}`)]);
    assert.equal(r.code, 0, r.stderr);
    talkers = await eventually('2 running talker tasks', 90_000, async () => {
      const ts = (await tasksOf('talker')).filter((t) => t.status?.state === 'running');
      return ts.length === 2 ? ts.map((t) => t.metadata.name).sort() : undefined;
    });
    for (const t of talkers) {
      await eventually(`output of ${t}`, 20_000, async () => ((await cli(['logs', t])).stdout.includes('out-2') ? true : undefined));
    }
  });

  after(async () => {
    await cleanUp().catch((err: unknown) => console.error(`cleanup: ${(err as Error).message}`));
  });

  /** Deletes the services and waits for their containers to go, then removes whatever is left. */
  async function cleanUp(): Promise<void> {
    if (server !== undefined && agent !== undefined) {
      for (const name of ['talker', 'oneshot']) await server.store.delete({ kind: 'Service', namespace: 'default', name }).catch(() => undefined);
      const a = agent;
      await eventually('containers removed', 30_000, async () => ((await a.runtime.list()).length === 0 ? true : undefined)).catch(() => undefined);
    }
    await agent?.stop().catch(() => undefined);
    if (agent !== undefined) {
      for (const c of await agent.runtime.list().catch(() => [])) await agent.runtime.remove(c.id).catch(() => undefined);
    }
    const containersDir = path.join(dir, 'agent', 'containers');
    for (const id of await readdir(containersDir).catch(() => [] as string[])) await releaseRootfsDir(path.join(containersDir, id)).catch(() => undefined);
    const mounts = (await readFile('/proc/mounts', 'utf8')).split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(dir));
    for (const m of mounts.reverse()) await run('umount', ['-l', m]).catch(() => undefined);
    await server?.stop().catch(() => undefined);
    await registry?.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }

  it('prints a task\'s stdout to stdout and its stderr to stderr', async () => {
    const r = await cli(['logs', talkers[0] as string]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'out-1\nout-2\n');
    assert.equal(r.stderr, 'err-1\n');
  });

  it('--tail 1 prints only the last line', async () => {
    const r = await cli(['logs', talkers[0] as string, '--tail', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'out-2\n');
    assert.equal(r.stderr, '');
  });

  it('logs service/NAME merges the tasks, each line prefixed with its task', async () => {
    const r = await cli(['logs', 'service/talker']);
    assert.equal(r.code, 0, r.stderr);
    for (const t of talkers) {
      const mine = r.stdout.split('\n').filter((l) => l.startsWith(`[${t}] `));
      assert.deepEqual(mine, [`[${t}] out-1`, `[${t}] out-2`]);
      assert.match(r.stderr, new RegExp(`^\\[${t}\\] err-1$`, 'm'));
    }
  });

  it('exec prints the command\'s output and exits with its exit code', async () => {
    const r = await cli(['exec', talkers[0] as string, '--', 'sh', '-c', 'echo hi; echo oops >&2; exit 3']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'hi\n');
    assert.equal(r.stderr, 'oops\n');
    const ok = await cli(['exec', '-n', 'default', talkers[0] as string, '--', 'hostname']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, `${talkers[0] as string}\n`);
  });

  it('--follow prints a line the container writes later', async () => {
    const task = talkers[1] as string;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--config', config, 'logs', task, '--follow'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<void>((r) => child.once('close', () => r()));
    try {
      await eventually('the backlog while following', 30_000, async () => (out.includes('out-2\n') ? true : undefined));
      const w = await cli(['exec', task, '--', 'sh', '-c', 'echo later-line > /proc/1/fd/1']);
      assert.equal(w.code, 0, w.stderr);
      await eventually('the later line while following', 15_000, async () => (out.includes('later-line\n') ? true : undefined));
      assert.equal(out, 'out-1\nout-2\nlater-line\n');
      assert.equal(child.exitCode, null, 'still following');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    }
  });

  it('logs service/NAME --follow also follows a task that starts later', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--config', config, 'logs', 'service/talker', '--follow'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<void>((r) => child.once('close', () => r()));
    try {
      await eventually('the backlog of both tasks', 30_000, async () => (talkers.every((t) => out.includes(`[${t}] out-2\n`)) ? true : undefined));
      const scaled = await cli(['scale', 'service', 'talker', '--replicas', '3']);
      assert.equal(scaled.code, 0, scaled.stderr);
      const third = await eventually('a third talker task', 60_000, async () => (await tasksOf('talker')).find((t) => !talkers.includes(t.metadata.name) && t.spec.desiredState === 'running'));
      await eventually(`the new task's lines while following`, 60_000, async () => (out.includes(`[${third.metadata.name}] out-2\n`) ? true : undefined));
      assert.equal(child.exitCode, null, 'still following');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
      await cli(['scale', 'service', 'talker', '--replicas', '2']);
    }
  });

  it('logs of a task that ended and whose container was removed are still readable', async () => {
    const ended = await eventually('the oneshot task complete', 60_000, async () => (await tasksOf('oneshot')).find((t) => t.status?.state === 'complete'));
    const id = `default_${ended.metadata.name}`;
    await eventually('its container removed', 30_000, async () => ((await agent?.runtime.state(id)) === undefined ? true : undefined));
    const r = await cli(['logs', ended.metadata.name]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'done-1\n');
    assert.equal(r.stderr, 'done-2\n');
    const ex = await cli(['exec', ended.metadata.name, '--', 'true']);
    assert.equal(ex.code, 1);
    assert.match(ex.stderr, /^error: node \S+: container \S+ is gone/m);
  });

  it('a missing task gives one clear error line', async () => {
    const r = await cli(['logs', 'no-such-task']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: task no-such-task not found in namespace default\n');
    const e = await cli(['exec', 'no-such-task', '--', 'true']);
    assert.equal(e.code, 1);
    assert.equal(e.stderr, 'error: task no-such-task not found in namespace default\n');
    const s = await cli(['logs', 'service/nope']);
    assert.equal(s.code, 1);
    assert.equal(s.stderr, 'error: service nope not found in namespace default\n');
  });
});
