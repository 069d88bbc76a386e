/**
 * Reverse uptime on hollow nodes against a real server (SQLite, controllers, HTTPS): two
 * `flotilla agent --simulate 3` processes join, `old-*` with the node label
 * flotilla.dev/max-node-age=15s, `new-*` without (no cluster age: exempt). A service of 6
 * replicas runs on them. Each old node is recycled in turn: the provisioner hook (a script
 * writing a file) is called, the node cordoned and drained (replacements first), removed, and
 * a Revocation written; the service never has fewer than 6 running tasks and never two nodes
 * recycle at once. Then `flotilla node recycle` recycles an exempt node on request.
 * (A hollow agent registers its Node again once deleted, with a new uid: the test follows uids.)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { EventObject, NodeObject, Revocation, Task } from '../../src/api/kinds.js';
import { ApiClient } from '../../src/client/index.js';
import { isRecycling } from '../../src/controllers/recycle/compute.js';
import { newJoinToken } from '../../src/server/join/token.js';
import { runServer, type RunningServer } from '../../src/server/run.js';
import { eventually } from '../helpers/flotilla.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');
const REPLICAS = 6;
const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('hollow nodes: reverse uptime recycles old nodes one at a time', { timeout: 300_000 }, () => {
  let dir: string;
  let server: RunningServer;
  let admin: ApiClient;
  const agents: ChildProcess[] = [];
  let agentErr = '';
  let hookFile = '';

  async function startHollow(token: string, name: string, labels: string[]): Promise<void> {
    const child = spawn(process.execPath, [
      '--import', 'tsx', MAIN, 'agent', '--server', server.url, '--token', token, '--simulate', '3',
      '--name', name, ...labels.flatMap((l) => ['--label', l]), '--data-dir', path.join(dir, name), '--heartbeat-ms', '1000',
    ], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    agents.push(child);
    child.stderr?.on('data', (d: Buffer) => { agentErr += d.toString(); });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`hollow agent ${name} not ready within 90 s: ${agentErr}`)), 90_000);
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (/hollow nodes ready/.test(out)) { clearTimeout(timer); resolve(); }
      });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`hollow agent ${name} exited with ${code}: ${agentErr}`)); });
    });
  }

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flotilla-hollow-recycle-'));
    hookFile = path.join(dir, 'provisioner-calls.txt');
    const hook = path.join(dir, 'provision.sh');
    writeFileSync(hook, `#!/bin/sh\necho "$1 $FLOTILLA_NODE $FLOTILLA_NODE_LABELS" >> ${hookFile}\necho asked for a replacement of "$1"\n`);
    chmodSync(hook, 0o755);
    server = await runServer({ dataDir: path.join(dir, 'server'), listen: '127.0.0.1:0', store: 'sqlite', sqliteSynchronous: 'normal', log: () => undefined, recycle: { nodeProvisioner: hook } });
    admin = ApiClient.fromConfigFile(server.adminConfigPath);
    const { token, object } = newJoinToken(server.pki.caFingerprint(), 'worker', 10 * 60_000);
    await server.store.create({ ...object, metadata: { ...object.metadata, uid: `e2e-${object.metadata.name}`, creationTimestamp: new Date().toISOString(), generation: 1 } });
    await startHollow(token, 'new', ['zone=z1']);
    await startHollow(token, 'old', ['zone=z1', 'flotilla.dev/max-node-age=15s']);
  });

  after(async () => {
    for (const a of agents) {
      if (a.exitCode !== null || a.signalCode !== null) continue;
      const exited = new Promise((r) => a.once('exit', r));
      process.kill(a.pid as number, 'SIGKILL');
      await exited;
    }
    await admin?.close();
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const nodes = async (): Promise<NodeObject[]> => (await admin.list('Node')).items as NodeObject[];
  const running = async (): Promise<number> => ((await admin.list('Task', { namespace: 'default' })).items as Task[])
    .filter((t) => t.spec.service === 'web' && t.status?.state === 'running').length;

  it('recycles the three old nodes one at a time while the service keeps 6 running tasks', async () => {
    await admin.apply([{ kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { image: '127.0.0.1:1/never/pulled:1', replicas: REPLICAS } }]);
    await eventually(`${REPLICAS} running tasks`, 60_000, async () => ((await running()) === REPLICAS ? true : undefined));
    const listed = await admin.list('Node');
    const oldUids = new Map((listed.items as NodeObject[]).filter((n) => n.metadata.name.startsWith('old-')).map((n) => [n.metadata.uid, n.metadata.name]));
    assert.equal(oldUids.size, 3);
    // Every change is seen through a store watch (a recycle of a hollow node can take less time
    // than one poll): the counts are taken once per revision, after all of its events.
    const byUid = new Map((listed.items as NodeObject[]).map((n) => [n.metadata.uid, n]));
    const tasks = new Map<string, Task>();
    for (const t of (await admin.list('Task', { namespace: 'default' })).items as Task[]) tasks.set(t.metadata.uid, t);
    const runningNow = (): number => [...tasks.values()].filter((t) => t.spec.service === 'web' && t.status?.state === 'running').length;
    let minRunning = runningNow();
    let maxRecycling = [...byUid.values()].filter(isRecycling).length;
    let pendingRevision = -1;
    const settle = (): void => {
      maxRecycling = Math.max(maxRecycling, [...byUid.values()].filter(isRecycling).length);
      minRunning = Math.min(minRunning, runningNow());
    };
    const watch = await server.store.watch({ fromRevision: listed.revision }, {
      onEvent: (ev) => {
        if (ev.revision !== pendingRevision) { if (pendingRevision !== -1) settle(); pendingRevision = ev.revision; }
        const o = ev.object;
        // The Task list was taken after the Node list: replayed events it already holds are skipped.
        const held = o.kind === 'Task' ? tasks.get(o.metadata.uid) : undefined;
        if (held !== undefined && (held.metadata.revision ?? 0) >= ev.revision) return;
        if (o.kind === 'Node') {
          if (ev.type === 'deleted') byUid.delete(o.metadata.uid); else byUid.set(o.metadata.uid, o as NodeObject);
        } else if (o.kind === 'Task' && o.metadata.namespace === 'default') {
          if (ev.type === 'deleted') tasks.delete(o.metadata.uid); else tasks.set(o.metadata.uid, o as Task);
        }
      },
    });
    const deadline = Date.now() + 180_000;
    try {
      while ([...oldUids.keys()].some((uid) => byUid.has(uid))) {
        assert.ok(Date.now() < deadline, `old nodes not all removed within 180 s: ${JSON.stringify([...byUid.values()].map((n) => [n.metadata.name, n.status?.recycle]))}`);
        await delay(200);
      }
    } finally {
      await watch.stop();
    }
    settle();
    assert.equal(maxRecycling, 1, 'one node recycling at a time');
    assert.ok(minRunning >= REPLICAS, `the service kept its ${REPLICAS} running tasks (lowest seen: ${minRunning})`);
    const calls = readFileSync(hookFile, 'utf8').trim().split('\n');
    for (const name of oldUids.values()) {
      assert.ok(calls.some((l) => l.startsWith(`${name} ${name} `) && l.includes('flotilla.dev/hollow=true') && l.includes('flotilla.dev/max-node-age=15s')), `provisioner called for ${name}: ${calls.join(' | ')}`);
      const rev = (await admin.get({ kind: 'Revocation', namespace: '', name: `node.${name}` })) as Revocation | undefined;
      assert.equal(rev?.spec.subject, `node:${name}`);
      assert.equal(rev?.spec.reason, 'recycled: older than 15s');
    }
    const events = ((await admin.list('Event', { namespace: 'default' })).items as EventObject[]).filter((e) => e.spec.source === 'controller/recycle');
    for (const reason of ['RecycleStarted', 'ProvisionerCalled', 'Cordoned', 'Drained', 'NodeRemoved']) {
      assert.ok(events.some((e) => e.spec.reason === reason), `an Event ${reason}`);
    }
  });

  it('`flotilla node recycle NAME` recycles an exempt node on request', async () => {
    const target = (await nodes()).map((n) => n.metadata).filter((m) => m.name.startsWith('new-')).sort((a, b) => a.name.localeCompare(b.name))[0];
    assert.ok(target !== undefined);
    const { uid, name } = target;
    const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, 'node', 'recycle', name], { cwd: ROOT, env: { ...process.env, FLOTILLA_CONFIG: server.adminConfigPath } });
    assert.match(r.stdout, new RegExp(`node/${name} recycle requested`));
    await eventually(`${name} (that uid) removed`, 150_000, async () => ((await nodes()).some((n) => n.metadata.uid === uid) ? undefined : true));
    const rev = (await admin.get({ kind: 'Revocation', namespace: '', name: `node.${name}` })) as Revocation | undefined;
    assert.equal(rev?.spec.reason, 'recycled: requested');
    assert.ok(readFileSync(hookFile, 'utf8').includes(`${name} ${name} `), `provisioner called for ${name}`);
  });
});
