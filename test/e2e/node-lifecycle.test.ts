/**
 * Node lifecycle end to end: the real CLI (child processes) against a real server (runServer
 * in-process, SQLite, the real scheduler and node controller), with fake agents
 * (test/controllers/node-fake-agents.ts: heartbeats and the real planTask over pretend
 * containers, no runc). `describe task` explains an unplaceable task ("0/3 nodes: ...") with its
 * FailedScheduling Event; `node drain|cordon|uncordon|label` change the node and the cluster
 * follows. Every wait is bounded; the server, the agents and the temp dir are cleaned up.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NodeObject, Task } from '../../src/api/kinds.js';
import { runServer, type RunningServer } from '../../src/server/run.js';
import { eventually, flotilla, manifestFile, type CliResult } from '../helpers/flotilla.js';
import { startFakeAgents } from '../controllers/node-fake-agents.js';

const SERVICES = `kind: Service
metadata: {name: web}
spec:
  replicas: 3
  image: 127.0.0.1:5000/demo/busybox:1
---
kind: Service
metadata: {name: huge}
spec:
  replicas: 1
  image: 127.0.0.1:5000/demo/busybox:1
  resources:
    requests: {memory: 100Gi}
`;

void describe('flotilla node and describe task against a server with fake agents', { timeout: 120_000 }, () => {
  let dir: string;
  let server: RunningServer | undefined;
  let stopAgents: (() => Promise<void>) | undefined;
  let config: string;

  const cli = (args: string[]): Promise<CliResult> => flotilla(args, { config, timeoutMs: 30_000 });
  const tasksOf = async (service: string): Promise<Task[]> =>
    ((await server?.store.list('Task', { namespace: 'default' }))?.items as Task[] ?? []).filter((t) => t.spec.service === service);
  const runningNodes = async (service: string): Promise<string[]> =>
    (await tasksOf(service)).filter((t) => t.spec.desiredState === 'running' && t.status?.state === 'running').map((t) => t.spec.node).sort();

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flotilla-node-e2e-'));
    server = await runServer({ dataDir: path.join(dir, 'server'), listen: '127.0.0.1:0', store: 'sqlite', sqliteSynchronous: 'normal', log: () => undefined });
    config = server.adminConfigPath;
    const agents = await startFakeAgents(server.store, [{ name: 'n1' }, { name: 'n2' }, { name: 'n3' }], { heartbeatMs: 1_000 });
    stopAgents = agents.stopAll;
    const r = await cli(['apply', '-f', await manifestFile(dir, 'services.yaml', SERVICES)]);
    assert.equal(r.code, 0, r.stderr);
    await eventually('3 web tasks running, one per node', 20_000, async () => {
      const on = await runningNodes('web');
      return on.join() === 'n1,n2,n3' ? on : undefined;
    });
  });

  after(async () => {
    await stopAgents?.();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  void it('describe task shows why a task is pending and its FailedScheduling Event', async () => {
    const t = await eventually('huge pending with a reason', 10_000, async () => {
      const [x] = await tasksOf('huge');
      return x?.status?.message?.startsWith('0/') === true ? x : undefined;
    });
    const out = await eventually('describe with the Event', 15_000, async () => {
      const r = await cli(['describe', 'task', t.metadata.name]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.includes('FailedScheduling') ? r.stdout : undefined;
    });
    assert.match(out, /0\/3 nodes: 3 insufficient memory/);
    assert.match(out, /pending/);
  });

  void it('node drain moves the tasks away; cordon and uncordon; label sets and removes labels', async () => {
    const drain = await cli(['node', 'drain', 'n1']);
    assert.equal(drain.code, 0, drain.stderr);
    assert.equal(drain.stdout, 'node/n1 drained\n');
    await eventually('web off n1, 3 running', 20_000, async () => {
      const on = await runningNodes('web');
      return on.length === 3 && !on.includes('n1') ? on : undefined;
    });
    const get = await cli(['get', 'node', 'n1', '-o', 'json']);
    assert.equal((JSON.parse(get.stdout) as NodeObject).spec.availability, 'drain');

    const cordon = await cli(['node', 'cordon', 'n2']);
    assert.deepEqual([cordon.code, cordon.stdout], [0, 'node/n2 cordoned\n'], cordon.stderr);
    assert.equal(((await server?.store.get({ kind: 'Node', namespace: '', name: 'n2' })) as NodeObject).spec.availability, 'pause');
    const uncordon = await cli(['node', 'uncordon', 'n2']);
    assert.deepEqual([uncordon.code, uncordon.stdout], [0, 'node/n2 uncordoned\n'], uncordon.stderr);

    const label = await cli(['node', 'label', 'n3', 'zone=z1', 'ssd=true']);
    assert.deepEqual([label.code, label.stdout], [0, 'node/n3 labeled\n'], label.stderr);
    const unlabel = await cli(['node', 'label', 'n3', 'ssd-']);
    assert.equal(unlabel.code, 0, unlabel.stderr);
    assert.deepEqual(((await server?.store.get({ kind: 'Node', namespace: '', name: 'n3' })) as NodeObject).metadata.labels, { zone: 'z1' });

    const missing = await cli(['node', 'drain', 'nope']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /node "nope" not found/);
    const bad = await cli(['node', 'label', 'n3', 'oops']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /expected KEY=VALUE or KEY-, found "oops"/);
  });
});
