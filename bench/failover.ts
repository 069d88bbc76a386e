/**
 * Failover benchmark (issue 4): an agent running 50 tasks is killed with SIGKILL; how long
 * until all 50 replacements run on another node. A real server (child process: HTTPS,
 * SQLite, scheduler and controllers, the default 6 s grace period unless --grace-ms) and two
 * hollow agent processes of one node each (real agent code: Lease heartbeats every 2 s, the
 * TaskSupervisor; fake containers). Several rounds; the agents take turns being the victim.
 *
 *   node --import tsx bench/failover.ts [--rounds 5] [--tasks 50] [--grace-ms 6000]
 *                                       [--heartbeat-ms 2000] [--limit-seconds 300]
 *
 * A round:
 *   cordon the other node ─► apply service fo-R (50 replicas) ─► all 50 running on the victim
 *   ─► uncordon the other ─► kill -9 the victim's process (t=0)
 *   ─► victim Node down (detected) ─► 50 replacements running on the other node (done)
 *   ─► delete the service, restart the victim's agent (same prefix: its node comes back ready)
 *
 * Prints each round (detection and replacement times), then the median; the last line reads
 * `failover median: N s`. Bounded by --limit-seconds; everything started is stopped and the
 * temp dir removed at the end, also on failure. Loopback only.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { NodeObject, Service, Task } from '../src/api/kinds.js';
import { ApiClient, loadClientConfig } from '../src/client/index.js';
import { killChild, lagOf, loadavg, secs, startHollowChild, startServerChild, stopChild } from './children.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    tasks: { type: 'string', default: '50' },
    'grace-ms': { type: 'string', default: '6000' },
    'heartbeat-ms': { type: 'string', default: '2000' },
    'limit-seconds': { type: 'string', default: '300' },
  },
});
const ROUNDS = Number(values.rounds);
const TASKS = Number(values.tasks);
const GRACE_MS = Number(values['grace-ms']);
const HEARTBEAT_MS = Number(values['heartbeat-ms']);
const DEADLINE = Date.now() + Number(values['limit-seconds']) * 1000;
const POLL_MS = 50;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every POLL_MS until it returns a value; throws at the bench's deadline. */
async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > DEADLINE) throw new Error(`time limit reached waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

/** One agent process of one hollow node `PREFIX-0`. */
interface Agent {
  prefix: string;
  node: string;
  dataDir: string;
  child?: ChildProcess;
}

/** What one round measured (ms from the kill). */
interface Round {
  victim: string;
  downMs: number;
  replacedMs: number;
}

/** Sets a node's availability (what `flotilla node cordon|uncordon` does), retrying lost races. */
async function setAvailability(admin: ApiClient, name: string, availability: NodeObject['spec']['availability']): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const n = (await admin.get({ kind: 'Node', namespace: '', name })) as NodeObject;
    if (n.spec.availability === availability) return;
    try {
      await admin.updateSpec({ ...n, spec: { ...n.spec, availability } });
      return;
    } catch (err) {
      if (attempt >= 10) throw err;
    }
  }
}

const tasksOf = async (admin: ApiClient, svc: string): Promise<Task[]> =>
  (await admin.list('Task', { namespace: 'default', labelSelector: { service: svc } })).items as Task[];
const runningOn = (ts: Task[], node: string): number =>
  ts.filter((t) => t.spec.desiredState === 'running' && t.spec.node === node && t.status?.state === 'running').length;
const nodeState = async (admin: ApiClient, name: string): Promise<string | undefined> =>
  ((await admin.get({ kind: 'Node', namespace: '', name })) as NodeObject | undefined)?.status?.state;

async function startAgent(admin: ApiClient, token: string, a: Agent): Promise<void> {
  a.child = await startHollowChild({ server: admin.config.server, token, count: 1, prefix: a.prefix, dataDir: a.dataDir, heartbeatMs: HEARTBEAT_MS }, 60_000);
  await until(`node ${a.node} ready`, async () => ((await nodeState(admin, a.node)) === 'ready' ? true : undefined));
}

/** One round: see the file comment. */
async function round(admin: ApiClient, token: string, r: number, victim: Agent, other: Agent): Promise<Round> {
  const name = `fo-${r}`;
  await setAvailability(admin, other.node, 'pause');
  const svc: Pick<Service, 'kind' | 'metadata'> & { spec: Record<string, unknown> } = {
    kind: 'Service', metadata: { name, namespace: 'default', uid: '', labels: { bench: 'failover' }, revision: 0, generation: 0, creationTimestamp: '' },
    spec: { image: '127.0.0.1:1/hollow/never-pulled:1', replicas: TASKS, resources: { requests: { cpu: '10m', memory: '16Mi' } } },
  };
  await admin.apply([svc]);
  await until(`${TASKS} tasks running on ${victim.node}`, async () => (runningOn(await tasksOf(admin, name), victim.node) >= TASKS ? true : undefined));
  await setAvailability(admin, other.node, 'active');
  const t0 = Date.now();
  await killChild(victim.child as ChildProcess);
  let downMs = NaN;
  const replacedMs = await until(`${TASKS} replacements running on ${other.node}`, async () => {
    if (Number.isNaN(downMs) && (await nodeState(admin, victim.node)) === 'down') downMs = Date.now() - t0;
    return runningOn(await tasksOf(admin, name), other.node) >= TASKS ? Date.now() - t0 : undefined;
  });
  if (Number.isNaN(downMs)) downMs = replacedMs; // seen down only with the last poll
  await admin.delete({ kind: 'Service', namespace: 'default', name });
  await startAgent(admin, token, victim);
  return { victim: victim.node, downMs, replacedMs };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-failover-'));
  let server: ChildProcess | undefined;
  let admin: ApiClient | undefined;
  const agents: Agent[] = ['fa', 'fb'].map((prefix) => ({ prefix, node: `${prefix}-0`, dataDir: path.join(dir, prefix) }));
  try {
    console.log(`failover: ${TASKS} tasks on a killed agent, ${ROUNDS} rounds; heartbeat ${HEARTBEAT_MS} ms, grace ${GRACE_MS} ms; load average ${loadavg()} (${os.cpus().length} cores, shared)`);
    server = await startServerChild({ dataDir: path.join(dir, 'server'), nodeGracePeriodMs: GRACE_MS });
    admin = new ApiClient(loadClientConfig(path.join(dir, 'server', 'admin.json')));
    const { token } = await admin.createJoinToken('worker', 3600);
    for (const a of agents) await startAgent(admin, token, a);
    const rounds: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const victim = agents[r % 2] as Agent;
      const got = await round(admin, token, r, victim, agents[(r + 1) % 2] as Agent);
      rounds.push(got);
      console.log(`round ${r + 1}: killed ${got.victim}: node down after ${secs(got.downMs)} s, all ${TASKS} replacements running after ${secs(got.replacedMs)} s; load average ${loadavg()}; server ${lagOf(server)}`);
    }
    console.log(`node down detected: median ${secs(median(rounds.map((x) => x.downMs)))} s (grace ${secs(GRACE_MS)} s)`);
    console.log(`all replacements running: median ${secs(median(rounds.map((x) => x.replacedMs)))} s, min ${secs(Math.min(...rounds.map((x) => x.replacedMs)))} s, max ${secs(Math.max(...rounds.map((x) => x.replacedMs)))} s`);
    console.log(`failover median: ${secs(median(rounds.map((x) => x.replacedMs)))} s`);
  } finally {
    await admin?.close().catch(() => undefined);
    for (const a of agents) await stopChild(a.child, 10_000);
    await stopChild(server, 30_000);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`failover bench failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
