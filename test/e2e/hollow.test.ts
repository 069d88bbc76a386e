/**
 * Hollow nodes against a real server (issue 4, part 3): `flotilla agent --simulate 20` as a
 * child process joins a real `runServer` (SQLite, controllers, HTTPS) with a real join token;
 * 20 Nodes register, labelled hollow, and become ready; a service of 60 replicas reaches 60
 * running on them; kill -9 of the hollow process makes its nodes go down and their tasks
 * orphaned (when the node lifecycle controller is wired into the server).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NodeObject, Task } from '../../src/api/kinds.js';
import { ApiClient } from '../../src/client/index.js';
import { newJoinToken } from '../../src/server/join/token.js';
import { runServer, type RunningServer } from '../../src/server/run.js';
import { eventually } from '../helpers/flotilla.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const COUNT = 20;
const REPLICAS = 60;

/** True when the server's controllers include the node lifecycle controller (issue 4 part 2). */
function nodeLifecycleWired(): boolean {
  try {
    return /controllers?\/node\/|\.\/node\//.test(readFileSync(path.join(ROOT, 'src/controllers/index.ts'), 'utf8'));
  } catch {
    return false;
  }
}

describe('hollow nodes: flotilla agent --simulate against a real server', { timeout: 180_000 }, () => {
  let dir: string;
  let server: RunningServer;
  let admin: ApiClient;
  let agent: ChildProcess | undefined;
  let agentErr = '';

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flotilla-hollow-e2e-'));
    server = await runServer({ dataDir: path.join(dir, 'server'), listen: '127.0.0.1:0', store: 'sqlite', sqliteSynchronous: 'normal', log: () => undefined });
    admin = ApiClient.fromConfigFile(server.adminConfigPath);
    const { token, object } = newJoinToken(server.pki.caFingerprint(), 'worker', 10 * 60_000);
    await server.store.create({ ...object, metadata: { ...object.metadata, uid: `e2e-${object.metadata.name}`, creationTimestamp: new Date().toISOString(), generation: 1 } });
    agent = spawn(process.execPath, [
      '--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'agent',
      '--server', server.url, '--token', token, '--simulate', String(COUNT),
      '--name', 'sim', '--label', 'zone=z1', '--data-dir', path.join(dir, 'hollow'), '--heartbeat-ms', '1000',
    ], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const child = agent;
    child.stderr?.on('data', (d: Buffer) => { agentErr += d.toString(); });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`hollow agent not ready within 60 s: ${agentErr}`)), 60_000);
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (/hollow nodes ready/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`hollow agent exited with ${code}: ${agentErr}`)); });
    });
  });

  after(async () => {
    if (agent !== undefined && agent.exitCode === null && agent.signalCode === null) {
      const exited = new Promise((r) => agent?.once('exit', r));
      process.kill(agent.pid as number, 'SIGKILL');
      await exited;
    }
    await admin?.close();
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('registers 20 ready nodes, labelled hollow, and says hollow in every log line', async () => {
    const nodes = await eventually('20 ready hollow nodes', 30_000, async () => {
      const items = (await admin.list('Node')).items as NodeObject[];
      const ready = items.filter((n) => n.status?.state === 'ready');
      return ready.length === COUNT ? items : undefined;
    });
    assert.deepEqual(nodes.map((n) => n.metadata.name).sort(), Array.from({ length: COUNT }, (_, i) => `sim-${String(i).padStart(2, '0')}`));
    for (const n of nodes) {
      assert.equal(n.metadata.labels['flotilla.dev/hollow'], 'true');
      assert.equal(n.metadata.labels.zone, 'z1');
      assert.equal(n.status?.capacity.cpu, '4');
    }
    // Heartbeats move on.
    const first = new Map(nodes.map((n) => [n.metadata.name, n.status?.heartbeat]));
    await eventually('fresh heartbeats from every node', 10_000, async () => {
      const items = (await admin.list('Node')).items as NodeObject[];
      return items.every((n) => n.status?.heartbeat !== first.get(n.metadata.name)) ? true : undefined;
    });
    const lines = agentErr.split('\n').filter((l) => l !== '');
    assert.ok(lines.length > 0);
    for (const l of lines) assert.match(l, /^hollow: /, `log line says hollow: ${l}`);
  });

  it('runs a service of 60 replicas to 60 running tasks on the hollow nodes', async () => {
    const results = await admin.apply([{ kind: 'Service', metadata: { name: 'big', namespace: 'default' }, spec: { image: '127.0.0.1:1/never/pulled:1', replicas: REPLICAS } }]);
    assert.equal(results.length, 1);
    const running = await eventually(`${REPLICAS} running tasks`, 60_000, async () => {
      const ts = ((await admin.list('Task', { namespace: 'default' })).items as Task[]).filter((t) => t.spec.service === 'big' && t.status?.state === 'running');
      return ts.length === REPLICAS ? ts : undefined;
    });
    const used = new Set(running.map((t) => t.spec.node));
    for (const n of used) assert.match(n, /^sim-\d\d$/);
    assert.ok(used.size > 1, `spread over several nodes (${used.size})`);
    for (const t of running) assert.ok((t.status?.pid ?? 0) >= 1_000_000, 'a fake pid');
  });

  it('kill -9 of the hollow agent: its nodes go down and their tasks are orphaned', async (t) => {
    const exited = new Promise((r) => agent?.once('exit', r));
    process.kill(agent?.pid as number, 'SIGKILL');
    await exited;
    if (!nodeLifecycleWired()) {
      t.skip('the node lifecycle controller (src/controllers/node/) is not wired into the server yet');
      return;
    }
    await eventually('every hollow node down', 30_000, async () => {
      const items = (await admin.list('Node')).items as NodeObject[];
      return items.length === COUNT && items.every((n) => n.status?.state === 'down') ? true : undefined;
    });
    await eventually('every task of the killed nodes orphaned', 30_000, async () => {
      const ts = ((await admin.list('Task', { namespace: 'default' })).items as Task[]).filter((x) => x.spec.service === 'big' && x.spec.node.startsWith('sim-'));
      const live = ts.filter((x) => x.status?.state === 'running');
      return live.length === 0 && ts.some((x) => x.status?.state === 'orphaned') ? true : undefined;
    });
  });
});
