/**
 * Chaos, fault 1 (issue 13, docs/reliability.md): the HA control plane. A 3-member etcd on
 * loopback, 3 `flotilla server` processes on it (one KEK file, so one cluster), hollow nodes for
 * capacity (one `flotilla agent --simulate` process given ONE server: it learns the others when it
 * joins), and 8 API clients
 * (each its own ApiClient from admin.json, which lists every server) creating and updating
 * Services in a loop, logging each acknowledged (name, step, revision) (test/helpers/chaos-load.ts).
 *
 *   faults, each after a few seconds of load:  kill -9 the leading server -> restart it
 *                                              kill -9 the etcd leader     -> restart it
 *                                              kill -9 the leading server -> restart it
 *   takeover-ms: from the kill until another server's /leaderz says leader (its controllers start)
 *   sampler:     tasks listed every 250 ms; per service, tasks desired running AND running must
 *                never exceed its replicas (two leaders at once would make more)
 *   CLI:         `flotilla get nodes` with the killed server's admin.json (its `server` is dead)
 *   history:     every acknowledged (name, step) is in the final state at that step or a later one
 * Prints `chaos ha-control-plane: operations=... acknowledged=... errors=... acknowledged-lost=0
 * over-replicas=0 takeover-ms=A,B`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApiClient, loadClientConfig } from '../../src/client/index.js';
import type { ApiObject } from '../../src/api/object.js';
import { freePort, startEtcdCluster, type EtcdCluster } from '../helpers/etcd.js';
import { eventually, flotilla, FlotillaProcess } from '../helpers/flotilla.js';
import { lostAcks, runWriters, stepOf, type LoadResult } from '../helpers/chaos-load.js';
import { reportCounts, rounds } from '../helpers/chaos.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');

/** GET /leaderz of one server: whether it leads (undefined: no answer). */
function leads(url: string, ca: string): Promise<boolean | undefined> {
  return new Promise((resolve) => {
    const req = https.get(`${url}/leaderz`, { ca, timeout: 1_000, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => {
        try {
          resolve((JSON.parse(body) as { leader?: boolean }).leader === true);
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

describe('chaos: HA control plane (3 servers, 3 etcd members, 8 clients)', { timeout: 300_000 }, () => {
  let dir: string;
  let etcd: EtcdCluster;
  const servers: { dir: string; port: number; proc: FlotillaProcess; url: string }[] = [];
  let hollow: ChildProcess | undefined;
  let ca = '';

  const serverProcess = (s: { dir: string; port: number }): FlotillaProcess => new FlotillaProcess([
    'server', '--data-dir', s.dir, '--listen', `127.0.0.1:${s.port}`, '--store', 'etcd',
    '--etcd-endpoints', etcd.endpoints.join(','), '--kek-file', path.join(dir, 'kek'),
  ]);
  const leaderIndex = async (except = -1): Promise<number | undefined> => {
    for (let i = 0; i < servers.length; i++) if (i !== except && (await leads(servers[i]!.url, ca)) === true) return i;
    return undefined;
  };

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flotilla-chaos-ha-'));
    etcd = await startEtcdCluster(3);
    for (let i = 0; i < 3; i++) servers.push({ dir: path.join(dir, `s${i}`), port: await freePort(), proc: undefined as unknown as FlotillaProcess, url: '' });
    // The first server creates the KEK file and the cluster's CA and admin token; the others adopt them.
    for (const [i, s] of servers.entries()) {
      s.proc = serverProcess(s);
      if (i === 0) await s.proc.start();
    }
    await Promise.all(servers.slice(1).map((s) => s.proc.start()));
    for (const s of servers) s.url = s.proc.url;
    ca = loadClientConfig(path.join(servers[0]!.dir, 'admin.json')).ca;
    const tokens = new Set(servers.map((s) => loadClientConfig(path.join(s.dir, 'admin.json')).token));
    assert.equal(tokens.size, 1, 'one admin token for the cluster');
    await eventually('admin.json listing the 3 servers', 20_000, async () => (loadClientConfig(path.join(servers[0]!.dir, 'admin.json')).servers?.length === 3 ? true : undefined));
    const tok = await flotilla(['token', 'create'], { config: path.join(servers[0]!.dir, 'admin.json') });
    assert.equal(tok.code, 0, tok.stderr);
    const token = tok.stdout.trim().split('\n')[0] as string;
    hollow = spawn(process.execPath, ['--import', 'tsx', MAIN, 'agent', '--server', servers[0]!.url, '--token', token, '--simulate', '6', '--data-dir', path.join(dir, 'hollow'), '--name', 'h'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    hollow.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
    hollow.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
    await eventually('6 hollow nodes ready', 60_000, async () => {
      if (hollow?.exitCode !== null) throw new Error(`hollow agent exited: ${out}`);
      return /6 hollow nodes ready/.test(out) ? true : undefined;
    });
    // Given one server, the agent learned the others from the join answer (Config flotilla-system/api-servers).
    const readyLine = out.split('\n').find((l) => l.includes('hollow nodes ready as')) ?? '';
    for (const s of servers) assert.ok(readyLine.includes(s.url), `the hollow agent knows ${s.url}: ${readyLine}`);
  });

  after(async () => {
    hollow?.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.proc?.stop()));
    await etcd?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('loses no acknowledged write, never over-replicates, and a new leader leads within 5 s each time', async () => {
    const config = loadClientConfig(path.join(servers[0]!.dir, 'admin.json'));
    const clients = Array.from({ length: 8 }, () => new ApiClient(config, { timeoutMs: 10_000, connectTimeoutMs: 2_000 }));
    const observer = new ApiClient(config, { timeoutMs: 10_000, connectTimeoutMs: 2_000 });
    const gap = rounds(4_000, 20_000);
    const loadMs = gap * 4;
    const loads = clients.map((client, i) => runWriters({ client, kind: 'Service', prefix: `ha${i}`, workers: 1, durationMs: loadMs, objectsPerWorker: 3, pauseMs: 30 }));

    // The sampler: per service, running tasks that should run, against its replicas.
    let samples = 0;
    let overReplicas = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        try {
          const tasks = (await observer.list('Task', { namespace: 'default' })).items as ApiObject[];
          const live = new Map<string, number>();
          for (const t of tasks) {
            const spec = t.spec as { service: string; desiredState: string };
            if (spec.desiredState === 'running' && (t.status as { state?: string } | undefined)?.state === 'running') live.set(spec.service, (live.get(spec.service) ?? 0) + 1);
          }
          samples++;
          for (const [svc, n] of live) if (n > 2) { overReplicas++; console.error(`over-replicated: ${svc} has ${n} running tasks (replicas 2)`); }
        } catch {
          // a failover in progress: the next sample
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    // Nodes marked down: a failover must not look like dead nodes (heartbeats keep going to a live server).
    let nodesDown = 0;
    const nodeWatch = await observer.watch({ kind: 'Node' }, {
      onEvent: (e) => { if ((e.object.status as { state?: string } | undefined)?.state === 'down') { nodesDown++; console.error(`node down: ${e.object.metadata.name}`); } },
    });
    const takeovers: number[] = [];
    const killLeader = async (): Promise<number> => {
      const i = await eventually('a leading server', 20_000, () => leaderIndex());
      const killedAt = Date.now();
      await servers[i]!.proc.kill9();
      while ((await leaderIndex(i)) === undefined) {
        if (Date.now() - killedAt > 20_000) throw new Error('no other server took over within 20 s');
        await new Promise((r) => setTimeout(r, 50));
      }
      takeovers.push(Date.now() - killedAt);
      return i;
    };
    const restart = async (i: number): Promise<void> => {
      servers[i]!.proc = serverProcess(servers[i]!);
      await servers[i]!.proc.start();
    };

    await new Promise((r) => setTimeout(r, gap));
    const first = await killLeader();
    const cli = await flotilla(['get', 'nodes', '-o', 'json'], { config: path.join(servers[first]!.dir, 'admin.json'), timeoutMs: 60_000 });
    assert.equal(cli.code, 0, `the CLI fails over from the dead server: ${cli.stderr}`);
    assert.equal((JSON.parse(cli.stdout) as { items: unknown[] }).items.length, 6);
    await restart(first);

    await new Promise((r) => setTimeout(r, gap / 2));
    const member = etcd.members[await etcd.leaderIndex()]!;
    await member.kill();
    await new Promise((r) => setTimeout(r, gap / 2));
    await member.restart();

    await new Promise((r) => setTimeout(r, gap / 2));
    const second = await killLeader();
    await restart(second);

    const results: LoadResult[] = await Promise.all(loads);
    sampling = false;
    await sampler;
    await nodeWatch.stop();
    const acks = results.flatMap((r) => r.acks);
    const services = (await observer.list('Service', { namespace: 'default' })).items as ApiObject[];
    const finalSteps = new Map(services.map((s) => [s.metadata.name, stepOf(s)]));
    const lost = lostAcks(acks, finalSteps);
    const counts = {
      operations: results.reduce((n, r) => n + r.operations, 0), acknowledged: acks.length, errors: results.reduce((n, r) => n + r.errors, 0),
      ambiguous: results.reduce((n, r) => n + r.ambiguous, 0),
      faults: 3, 'acknowledged-lost': lost.length, 'over-replicas': overReplicas, 'nodes-down': nodesDown, samples, 'takeover-ms': takeovers.join(','),
    };
    // The last leader runs the controllers: every service converges to its 2 replicas.
    const converged = await eventually('every service at 2 running tasks', 60_000, async () => {
      const tasks = (await observer.list('Task', { namespace: 'default' })).items as ApiObject[];
      const live = new Map<string, number>();
      for (const t of tasks) {
        const spec = t.spec as { service: string; desiredState: string };
        if (spec.desiredState === 'running' && (t.status as { state?: string } | undefined)?.state === 'running') live.set(spec.service, (live.get(spec.service) ?? 0) + 1);
      }
      return services.every((svc) => live.get(svc.metadata.name) === 2) ? services.length : undefined;
    });
    reportCounts('ha-control-plane', { ...counts, services: converged });
    await Promise.all([...clients, observer].map((c) => c.close()));
    assert.deepEqual(lost, [], `acknowledged writes lost: ${JSON.stringify(lost.slice(0, 5))}`);
    assert.ok(acks.length > 0, `nothing acknowledged: ${results.flatMap((r) => r.samples).join('; ')}`);
    assert.equal(overReplicas, 0);
    assert.ok(samples > 10, `only ${samples} samples`);
    for (const ms of takeovers) assert.ok(ms < 5_000, `takeover took ${ms} ms`);
    assert.ok(readFileSync(path.join(servers[0]!.dir, 'admin.json'), 'utf8').includes(servers[2]!.url));
  });
});
