/**
 * The agent endpoint over real mutual TLS with a hand-written fake runtime, called through the
 * server's AgentDialer: only the server's certificate gets in, the agent must be the node the
 * server meant, logs (live, tail, follow, archived) and exec frames, and clean errors.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConflictError, ForbiddenError, NotFoundError, UnavailableError } from '../../../src/api/errors.js';
import { readFrames } from '../../../src/api/frames.js';
import { startAgentEndpoint, type AgentEndpoint } from '../../../src/agent/http/server.js';
import type { ContainerRuntime, ContainerState, ExecOptions, ExecResult, LogEntry, ReadLogsOptions } from '../../../src/agent/runtime/runtime.js';
import { archiveLogs } from '../../../src/agent/tasks/log-archive.js';
import { ClusterPki, createNodeCsr } from '../../../src/server/pki/index.js';
import { AgentDialer, type AgentTarget } from '../../../src/server/proxy/agent-dialer.js';

/** Records calls; containers `default_run` (running) and `default_done` (stopped). */
class FakeRuntime implements Partial<ContainerRuntime> {
  readonly calls: string[] = [];
  execAborted = false;
  lines: LogEntry[] = [1, 2, 3].map((i) => ({ stream: i === 2 ? 'stderr' : 'stdout', line: `line ${i}`, time: `2024-01-01T00:00:0${i}Z` }));

  state(id: string): Promise<ContainerState | undefined> {
    if (id === 'default_run') return Promise.resolve({ id, status: 'running', pid: 42, annotations: {} });
    if (id === 'default_done') return Promise.resolve({ id, status: 'stopped', annotations: {}, exit: { exitCode: 1, oomKilled: false, finishedAt: '' } });
    return Promise.resolve(undefined);
  }

  async *readLogs(id: string, opts: ReadLogsOptions = {}): AsyncGenerator<LogEntry> {
    this.calls.push(`logs ${id} tail=${opts.tail ?? '-'} follow=${opts.follow === true}`);
    yield* opts.tail !== undefined ? this.lines.slice(this.lines.length - opts.tail) : this.lines;
    if (opts.follow !== true) return;
    yield { stream: 'stdout', line: 'followed', time: '2024-01-01T00:00:09Z' };
    await new Promise<void>((r) => opts.signal?.addEventListener('abort', () => r(), { once: true }));
  }

  async exec(id: string, cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    this.calls.push(`exec ${id} ${cmd.join(' ')}`);
    if (cmd[0] === 'hang') {
      await new Promise<void>((r) => opts.signal?.addEventListener('abort', () => r(), { once: true }));
      this.execAborted = true;
      return { exitCode: 137 };
    }
    opts.stdout?.write(Buffer.from('out\n'));
    opts.stderr?.write(Buffer.from([0xff, 0x00]));
    return { exitCode: 3 };
  }
}

async function collect(res: AsyncIterable<Buffer>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const f of readFrames(res)) out.push(f);
  return out;
}

void describe('agent endpoint (mTLS, fake runtime)', { timeout: 60_000 }, () => {
  let dir: string;
  let pki: ClusterPki;
  let endpoint: AgentEndpoint;
  let dialer: AgentDialer;
  let target: AgentTarget;
  let nodeCreds: { certPem: string; keyPem: string };
  const runtime = new FakeRuntime();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-agent-http-'));
    pki = await ClusterPki.loadOrCreate(join(dir, 'pki'));
    const csr = await createNodeCsr('n1');
    nodeCreds = { certPem: await pki.signNodeCsr(csr.csrPem, 'n1', 3_600_000), keyPem: csr.keyPem };
    const logDir = join(dir, 'logs');
    await mkdir(join(logDir, 'default_old'), { recursive: true });
    await writeFile(join(logDir, 'default_old', 'default_old.log'), '2024-01-01T00:00:01.5Z stdout F old 1\n2024-01-01T00:00:02Z stderr P old \n2024-01-01T00:00:02Z stderr F 2\n');
    await archiveLogs(logDir, 'default_old');
    endpoint = await startAgentEndpoint({ port: 0, ...nodeCreds, caPem: pki.caCertPem, runtime: runtime as unknown as ContainerRuntime, logDir });
    dialer = new AgentDialer(pki);
    target = { node: 'n1', address: '127.0.0.1', port: endpoint.address.port };
  });

  after(async () => {
    await endpoint?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  void it('streams the logs of a running container, with tail', async () => {
    const all = await collect(await dialer.open(target, 'GET', '/containers/default_run/logs', undefined, AbortSignal.timeout(10_000)));
    assert.deepEqual(all, runtime.lines);
    const last = await collect(await dialer.open(target, 'GET', '/containers/default_run/logs?tail=1', undefined, AbortSignal.timeout(10_000)));
    assert.deepEqual(last, [runtime.lines[2]]);
    assert.ok(runtime.calls.includes('logs default_run tail=1 follow=false'));
  });

  void it('follows until the caller goes away', async () => {
    const ac = new AbortController();
    const res = await dialer.open(target, 'GET', '/containers/default_run/logs?follow=1&tail=0', undefined, ac.signal);
    const got: unknown[] = [];
    try {
      for await (const f of readFrames(res)) {
        got.push(f);
        if (got.length === 1) ac.abort();
      }
    } catch {
      // aborted by us
    }
    assert.deepEqual(got, [{ stream: 'stdout', line: 'followed', time: '2024-01-01T00:00:09Z' }]);
  });

  void it('reads the archive of a removed container', async () => {
    const all = await collect(await dialer.open(target, 'GET', '/containers/default_old/logs', undefined, AbortSignal.timeout(10_000)));
    assert.deepEqual(all, [
      { stream: 'stdout', line: 'old 1', time: '2024-01-01T00:00:01.5Z' },
      { stream: 'stderr', line: 'old 2', time: '2024-01-01T00:00:02Z' },
    ]);
    await assert.rejects(dialer.open(target, 'GET', '/containers/default_none/logs', undefined, AbortSignal.timeout(10_000)), (e: unknown) => e instanceof NotFoundError && /node n1: container default_none not found/.test(e.message));
  });

  void it('runs exec and ends with the exit code; refuses stopped and missing containers', async () => {
    const frames = await collect(await dialer.open(target, 'POST', '/containers/default_run/exec', { command: ['sh', '-c', 'x'] }, AbortSignal.timeout(10_000)));
    assert.deepEqual(frames, [{ stream: 'stdout', data: Buffer.from('out\n').toString('base64') }, { stream: 'stderr', data: Buffer.from([0xff, 0]).toString('base64') }, { exit: 3 }]);
    await assert.rejects(dialer.open(target, 'POST', '/containers/default_done/exec', { command: ['true'] }, AbortSignal.timeout(10_000)), ConflictError);
    await assert.rejects(dialer.open(target, 'POST', '/containers/default_gone/exec', { command: ['true'] }, AbortSignal.timeout(10_000)), /is gone/);
    await assert.rejects(dialer.open(target, 'POST', '/containers/default_run/exec', { command: [] }, AbortSignal.timeout(10_000)), /command: expected a non-empty list/);
  });

  void it('kills an exec whose caller went away', async () => {
    const ac = new AbortController();
    const res = await dialer.open(target, 'POST', '/containers/default_run/exec', { command: ['hang'] }, ac.signal);
    res.on('error', () => undefined);
    ac.abort();
    const deadline = Date.now() + 5_000;
    while (!runtime.execAborted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(runtime.execAborted);
  });

  void it('refuses an agent that is not the node the server meant', async () => {
    await assert.rejects(
      dialer.open({ ...target, node: 'n2' }, 'GET', '/containers/default_run/logs', undefined, AbortSignal.timeout(10_000)),
      (e: unknown) => e instanceof UnavailableError && /node n2 is unreachable.*certificate is for "node:n1", not node:n2/.test(e.message),
    );
  });

  void it('answers only the server: no certificate fails the handshake, a node certificate gets 403', async () => {
    const get = (opts: https.RequestOptions): Promise<number> => new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: target.port, path: '/containers/default_run/logs', ca: pki.caCertPem, agent: false, checkServerIdentity: () => undefined, ...opts }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    await assert.rejects(get({}));
    assert.equal(await get({ cert: nodeCreds.certPem, key: nodeCreds.keyPem }), new ForbiddenError('').status);
    const other = await pki.issueClientCertificate('flotilla:server', 60_000);
    assert.equal(await get({ cert: other.certPem, key: other.keyPem }), 200);
  });

  void it('stop() ends streams in flight', async () => {
    const res = await dialer.open(target, 'GET', '/containers/default_run/logs?follow=1&tail=0', undefined, AbortSignal.timeout(10_000));
    const done = collect(res).catch(() => 'cut');
    const t0 = Date.now();
    await endpoint.stop();
    await done;
    assert.ok(Date.now() - t0 < 3_000);
  });
});
