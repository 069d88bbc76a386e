/**
 * Chaos fault 5, full disk (issue 13, docs/reliability.md): the agent's data dir is a 64 MiB
 * tmpfs that the test fills to the last byte. The promise: the node reports DiskPressure with a
 * clear message ("data dir ... has 0 bytes free ..."), the scheduler gives it no new task (the
 * task says "0/1 nodes: 1 disk pressure") while its running task stays; the agent restarts on
 * the full disk with its state files whole; once space returns the condition clears and the
 * waiting task runs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statfsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Cluster, eventually, namespacesLeft } from '../helpers/cluster.js';
import { reportCounts } from '../helpers/chaos.js';
import { run } from '../helpers/netns.js';

interface NodeJson {
  status?: { state?: string; conditions?: Array<{ type: string; status: boolean; reason?: string; message?: string }> };
}

const TMPFS_BYTES = 64 * 1024 * 1024;

function mounted(dir: string): boolean {
  return readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === dir);
}

/** JSON files the agent keeps (credentials, network records) all parse. */
function stateFilesWhole(dataDir: string): number {
  const files = [path.join(dataDir, 'node-credentials.json')];
  const net = path.join(dataDir, 'network/containers');
  if (existsSync(net)) files.push(...readdirSync(net).filter((f) => f.endsWith('.json')).map((f) => path.join(net, f)));
  for (const f of files) JSON.parse(readFileSync(f, 'utf8'));
  return files.length;
}

describe('chaos: full disk in the agent data dir', { timeout: 300_000 }, () => {
  let c: Cluster;

  before(async () => {
    c = await Cluster.start({
      nodes: 1,
      beforeAgentStart: async (n) => {
        if (mounted(n.dataDir)) return;
        await mkdir(n.dataDir, { recursive: true });
        const r = await run(['mount', '-t', 'tmpfs', '-o', `size=${TMPFS_BYTES}`, 'tmpfs', n.dataDir]);
        if (r.code !== 0) throw new Error(`mount tmpfs: ${r.stderr}`);
      },
    });
  });

  after(async () => {
    const names = c?.namespaceNames() ?? [];
    if (c !== undefined) {
      await c.removeLoadBalancers();
      await c.stop(); // unmounts everything under the data dirs, the tmpfs too
    }
    assert.deepEqual(namespacesLeft(names), []);
  });

  const diskCondition = async (): Promise<{ status: boolean; message?: string } | undefined> =>
    (await c.list<NodeJson>('nodes'))[0]?.status?.conditions?.find((x) => x.type === 'DiskPressure');

  it('reports DiskPressure, schedules nothing new, restarts whole, and clears when space returns', async () => {
    const dataDir = c.node(1).dataDir;
    const image = (await c.buildImage('chaos/disk', '1')).ref;
    const svc = (name: string): string => `kind: Service
metadata: {name: ${name}}
spec:
  image: ${image}
  replicas: 1
  command: ["sleep", "1000"]
`;
    await c.apply(svc('before'));
    const [running] = await c.runningTasks('before', 1);
    assert.equal((await diskCondition())?.status, false);

    // Fill the tmpfs to the last byte.
    const fill = path.join(dataDir, 'fill');
    const free = (): number => { const s = statfsSync(dataDir); return s.bavail * s.bsize; };
    await run(['fallocate', '-l', String(free()), fill]);
    await run(['dd', 'if=/dev/zero', `of=${path.join(dataDir, 'fill2')}`, 'bs=4k'], 60_000);
    assert.equal(free(), 0, 'the data dir is full');
    const full = await eventually('DiskPressure true', 60_000, async () => {
      const cond = await diskCondition();
      return cond?.status === true ? cond : undefined;
    });
    assert.match(full.message ?? '', new RegExp(`^data dir ${dataDir} has 0 bytes free of 64MiB \\(below 16MiB\\): no new tasks until space is freed$`));
    const described = await c.cli(['describe', 'node', 'node1']);
    assert.match(described.stdout, /DiskPressure/);

    await c.apply(svc('after'));
    const pending = await eventually('the new task is held back by disk pressure', 60_000, async () =>
      (await c.tasks('after')).find((t) => t.status?.state === 'pending' && /disk pressure/.test(t.status.message ?? '')));
    assert.equal(pending.spec.node ?? '', '');
    const stillRunning = (await c.tasks('before')).find((t) => t.metadata.name === running?.metadata.name);
    assert.equal(stillRunning?.status?.state, 'running', 'the running task stays');

    // The agent restarts on the full disk: its state files are whole, it comes back ready.
    const logFile = path.join(c.dir, 'logs', 'node1.log');
    const readyLines = (): number => (readFileSync(logFile, 'utf8').match(/agent node1 ready/g) ?? []).length;
    const readyBefore = readyLines();
    await c.restartAgent(1);
    await eventually('the agent is ready again', 90_000, async () => (readyLines() > readyBefore ? true : undefined));
    const files = stateFilesWhole(dataDir);
    assert.equal(free(), 0, 'still full after the restart');
    await eventually('node1 ready again', 90_000, async () => ((await c.list<NodeJson>('nodes'))[0]?.status?.state === 'ready' ? true : undefined));
    // Adopted, unless the restart outlasted the 10 s heartbeat grace on a loaded machine: then the
    // node was down for a moment and the task was replaced, its replacement held by the disk pressure too.
    const after1 = await c.tasks('before');
    const adopted = after1.some((t) => t.metadata.name === running?.metadata.name && t.status?.state === 'running') ? 1 : 0;
    if (adopted === 0) assert.ok(after1.some((t) => t.status?.state === 'pending' && /disk pressure/.test(t.status.message ?? '')), JSON.stringify(after1.map((t) => t.status)));

    // Space returns: the condition clears and the held task runs.
    await run(['rm', '-f', fill, path.join(dataDir, 'fill2')]);
    const clearedAt = Date.now();
    await eventually('DiskPressure false', 60_000, async () => ((await diskCondition())?.status === false ? true : undefined));
    const clearMs = Date.now() - clearedAt;
    await c.runningTasks('after', 1);
    await c.runningTasks('before', 1);
    reportCounts('container-disk-full', { 'tmpfs-bytes': TMPFS_BYTES, 'free-bytes': 0, 'tasks-held': 1, 'running-kept': 1, 'agent-restarts': 1, 'adopted-after-restart': adopted, 'state-files-whole': files, 'clear-ms': clearMs });
  });
});
