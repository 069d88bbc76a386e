/**
 * Issue "Scheduler and node lifecycle": two real agents, each in its own network namespace,
 * real containers. The agent of node 2 is killed with kill -9 (its containers keep running
 * under their monitors): node 2 is marked down, its task orphaned and replaced on node 1; when
 * the agent comes back, it stops the old container instead of leaving it beside its replacement.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Cluster, eventually, type TaskJson } from '../helpers/cluster.js';

const run = promisify(execFile);

async function containersOn(dataDir: string): Promise<string[]> {
  const { stdout } = await run('runc', ['--root', path.join(dataDir, 'runtime/runc'), 'list', '-q']).catch(() => ({ stdout: '' }));
  return stdout.split('\n').filter((l) => l !== '');
}

describe('failover between two real agents', { timeout: 300_000 }, () => {
  let cluster: Cluster | undefined;

  before(async () => {
    cluster = await Cluster.start({ nodes: 2 });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('replaces the containers of a killed agent on the other node, and stops the old ones when it returns', async () => {
    const c = cluster as Cluster;
    const image = (await c.buildImage('test/web', '1')).ref;
    await c.apply(`kind: Service
metadata: {name: web}
spec:
  image: ${image}
  replicas: 2
  command: ["httpd", "-f", "-p", "8080", "-h", "/"]
  placement: {spread: ["node.labels.node"]}
`);
    const before = await c.runningTasks('web', 2);
    assert.deepEqual(before.map((t) => t.spec.node).sort(), ['node1', 'node2']);
    const victim = before.find((t) => t.spec.node === 'node2') as TaskJson;
    const node2 = c.nodes[1]!;
    assert.equal((await containersOn(node2.dataDir)).length, 1);

    const killedAt = Date.now();
    await c.killAgent('node2');
    const after = await eventually('both replicas running on node1', 30_000, async () => {
      const ts = (await c.tasks('web')).filter((t) => t.status?.state === 'running' && t.spec.desiredState === 'running');
      return ts.length === 2 && ts.every((t) => t.spec.node === 'node1') ? ts : undefined;
    });
    const seconds = (Date.now() - killedAt) / 1000;
    assert.ok(seconds < 20, `replaced within 20 s (took ${seconds.toFixed(1)} s)`);
    const old = (await c.tasks('web')).find((t) => t.metadata.name === victim.metadata.name);
    assert.equal(old?.status?.state, 'orphaned', 'the task of the dead node is orphaned');
    assert.ok(!after.some((t) => t.metadata.name === victim.metadata.name));
    assert.equal((await containersOn(node2.dataDir)).length, 1, 'the old container still runs while its agent is dead');

    await c.restartAgent('node2');
    await eventually('node2 stops its old container', 60_000, async () => ((await containersOn(node2.dataDir)).length === 0 ? true : undefined));
    const final = (await c.tasks('web')).filter((t) => t.status?.state === 'running' && t.spec.desiredState === 'running');
    assert.equal(final.length, 2, 'exactly the two replacements run');
  });
});
