/**
 * Chaos fault 5 (issue 13, docs/reliability.md): containers that misbehave, on a real agent
 * (network namespace, runc, conmon, cgroup limits):
 *   - OOM: a task over its 16Mi memory limit fails with reason OOMKilled (exit 137) and is replaced;
 *   - crash loop: a task that exits at once is restarted with a backoff that doubles and is
 *     capped (restart.maxDelaySeconds), and the service's status.crashLoop says so;
 *   - SIGTERM ignored: on scale-down the container is killed after its stopGracePeriodSeconds.
 * (Full disk in the agent's data dir: disk-pressure.test.ts.)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Cluster, eventually, namespacesLeft } from '../helpers/cluster.js';
import { reportCounts, rounds } from '../helpers/chaos.js';

interface RawTask {
  metadata: { name: string; creationTimestamp: string; annotations?: Record<string, string> };
  spec: { desiredState: string; slot: number };
  status?: { state: string; message?: string; exitCode?: number; timestamp: string; pid?: number };
}

interface ServiceJson {
  status?: { crashLoop?: { units: number; message: string } };
}

const svcYaml = (name: string, image: string, extra: string): string => `kind: Service
metadata: {name: ${name}}
spec:
  image: ${image}
  replicas: 1
${extra}`;

describe('chaos: container faults', { timeout: 400_000 }, () => {
  let c: Cluster;
  let image = '';

  before(async () => {
    c = await Cluster.start({ nodes: 1 });
    image = (await c.buildImage('chaos/faults', '1')).ref;
  });

  after(async () => {
    const names = c?.namespaceNames() ?? [];
    if (c !== undefined) {
      await c.removeLoadBalancers();
      await c.stop();
    }
    assert.deepEqual(namespacesLeft(names), []);
  });

  const tasks = async (service: string): Promise<RawTask[]> => c.list<RawTask>('tasks', ['-l', `service=${service}`]);
  const service = async (name: string): Promise<ServiceJson> => JSON.parse((await c.cli(['get', 'service', name, '-o', 'json'])).stdout) as ServiceJson;
  const remove = async (name: string): Promise<void> => assert.equal((await c.cli(['delete', 'service', name])).code, 0);

  it('OOM: a task over its memory limit fails with OOMKilled (exit 137) and is replaced', async () => {
    const kills = rounds(1, 3);
    await c.apply(svcYaml('hog', image, `  command: ["sh", "-c", "busybox head -c 64m /dev/zero | busybox tail"]
  restart: {condition: on-failure, delaySeconds: 1, maxDelaySeconds: 2}
  resources:
    limits: {memory: 16Mi}
`));
    const failed = await eventually(`${kills} OOM kills and a replacement`, 120_000, async () => {
      const ts = await tasks('hog');
      const oom = ts.filter((t) => t.status?.state === 'failed');
      return oom.length >= kills && ts.length > oom.length ? oom : undefined;
    });
    for (const t of failed) {
      assert.match(t.status?.message ?? '', /^OOMKilled: the container exceeded its memory limit \(16Mi\), exit code 137$/);
      assert.equal(t.status?.exitCode, 137);
    }
    await remove('hog');
    reportCounts('container-oom', { 'oom-kills': failed.length, 'reason-OOMKilled': failed.length, replaced: failed.length });
  });

  it('crash loop: backoff doubles up to its cap and the service status says "crash loop"', async () => {
    const want = rounds(6, 10);
    await c.apply(svcYaml('crashy', image, `  command: ["sh", "-c", "echo starting; exit 1"]
  restart: {condition: on-failure, delaySeconds: 1, maxDelaySeconds: 4}
`));
    const ts = await eventually(`${want} quick failures`, 150_000, async () => {
      const all = await tasks('crashy');
      return all.filter((t) => t.status?.state === 'failed').length >= want ? all : undefined;
    });
    const loop = await eventually('status.crashLoop', 30_000, async () => (await service('crashy')).status?.crashLoop);
    assert.match(loop.message, /^crash loop: task crashy-1-\S+ failed \(exited with code 1\), \d+ quick failures in a row, next restart in \ds \(backoff doubles up to 4s\)$/);
    const described = await c.cli(['describe', 'service', 'crashy']);
    assert.match(described.stdout, /Crash loop: +1 slot\(s\): crash loop: task/);

    // The gap between a task's end (its last status) and its successor's creation is the backoff.
    const byAge = [...ts].sort((a, b) => Date.parse(a.metadata.creationTimestamp) - Date.parse(b.metadata.creationTimestamp));
    const gaps: number[] = [];
    for (let i = 1; i < byAge.length; i++) {
      const prev = byAge[i - 1] as RawTask;
      const next = byAge[i] as RawTask;
      if (prev.status?.state !== 'failed') continue;
      gaps.push(Date.parse(next.metadata.creationTimestamp) - Date.parse(prev.status.timestamp));
    }
    const restarts = byAge.map((t) => Number(t.metadata.annotations?.['flotilla.dev/restarts'] ?? '0'));
    assert.deepEqual(restarts.slice(0, 4), [0, 1, 2, 3], `restart counts ${restarts.join(',')}`);
    // Expected delays 1, 2, 4, 4, ... s: each at least its backoff, none far beyond the cap.
    const expected = gaps.map((_, i) => Math.min(4000, 1000 * 2 ** i));
    gaps.forEach((g, i) => assert.ok(g >= (expected[i] as number) - 250, `gap ${i} ${g} ms >= backoff ${expected[i]} ms (gaps ${gaps.join(',')})`));
    assert.ok(Math.max(...gaps) < 4000 + 15_000, `capped: gaps ${gaps.join(',')}`);
    await remove('crashy');
    await eventually('crashLoop gone with the service', 30_000, async () => ((await c.cli(['get', 'service', 'crashy'])).code !== 0 ? true : undefined));
    reportCounts('container-crash-loop', { restarts: gaps.length, 'gaps-ms': gaps.join('/'), 'cap-ms': 4000, 'crash-loop-status': 1 });
  });

  it('a process ignoring SIGTERM is killed after its stopGracePeriodSeconds', async () => {
    const graceS = 3;
    await c.apply(svcYaml('stubborn', image, `  command: ["sh", "-c", "trap '' TERM; sleep 1000 & wait; sleep 1000"]
  stopGracePeriodSeconds: ${graceS}
`));
    const running = await eventually('stubborn running', 90_000, async () => (await tasks('stubborn')).find((t) => t.status?.state === 'running' && t.status.pid !== undefined));
    const pid = running.status?.pid as number;
    assert.ok(existsSync(`/proc/${pid}`), 'the container process runs');
    const t0 = Date.now();
    assert.equal((await c.cli(['scale', 'service', 'stubborn', '--replicas', '0'])).code, 0);
    await eventually('the container process is gone', 60_000, async () => (existsSync(`/proc/${pid}`) ? undefined : true));
    const stoppedMs = Date.now() - t0;
    assert.ok(stoppedMs >= graceS * 1000, `killed only after the grace period (${stoppedMs} ms)`);
    const last = await eventually('task shutdown', 30_000, async () => (await tasks('stubborn')).find((t) => t.metadata.name === running.metadata.name && t.status?.state === 'shutdown'));
    assert.equal(last.spec.desiredState, 'shutdown');
    await remove('stubborn');
    reportCounts('container-sigterm-ignored', { 'grace-ms': graceS * 1000, 'stopped-after-ms': stoppedMs, 'left-running': existsSync(`/proc/${pid}`) ? 1 : 0 });
  });
});
