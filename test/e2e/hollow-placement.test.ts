/**
 * Issue "Scheduler and node lifecycle", placement end to end with hollow (simulated) nodes
 * against a real server: three hollow agent processes play three data centers (2 nodes each);
 * 9 replicas spread 3/3/3; a constraint keeps a service in one data center; a NoSchedule taint
 * keeps tasks off a node unless tolerated, and the pending task says why; a global service
 * runs one task per node and follows a node that joins; drain moves tasks off a node.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NodeObject, Task } from '../../src/api/kinds.js';
import { parseManifests } from '../../src/api/manifest.js';
import { ApiClient } from '../../src/client/index.js';
import { newJoinToken } from '../../src/server/join/token.js';
import { runServer, type RunningServer } from '../../src/server/run.js';
import { eventually, flotilla } from '../helpers/flotilla.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('placement with hollow nodes: spread, constraints, taints, global, drain', { timeout: 240_000 }, () => {
  let dir: string;
  let server: RunningServer;
  let admin: ApiClient;
  let token: string;
  const agents: ChildProcess[] = [];

  async function startHollow(name: string, count: number, dc: string): Promise<void> {
    const child = spawn(process.execPath, [
      '--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'agent', '--server', server.url, '--token', token,
      '--simulate', String(count), '--name', name, '--label', `dc=${dc}`, '--data-dir', path.join(dir, name), '--heartbeat-ms', '1000',
    ], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    agents.push(child);
    let err = '';
    child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`hollow agent ${name} not ready: ${err}`)), 60_000);
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (/hollow nodes ready/.test(out)) { clearTimeout(timer); resolve(); }
      });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`hollow agent ${name} exited ${code}: ${err}`)); });
    });
  }

  const apply = async (yaml: string): Promise<void> => { await admin.apply(parseManifests(yaml, 'test.yaml')); };
  const tasksOf = async (service: string): Promise<Task[]> => (await admin.list('Task', { labelSelector: { service } })).items as Task[];
  const live = (ts: Task[]): Task[] => ts.filter((t) => t.spec.desiredState === 'running' && t.status?.state === 'running');
  const dcOf = (node: string): string => node.slice(2, 3);

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flotilla-hollow-place-'));
    server = await runServer({ dataDir: path.join(dir, 'server'), listen: '127.0.0.1:0', store: 'sqlite', log: () => undefined });
    admin = ApiClient.fromConfigFile(server.adminConfigPath);
    const t = newJoinToken(server.pki.caFingerprint(), 'worker', 10 * 60_000);
    token = t.token;
    await server.store.create({ ...t.object, metadata: { ...t.object.metadata, uid: `e2e-${t.object.metadata.name}`, creationTimestamp: new Date().toISOString(), generation: 1 } });
    for (const dc of ['a', 'b', 'c']) await startHollow(`dc${dc}`, 2, dc);
  });

  after(async () => {
    for (const a of agents) {
      if (a.exitCode === null && a.signalCode === null) {
        const exited = new Promise((r) => a.once('exit', r));
        a.kill('SIGKILL');
        await exited;
      }
    }
    await admin?.close();
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('spreads 9 replicas 3/3/3 over three data centers', async () => {
    await apply('kind: Service\nmetadata: {name: spread}\nspec:\n  image: 127.0.0.1:5000/x:1\n  replicas: 9\n  placement: {spread: ["node.labels.dc"]}\n');
    const ts = await eventually('9 running', 60_000, async () => { const l = live(await tasksOf('spread')); return l.length === 9 ? l : undefined; });
    const perDc: Record<string, number> = {};
    for (const t of ts) perDc[dcOf(t.spec.node)] = (perDc[dcOf(t.spec.node)] ?? 0) + 1;
    assert.deepEqual(perDc, { a: 3, b: 3, c: 3 });
  });

  it('keeps a constrained service inside its data center', async () => {
    await apply('kind: Service\nmetadata: {name: only-b}\nspec:\n  image: 127.0.0.1:5000/x:1\n  replicas: 4\n  placement: {constraints: ["node.labels.dc == b"]}\n');
    const ts = await eventually('4 running', 60_000, async () => { const l = live(await tasksOf('only-b')); return l.length === 4 ? l : undefined; });
    assert.ok(ts.every((t) => dcOf(t.spec.node) === 'b'), ts.map((t) => t.spec.node).join(','));
  });

  it('keeps tasks off a tainted node unless they tolerate it, and says why', async () => {
    const node = (await admin.get({ kind: 'Node', namespace: '', name: 'dcc-0' })) as NodeObject;
    await admin.updateSpec({ ...node, spec: { ...node.spec, taints: [{ key: 'gpu', value: 'yes', effect: 'NoSchedule' }] } });
    await apply('kind: Service\nmetadata: {name: pinned}\nspec:\n  image: 127.0.0.1:5000/x:1\n  replicas: 1\n  placement: {constraints: ["node.name == dcc-0"]}\n');
    const why = await eventually('a pending reason', 30_000, async () => {
      const t = (await tasksOf('pinned'))[0];
      return t?.status?.state === 'pending' && /taint/.test(t.status.message ?? '') ? t.status.message : undefined;
    });
    assert.match(why ?? '', /^0\/\d+ nodes: .*taint gpu=yes:NoSchedule/);
    const described = await flotilla(['describe', 'task', (await tasksOf('pinned'))[0]!.metadata.name], { config: server.adminConfigPath });
    assert.match(described.stdout, /taint/);
    await apply('kind: Service\nmetadata: {name: pinned}\nspec:\n  image: 127.0.0.1:5000/x:1\n  replicas: 1\n  placement:\n    constraints: ["node.name == dcc-0"]\n    tolerations: [{key: gpu, operator: Equal, value: "yes", effect: NoSchedule}]\n');
    await eventually('the tolerating task runs on dcc-0', 60_000, async () => (live(await tasksOf('pinned')).some((t) => t.spec.node === 'dcc-0') ? true : undefined));
  });

  it('runs a global service on every node and follows a node that joins', async () => {
    await apply('kind: Service\nmetadata: {name: agentd}\nspec:\n  image: 127.0.0.1:5000/x:1\n  mode: global\n  placement: {tolerations: [{key: gpu, operator: Exists}]}\n');
    await eventually('6 global tasks', 60_000, async () => (new Set(live(await tasksOf('agentd')).map((t) => t.spec.node)).size === 6 ? true : undefined));
    await startHollow('dcd', 1, 'd');
    await eventually('7 global tasks', 60_000, async () => (new Set(live(await tasksOf('agentd')).map((t) => t.spec.node)).size === 7 ? true : undefined));
  });

  it('drains a node: its replicated tasks run elsewhere', async () => {
    const r = await flotilla(['node', 'drain', 'dca-0'], { config: server.adminConfigPath });
    assert.equal(r.code, 0, r.stderr);
    await eventually('nothing of spread desired on dca-0, 9 running', 60_000, async () => {
      const ts = await tasksOf('spread');
      const l = live(ts);
      return l.length === 9 && !ts.some((t) => t.spec.node === 'dca-0' && t.spec.desiredState === 'running') ? true : undefined;
    });
  });
});
