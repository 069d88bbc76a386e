/**
 * Chaos fault 4 (issue 13, docs/reliability.md): the registry goes down during a rollout.
 * A service of 2 replicas on a real agent (network namespaces, runc, docker-registry) rolls
 * from v1 to v2 (start-first) while every registry the node can reach is stopped, for longer
 * than the rollout's progress deadline. The promise: the rollout waits with a clear message
 * ("waiting: image ... cannot be pulled: registry unreachable") and neither fails nor rolls
 * back; the v1 tasks keep running and serving through the VIP (0 failed calls); the new tasks
 * retry their pull with a growing delay; once the registry is back the rollout completes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, eventually, namespacesLeft, type TaskJson } from '../helpers/cluster.js';
import { reportCounts, rounds } from '../helpers/chaos.js';
import { startVipLoad, type RunningLoad } from './vip-load.js';

interface ServiceJson {
  spec: { image: string };
  status?: { vip?: string; revision?: number; rollout?: { state: string; message: string; revision: number } };
}

const serviceYaml = (image: string): string => `kind: Service
metadata: {name: regdown}
spec:
  image: ${image}
  replicas: 2
  command: ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait"]
  ports: [{port: 80, targetPort: 8080}]
  stopGracePeriodSeconds: 5
  probes:
    readiness: {http: {path: /, port: 8080}, periodSeconds: 1}
  update: {parallelism: 1, order: start-first, monitorSeconds: 1, failureAction: rollback, progressDeadlineSeconds: 10}
`;

/** Pull attempt numbers seen in the tasks' "(attempt N, next try in Ms)" messages. */
function attemptsOf(tasks: readonly TaskJson[]): number {
  let max = 0;
  for (const t of tasks) {
    const m = /\(attempt (\d+), next try in/.exec(t.status?.message ?? '');
    if (m !== null) max = Math.max(max, Number(m[1]));
  }
  return max;
}

describe('chaos: registry down during a rollout', { timeout: 400_000 }, () => {
  let c: Cluster;
  let load: RunningLoad | undefined;

  before(async () => {
    c = await Cluster.start({ nodes: 1 });
  });

  after(async () => {
    if (load !== undefined) load.child.kill('SIGKILL');
    const names = c?.namespaceNames() ?? [];
    if (c !== undefined) {
      await c.removeLoadBalancers();
      await c.stop();
    }
    assert.deepEqual(namespacesLeft(names), []);
  });

  it('waits with a clear message, keeps v1 serving, resumes and completes when the registry returns', async () => {
    const outageMs = rounds(12_000, 60_000);
    const v1 = (await c.buildImage('chaos/regdown', '1', { files: { 'www/index.html': 'v1\n' } })).ref;
    const v2 = (await c.buildImage('chaos/regdown', '2', { files: { 'www/index.html': 'v2\n' } })).ref;
    const service = async (): Promise<ServiceJson> => JSON.parse((await c.cli(['get', 'service', 'regdown', '-o', 'json'])).stdout) as ServiceJson;

    await c.apply(serviceYaml(v1));
    const before1 = await c.runningTasks('regdown', 2);
    const vip = await eventually('the VIP', 30_000, async () => (await service()).status?.vip);
    await eventually('v1 answers on the VIP', 30_000, async () => {
      const r = await c.exec('node1', ['timeout', '3', '/bin/busybox', 'wget', '-q', '-O', '-', `http://${vip}/`]);
      return r.stdout.trim() === 'v1' ? true : undefined;
    });
    load = startVipLoad(c, 'node1', `http://${vip}/`);

    await c.stopNodeRegistries();
    const downAt = Date.now();
    await c.apply(serviceYaml(v2));
    const waiting = await eventually('the rollout says it waits for the pull', 60_000, async () => {
      const s = await service();
      return /^waiting: image \S+:2 cannot be pulled: registry unreachable/.test(s.status?.rollout?.message ?? '') ? s : undefined;
    });
    assert.equal(waiting.status?.rollout?.state, 'progressing');
    const status = await c.cli(['rollout', 'status', 'service', 'regdown', '--no-wait']);
    assert.match(status.stdout + status.stderr, /waiting: image \S+ cannot be pulled: registry unreachable/);

    // Longer than progressDeadlineSeconds (10 s) after the wait began: the rollout must not fail or roll back.
    const rolloutStates = new Set<string>();
    const until = Math.max(downAt + outageMs, Date.now() + 14_000);
    do {
      const s = await service();
      rolloutStates.add(s.status?.rollout?.state ?? 'none');
      assert.equal(s.status?.revision, 1, 'the stable revision stays 1 during the outage');
      await new Promise((r) => setTimeout(r, 1000));
    } while (Date.now() < until);
    const during = await c.tasks('regdown');
    const attempts = attemptsOf(during);
    const v1Running = during.filter((t) => t.spec.image === v1 && t.status?.state === 'running' && t.spec.desiredState === 'running');
    assert.deepEqual(v1Running.map((t) => t.metadata.name).sort(), before1.map((t) => t.metadata.name).sort(), 'the v1 tasks are the same, untouched');
    assert.ok(attempts >= 3, `the new task retried its pull (attempts ${attempts})`);
    const waitingTask = during.find((t) => t.spec.image === v2 && t.spec.desiredState === 'running');
    assert.equal(waitingTask?.status?.state, 'preparing', JSON.stringify(waitingTask?.status));
    assert.deepEqual([...rolloutStates], ['progressing'], 'no rollback, no failure during the outage');

    await c.startNodeRegistries();
    const upAt = Date.now();
    const downMs = upAt - downAt;
    const done = await eventually('the rollout completes', 120_000, async () => {
      const s = await service();
      if (s.status?.rollout?.state === 'rolled-back') throw new Error(`rolled back: ${s.status.rollout.message}`);
      return s.status?.rollout?.state === 'complete' ? s : undefined;
    }).catch(async (err: unknown) => {
      const ts = (await c.tasks('regdown')).map((t) => `${t.metadata.name} ${t.spec.image} ${t.spec.desiredState} ${t.status?.state} ${t.status?.message}`);
      throw new Error(`${(err as Error).message}\nservice: ${JSON.stringify((await service()).status?.rollout)}\ntasks:\n${ts.join('\n')}`);
    });
    const resumeMs = Date.now() - upAt;
    assert.equal(done.status?.revision, 2);
    await c.runningTasks('regdown', 2);
    const after2 = (await c.tasks('regdown')).filter((t) => t.spec.desiredState === 'running');
    assert.deepEqual(after2.map((t) => t.spec.image), [v2, v2]);
    const counts = await load.finish();
    load = undefined;
    assert.equal(counts.fail, 0, `failed calls: ${JSON.stringify(counts)}`);
    const rollback = (await service()).status?.rollout?.state === 'rolled-back' ? 1 : 0;
    reportCounts('registry-down', {
      calls: counts.ok + counts.fail, failed: counts.fail, 'outage-ms': downMs, 'pull-attempts': attempts,
      rollbacks: rollback, 'v1-tasks-replaced-during-outage': 2 - v1Running.length, 'resume-ms': resumeMs,
    });
  });
});
