/**
 * Chaos, fault 3 (issue 13, docs/reliability.md): kill -9 of a SQLite server under load, with real
 * agents in network namespaces (test/helpers/cluster.ts) running a 3-replica service behind its VIP.
 *
 *   load: 4 writers create/update Configs through the API from the server's namespace (chaos-load)
 *   kill -9 the server -> while it is down: every container still `running` (runc state), the VIP
 *     answers from node1 every time; one container is killed by hand (the agent cannot report it)
 *   restart the server on the same data dir -> the agent reports the dead task, a replacement runs
 *   check: every acknowledged write in the final state; per slot exactly one running task; the
 *     running tasks are the ones from before (the two untouched) plus one replacement; on every
 *     node the runc containers are exactly its running tasks (none duplicated, none lost)
 * Prints `chaos server-kill: operations=... acknowledged=... errors=... acknowledged-lost=0 ...`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Cluster, eventually, namespacesLeft, type TaskJson } from '../helpers/cluster.js';
import { run } from '../helpers/netns.js';
import { lostAcks, type LoadResult } from '../helpers/chaos-load.js';
import { reportCounts, rounds } from '../helpers/chaos.js';

const SERVE_HOSTNAME = '["sh", "-c", "mkdir -p /tmp/www && hostname > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"]';
const ROOT = path.resolve(import.meta.dirname, '../..');

/** Running runc containers of a node (ids `default_TASK`), from its runtime state. */
async function containers(c: Cluster, node: string): Promise<Map<string, string>> {
  const root = path.join(c.node(node).dataDir, 'runtime/runc');
  const r = await run(['runc', '--root', root, 'list', '--format', 'json']);
  const list = r.code === 0 && r.stdout.trim() !== '' && r.stdout.trim() !== 'null' ? JSON.parse(r.stdout) as { id: string; status: string }[] : [];
  return new Map(list.map((x) => [x.id, x.status]));
}

/** One HTTP call to the VIP from a node's namespace: the answering task's name, or FAIL. */
async function callVip(c: Cluster, node: string, vip: string): Promise<string> {
  const r = await c.exec(node, ['/bin/busybox', 'timeout', '3', '/bin/busybox', 'wget', '-q', '-O-', `http://${vip}:80/`], 10_000);
  return r.code === 0 ? r.stdout.trim() : 'FAIL';
}

const running = (ts: TaskJson[]): TaskJson[] => ts.filter((t) => t.spec.desiredState === 'running' && t.status?.state === 'running');

describe('chaos: server kill -9 under load (SQLite, real agents)', { timeout: 300_000 }, () => {
  let c: Cluster;

  before(async () => {
    c = await Cluster.start({ nodes: 2 });
  });

  after(async () => {
    const names = c?.namespaceNames() ?? [];
    if (c !== undefined) {
      await c.removeLoadBalancers();
      await c.stop();
    }
    assert.deepEqual(namespacesLeft(names), []);
  });

  it('containers keep serving while the server is down; afterwards no write lost, no task duplicated or lost', async () => {
    const image = (await c.buildImage('chaos/web', '1')).ref;
    await c.apply(`kind: Service
metadata: {name: web}
spec:
  image: ${image}
  replicas: 3
  command: ${SERVE_HOSTNAME}
  ports: [{port: 80, targetPort: 8080}]
  placement: {spread: ["node.labels.node"]}
`);
    const before = await c.runningTasks('web', 3);
    const vip = await eventually('the VIP of web', 30_000, async () => {
      const svc = JSON.parse((await c.cli(['get', 'service', 'web', '-o', 'json'])).stdout) as { status?: { vip?: string } };
      return svc.status?.vip;
    });
    await eventually('the VIP answering', 30_000, async () => ((await callVip(c, 'node1', vip)) !== 'FAIL' ? true : undefined));

    const loadMs = rounds(12_000, 60_000);
    const loading = c.exec('server', [process.execPath, '--import', 'tsx', path.join(ROOT, 'test/helpers/chaos-load.ts'), c.config, 'Config', 'sk', '4', String(loadMs)], loadMs + 60_000);
    let faults = 0;
    let vipCalls = 0;
    let vipFailures = 0;
    let notRunning = 0;
    const cycles = rounds(1, 3);
    let victim: TaskJson | undefined;
    for (let cycle = 0; cycle < cycles; cycle++) {
      await new Promise((r) => setTimeout(r, 3_000));
      await c.killServer();
      faults++;
      const downUntil = Date.now() + 3_000;
      while (Date.now() < downUntil) {
        vipCalls++;
        if ((await callVip(c, 'node1', vip)) === 'FAIL') vipFailures++;
      }
      for (const n of c.nodes) {
        for (const [id, status] of await containers(c, n.name)) if (status !== 'running') notRunning++, console.error(`${n.name}: ${id} is ${status}`);
      }
      if (cycle === 0) {
        // A container dies while nobody can be told: the agent must report it once the server is back.
        victim = before.find((t) => t.spec.node === 'node2') as TaskJson;
        const root = path.join(c.node('node2').dataDir, 'runtime/runc');
        const k = await run(['runc', '--root', root, 'kill', `default_${victim.metadata.name}`, 'KILL']);
        assert.equal(k.code, 0, k.stderr);
      }
      await c.restartServer();
    }
    const r = await loading;
    assert.equal(r.code, 0, `load: ${r.stderr}`);
    const load = JSON.parse(r.stdout.trim().split('\n').pop() as string) as LoadResult;

    // The history check: every acknowledged (name, step) is in the final state, or a later step.
    const configs = await c.list<{ metadata: { name: string; annotations?: Record<string, string> } }>('configs');
    const finalSteps = new Map(configs.map((o) => [o.metadata.name, Number(o.metadata.annotations?.['chaos.flotilla.dev/step'] ?? 0)]));
    const lost = lostAcks(load.acks, finalSteps);

    const dead = victim as TaskJson;
    const after = await eventually('the killed task replaced, 3 running', 90_000, async () => {
      const ts = await c.tasks('web');
      const old = ts.find((t) => t.metadata.name === dead.metadata.name);
      const live = running(ts);
      return old?.spec.desiredState === 'shutdown' && live.length === 3 ? live : undefined;
    });
    const untouched = before.filter((t) => t.metadata.name !== dead.metadata.name).map((t) => t.metadata.name);
    const replaced = after.filter((t) => !untouched.includes(t.metadata.name));
    // Give the agents a moment to converge, then compare containers with tasks, node by node.
    await new Promise((res) => setTimeout(res, 2_000));
    const final = running(await c.tasks('web'));
    let duplicates = 0;
    let missing = 0;
    for (const n of c.nodes) {
      const ids = [...(await containers(c, n.name))].filter(([, s]) => s === 'running').map(([id]) => id);
      const want = final.filter((t) => t.spec.node === n.name).map((t) => `default_${t.metadata.name}`);
      duplicates += ids.filter((id) => !want.includes(id)).length;
      missing += want.filter((id) => !ids.includes(id)).length;
    }
    reportCounts('server-kill', {
      operations: load.operations, acknowledged: load.acks.length, errors: load.errors, ambiguous: load.ambiguous, faults,
      'acknowledged-lost': lost.length, 'vip-calls-while-down': vipCalls, 'vip-failures-while-down': vipFailures,
      'duplicate-tasks': duplicates + Math.max(0, final.length - 3), 'lost-tasks': missing, replaced: replaced.length,
    });
    assert.deepEqual(lost, [], `acknowledged writes lost: ${JSON.stringify(lost.slice(0, 5))}`);
    assert.ok(load.acks.length > 0, `no write acknowledged: ${load.samples.join('; ')}`);
    assert.equal(notRunning, 0, 'every container kept running while the server was down');
    assert.equal(vipFailures, 0, `${vipFailures} of ${vipCalls} VIP calls failed while the server was down`);
    assert.deepEqual(untouched.every((n) => after.some((t) => t.metadata.name === n)), true, 'the untouched tasks still run (not replaced)');
    assert.equal(replaced.length, 1, `exactly one replacement: ${replaced.map((t) => t.metadata.name).join(' ')}`);
    assert.equal(final.length, 3);
    assert.equal(duplicates, 0, 'no container runs without its running task');
    assert.equal(missing, 0, 'every running task has its container');
  });
});
