/**
 * Issue 9 "Volumes" on two real agents in network namespaces: a service mounting a Volume binds
 * it to the node of its first task; the task writes a file into it, its process is killed
 * (kill -9 of status.pid) and the replacement, on the same node, reads the file; scaling up keeps
 * every task on that node and draining it leaves the replacement pending with the reason; the
 * data survives an agent restart and a service update; `delete volume` is refused while a task uses it and allowed
 * after the service is gone; a tmpfs volume shows its size in `df` inside the container.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Cluster, eventually, namespacesLeft, type TaskJson } from '../helpers/cluster.js';

interface VolumeJson { status?: { node?: string; state?: string; path?: string } }

void describe('volumes on two real agents', { timeout: 300_000 }, () => {
  let cluster: Cluster | undefined;
  let image = '';

  before(async () => {
    cluster = await Cluster.start({ nodes: 2 });
    image = (await cluster.buildImage('test/vol', '1')).ref;
  });
  after(async () => {
    const names = cluster?.namespaceNames() ?? [];
    await cluster?.stop();
    assert.deepEqual(namespacesLeft(names), []);
  });

  const c = (): Cluster => cluster as Cluster;
  const exec = async (task: string, script: string): Promise<string> => {
    const r = await c().cli(['exec', task, '--', 'sh', '-c', script]);
    assert.equal(r.code, 0, `exec in ${task}: ${r.stderr}`);
    return r.stdout;
  };
  const volume = async (name: string): Promise<VolumeJson> => JSON.parse((await c().cli(['get', 'volume', name, '-o', 'json'])).stdout) as VolumeJson;
  const dbService = (replicas: number): string => `kind: Volume
metadata: {name: data}
spec: {driver: local}
---
kind: Service
metadata: {name: db}
spec:
  image: ${image}
  replicas: ${replicas}
  command: ["sleep", "3600"]
  stopGracePeriodSeconds: 1
  restart: {condition: any, delaySeconds: 0}
  volumes: [{source: data, target: /var/lib/db}]
`;

  void it('a killed task\'s replacement runs on the same node and reads what it wrote; scaling and moving stay pinned', async () => {
    await c().apply(dbService(1));
    const [first] = await c().runningTasks('db', 1);
    const home = (first as TaskJson).spec.node;
    const v = await volume('data');
    assert.equal(v.status?.node, home);
    assert.equal(v.status?.state, 'bound');
    const dir = path.join(c().node(home).dataDir, 'volumes', 'default', 'data');
    assert.equal(v.status?.path, dir);

    await exec((first as TaskJson).metadata.name, 'echo kept-across-tasks > /var/lib/db/greeting');
    assert.equal(readFileSync(path.join(dir, 'greeting'), 'utf8'), 'kept-across-tasks\n');
    process.kill((first as TaskJson).status?.pid as number, 'SIGKILL');
    const replacement = await eventually('a replacement task running', 60_000, async () => {
      const ts = (await c().tasks('db')).filter((t) => t.status?.state === 'running' && t.spec.desiredState === 'running' && t.metadata.name !== (first as TaskJson).metadata.name);
      return ts[0];
    });
    assert.equal(replacement.spec.node, home, 'the replacement runs where the volume lives');
    assert.equal(await exec(replacement.metadata.name, 'cat /var/lib/db/greeting'), 'kept-across-tasks\n');

    await c().restartAgent(home);
    // The restarted agent's endpoint has a new port: exec works once its Node says so.
    const read = await eventually('exec after the agent restart', 30_000, async () => {
      const r = await c().cli(['exec', replacement.metadata.name, '--', 'cat', '/var/lib/db/greeting']);
      return r.code === 0 ? r.stdout : undefined;
    });
    assert.equal(read, 'kept-across-tasks\n', 'the data survives an agent restart');

    const scale = await c().cli(['scale', 'service', 'db', '--replicas', '3']);
    assert.equal(scale.code, 0, scale.stderr);
    const three = await c().runningTasks('db', 3);
    assert.deepEqual(three.map((t) => t.spec.node), [home, home, home], 'every replica on the volume node');

    const drain = await c().cli(['node', 'drain', home]);
    assert.equal(drain.code, 0, drain.stderr);
    await eventually('a moved task waits for the volume node', 60_000, async () => {
      const waiting = (await c().tasks('db')).find((t) => t.spec.node === '' && t.spec.desiredState === 'running');
      return waiting?.status?.message === `volume data lives on node ${home}, which is draining` ? waiting : undefined;
    });
    const back = await c().cli(['node', 'uncordon', home]);
    assert.equal(back.code, 0, back.stderr);
    const again = await c().runningTasks('db', 3, 90_000);
    assert.ok(again.every((t) => t.spec.node === home), 'back on the volume node');

    await c().apply(dbService(3).replace('  replicas: 3\n', '  replicas: 3\n  env: {REVISION: "2"}\n'));
    const updated = await eventually('the update rolled out', 120_000, async () => {
      const ts = (await c().tasks('db')).filter((t) => t.status?.state === 'running' && t.spec.desiredState === 'running' && !again.some((o) => o.metadata.name === t.metadata.name));
      return ts.length === 3 ? ts : undefined;
    });
    assert.ok(updated.every((t) => t.spec.node === home), 'the new revision runs on the volume node');
    assert.equal(await exec((updated[0] as TaskJson).metadata.name, 'cat /var/lib/db/greeting'), 'kept-across-tasks\n', 'the data survives a service update');
  });

  void it('delete volume is refused while a task uses it, allowed once the service is gone; the data stays on the node', async () => {
    const refused = await c().cli(['delete', 'volume', 'data']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /volume default\/data is in use by tasks? db-/);
    const del = await c().cli(['delete', 'service', 'db']);
    assert.equal(del.code, 0, del.stderr);
    await eventually('the volume can be deleted', 60_000, async () => ((await c().cli(['delete', 'volume', 'data'])).code === 0 ? true : undefined));
    const home = c().nodes.find((n) => existsSync(path.join(n.dataDir, 'volumes', 'default', 'data', 'greeting')));
    assert.ok(home !== undefined, 'the agent never removes a volume\'s data');
  });

  void it('a tmpfs volume has its size inside the container', async () => {
    await c().apply(`kind: Service
metadata: {name: cache}
spec:
  image: ${image}
  command: ["sleep", "3600"]
  stopGracePeriodSeconds: 1
  volumes: [{type: tmpfs, target: /cache, size: 16Mi}]
`);
    const [t] = await c().runningTasks('cache', 1);
    const df = await exec((t as TaskJson).metadata.name, 'df -k /cache | tail -n 1');
    const [fs, blocks] = df.trim().split(/\s+/);
    assert.equal(fs, 'tmpfs');
    assert.equal(blocks, '16384', `16Mi in 1K blocks: ${df}`);
    await exec((t as TaskJson).metadata.name, 'echo x > /cache/file');
  });
});
