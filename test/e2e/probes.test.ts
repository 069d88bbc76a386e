/**
 * Health probes on `flotilla up`, with busybox httpd from a local registry: (1) three replicas
 * with a readiness probe become ready; one made unready (its /www/ready removed with `flotilla
 * exec`) leaves the service VIP while calls from the host go on without a single failure, shows
 * the failing probe in `describe task`, and comes back once the file is there again; after a
 * kill -9 of `up` the adopted tasks stay ready and are probed again; (2) a
 * failing liveness probe fails its task with "liveness probe failed: ..." and a replacement
 * runs; (3) a startup probe that never passes fails the task with a clear message. Periods of
 * 1 s keep it quick; every wait is bounded; UpCluster.stop() removes everything.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { buildBusyboxImage } from '../helpers/images.js';
import { eventually, manifestFile, UpCluster, type TaskJson } from '../helpers/flotilla.js';

type ProbedTask = TaskJson & { status?: TaskJson['status'] & { readySince?: string; probes?: Record<string, { result: string; message: string; consecutive: number; time: string }> } };

const SERVE = '["sh", "-c", "hostname > /www/index.html && echo > /tmp/alive && exec httpd -f -p 8080 -h /www"]';

/** One GET through the VIP on a new connection (so each call is balanced anew): the body, or FAIL and why. */
function callVip(vip: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host: vip, port: 80, path: '/index.html', agent: false, timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve(res.statusCode === 200 ? body.trim() : `FAIL HTTP ${res.statusCode}`));
      res.on('error', (e) => resolve(`FAIL ${e.message}`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve(`FAIL ${e.message}`));
  });
}

/** Calls the VIP one after the other until stopped, recording each answer with its time. */
class VipCaller {
  readonly calls: Array<{ at: number; answer: string }> = [];
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly vip: string) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        this.calls.push({ at: Date.now(), answer: await callVip(this.vip) });
        await delay(20);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  since(t: number): string[] {
    return this.calls.filter((c) => c.at >= t).map((c) => c.answer);
  }
}

/** Waits until calls through the VIP stop reaching `victim`; then 3 s more of calls: none reaches it. */
async function assertLeftVip(caller: VipCaller, victim: string): Promise<void> {
  const gone = await eventually('the VIP no longer sends calls to the victim', 20_000, async () => {
    const t = Date.now();
    await delay(1_500);
    return caller.since(t).includes(victim) ? undefined : Date.now();
  });
  await delay(3_000);
  const afterGone = caller.since(gone);
  assert.ok(afterGone.length >= 20, `calls went on (${afterGone.length})`);
  assert.ok(!afterGone.includes(victim), 'no call reaches the unready task');
}

describe('flotilla up: health probes', { timeout: 420_000 }, () => {
  let registry: TestRegistry;
  let cluster: UpCluster;
  let image: string;
  let caller: VipCaller | undefined;

  const tasks = async (svc: string): Promise<ProbedTask[]> => (await cluster.tasks(svc)) as ProbedTask[];
  const live = (ts: ProbedTask[]): ProbedTask[] => ts.filter((t) => t.status?.state === 'running' && t.spec.desiredState === 'running');
  const task = async (name: string): Promise<ProbedTask | undefined> => (await tasks(name.replace(/-\d+-[^-]+$/, ''))).find((t) => t.metadata.name === name);
  async function apply(name: string, yaml: string): Promise<void> {
    const r = await cluster.cli(['apply', '-f', await manifestFile(cluster.dataDir, `${name}.yaml`, yaml)]);
    assert.equal(r.code, 0, r.stderr);
  }
  async function exec(t: string, cmd: string[]): Promise<void> {
    const r = await cluster.cli(['exec', t, '--', ...cmd]);
    assert.equal(r.code, 0, `exec ${cmd.join(' ')}: ${r.stderr}`);
  }

  before(async () => {
    registry = await startRegistry();
    image = (await buildBusyboxImage(registry.host, 'probes/busybox', '1', { files: { 'www/ready': 'ok\n' } })).ref;
    cluster = await UpCluster.start();
  });

  after(async () => {
    await caller?.stop();
    await cluster?.stop();
    await registry?.stop();
  });

  it('readiness: an unready replica leaves the VIP without a failed call, and comes back', async () => {
    await apply('web', `kind: Service
metadata: {name: web}
spec:
  image: ${image}
  replicas: 3
  command: ${SERVE}
  ports: [{port: 80, targetPort: 8080}]
  stopGracePeriodSeconds: 1
  probes:
    readiness: {http: {path: /ready, port: 8080}, periodSeconds: 1, failureThreshold: 2}`);
    const ready = await eventually('3 ready replicas', 90_000, async () => {
      const ts = live(await tasks('web')).filter((t) => t.status?.ready === true);
      return ts.length === 3 ? ts : undefined;
    });
    for (const t of ready) {
      assert.ok(t.status?.readySince !== undefined, 'readySince set');
      assert.equal(t.status?.probes?.readiness?.result, 'success');
      assert.equal(t.status?.probes?.readiness?.message, 'HTTP 200');
    }
    const names = ready.map((t) => t.metadata.name);
    const svc = JSON.parse((await cluster.cli(['get', 'service', 'web', '-o', 'json'])).stdout) as { status?: { vip?: string } };
    const vip = svc.status?.vip as string;
    assert.match(vip ?? '', /^10\.96\./);
    await eventually('the VIP reaches all 3 replicas', 30_000, async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 30; i++) seen.add(await callVip(vip));
      return names.every((n) => seen.has(n)) ? true : undefined;
    });

    caller = new VipCaller(vip);
    caller.start();
    const victim = names[0] as string;
    await exec(victim, ['rm', '/www/ready']);
    const unready = await eventually('the victim reported not ready', 30_000, async () => {
      const t = await task(victim);
      return t?.status?.ready === false ? t : undefined;
    });
    assert.equal(unready.status?.state, 'running', 'an unready task keeps running');
    assert.equal(unready.status?.readySince, undefined);
    assert.equal(unready.status?.probes?.readiness?.result, 'failure');
    assert.equal(unready.status?.probes?.readiness?.message, 'HTTP 404');
    assert.equal(live(await tasks('web')).filter((t) => t.status?.ready === true).length, 2);
    await assertLeftVip(caller, victim);
    const described = await cluster.cli(['describe', 'task', victim]);
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, /^Probes:\n {2}PROBE +CHECK +RESULT +CONSECUTIVE +TIME +MESSAGE$/m);
    assert.match(described.stdout, /^ {2}readiness +http GET :8080\/ready every 1s +failure +2 +\S+ \(\d+s ago\) +HTTP 404$/m);
    assert.match(described.stdout, /ProbeNotReady +readiness probe failed \(2 times in a row\): HTTP 404/);

    await exec(victim, ['sh', '-c', 'echo ok > /www/ready']);
    await eventually('the victim ready again', 30_000, async () => ((await task(victim))?.status?.ready === true ? true : undefined));
    const back = Date.now();
    await eventually('the VIP reaches the victim again', 30_000, async () => (caller?.since(back).includes(victim) === true ? true : undefined));
    await caller.stop();
    const failures = caller.calls.filter((c) => c.answer.startsWith('FAIL'));
    assert.ok(caller.calls.length >= 50, `enough calls (${caller.calls.length})`);
    assert.deepEqual(failures, [], 'no call through the VIP failed');
    caller = undefined;
    const events = JSON.parse((await cluster.cli(['get', 'events', '-o', 'json'])).stdout) as { items: Array<{ spec: { involved: string; reason: string; source: string } }> };
    const reasons = events.items.filter((e) => e.spec.involved === `Task/default/${victim}`).map((e) => e.spec.reason);
    for (const r of ['ProbeReady', 'ProbeNotReady']) assert.ok(reasons.includes(r), `a ${r} Event (${reasons.join(', ')})`);
  });

  it('after kill -9 of `flotilla up`, adopted tasks stay ready and are probed again', async () => {
    const before = live(await tasks('web')).filter((t) => t.status?.ready === true);
    assert.equal(before.length, 3);
    await cluster.restartHard();
    for (let i = 0; i < 4; i++) {
      await delay(1_000);
      const now = live(await tasks('web'));
      assert.deepEqual(now.map((t) => [t.metadata.name, t.status?.ready, t.status?.readySince]).sort(), before.map((t) => [t.metadata.name, true, t.status?.readySince]).sort(), 'still ready, since the same time');
    }
    const victim = before[1]?.metadata.name as string;
    await exec(victim, ['rm', '/www/ready']);
    const t = await eventually('the adopted task reported not ready', 30_000, async () => {
      const x = await task(victim);
      return x?.status?.ready === false ? x : undefined;
    });
    assert.equal(t.status?.probes?.readiness?.message, 'HTTP 404');
    assert.equal((await cluster.cli(['delete', 'service', 'web'])).code, 0);
  });

  it('liveness: a failing liveness probe fails the task and a replacement runs', async () => {
    await apply('live', `kind: Service
metadata: {name: live}
spec:
  image: ${image}
  replicas: 1
  command: ${SERVE}
  stopGracePeriodSeconds: 1
  probes:
    liveness: {exec: {command: ["test", "-f", "/tmp/alive"]}, periodSeconds: 1, failureThreshold: 2}`);
    // Without a readiness probe a task is ready at start, before its first liveness result: wait for both.
    const first = await eventually('a ready task whose liveness probe passed', 60_000, async () => live(await tasks('live')).find((t) => t.status?.ready === true && t.status.probes?.liveness?.result === 'success'));
    await exec(first.metadata.name, ['rm', '/tmp/alive']);
    const failed = await eventually('the task failed by its liveness probe', 30_000, async () => {
      const t = await task(first.metadata.name);
      return t?.status?.state === 'failed' ? t : undefined;
    });
    assert.equal(failed.status?.message, 'liveness probe failed: exit code 1');
    assert.equal(failed.status?.probes?.liveness?.result, 'failure');
    await eventually('a replacement running', 60_000, async () => (live(await tasks('live')).some((t) => t.metadata.name !== first.metadata.name) ? true : undefined));
    await delay(1_000);
    assert.equal((await task(first.metadata.name))?.status?.message, 'liveness probe failed: exit code 1', 'the exit did not overwrite the message');
    assert.equal((await cluster.cli(['delete', 'service', 'live'])).code, 0);
  });

  it('startup: a startup probe that never passes fails the task, saying why', async () => {
    await apply('slow', `kind: Service
metadata: {name: slow}
spec:
  image: ${image}
  replicas: 1
  command: ["sleep", "3600"]
  stopGracePeriodSeconds: 1
  restart: {condition: none}
  probes:
    startup: {tcp: {port: 8080}, periodSeconds: 1, failureThreshold: 3}
    readiness: {http: {path: /ready, port: 8080}, periodSeconds: 1}`);
    const failed = await eventually('the task failed by its startup probe', 60_000, async () => (await tasks('slow')).find((t) => t.status?.state === 'failed'));
    assert.match(failed.status?.message ?? '', /^startup probe failed: connect ECONNREFUSED 10\.\d+\.\d+\.\d+:8080$/);
    assert.equal(failed.status?.ready, false);
    assert.equal(failed.status?.probes?.readiness, undefined, 'readiness never ran');
    const described = await cluster.cli(['describe', 'task', failed.metadata.name]);
    assert.match(described.stdout, /StartupFailed +startup probe failed \(3 times in a row\): connect ECONNREFUSED/);
    assert.equal((await cluster.cli(['delete', 'service', 'slow'])).code, 0);
    await eventually('no tasks and no containers left', 60_000, async () => ((await cluster.tasks()).length === 0 && (await cluster.containers()).length === 0 ? true : undefined));
  });
});
