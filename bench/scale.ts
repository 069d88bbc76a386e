/**
 * End-to-end scale benchmark: a real server (child process: HTTPS, SQLite, scheduler and
 * controllers) and one hollow agent process (`flotilla agent --simulate N`), then services
 * totalling M replicas applied at once. Measures the time from apply to all M running, the
 * placements per second through the whole system, and the server's memory.
 *
 *   node --import tsx bench/scale.ts [--nodes 1000] [--tasks 10000] [--services 10]
 *        [--replicas-per-service 100] [--limit-seconds 300] [--start-delay-ms 20]
 *        [--heartbeat-ms max(2000, nodes)] [--grace-ms max(40000, 3 x heartbeat)]
 *        [--sync normal|full] [--prof]   (--prof: CPU profiles of the server and the hollow agent, top functions printed)
 *
 * Bounded: after --limit-seconds (from the start) it stops with the figures it has. Loopback
 * only; both processes are killed and the temp dir removed at the end, also on failure.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { NodeObject, Task } from '../src/api/kinds.js';
import { ApiClient, loadClientConfig } from '../src/client/index.js';
import type { Watch } from '../src/store/store.js';
import { cpuSecondsOf, fmtMem, lagOf, loadavg, secs, startHollowChild, startServerChild, stopChild } from './children.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    tasks: { type: 'string', default: '10000' },
    services: { type: 'string' },
    'limit-seconds': { type: 'string', default: '300' },
    'heartbeat-ms': { type: 'string' },
    'grace-ms': { type: 'string' },
    'replicas-per-service': { type: 'string', default: '100' },
    'start-delay-ms': { type: 'string', default: '20' },
    sync: { type: 'string', default: 'normal' },
    prof: { type: 'boolean', default: false },
  },
});
const NODES = Number(values.nodes);
const TASKS = Number(values.tasks);
const SERVICES = Number(values.services ?? Math.max(1, Math.ceil(TASKS / Number(values['replicas-per-service']))));
const LIMIT_MS = Number(values['limit-seconds']) * 1000;
// Heartbeats (Lease renewals) are one API write each: keep them at most ~1,000/s (2 s up to
// 2,000 nodes, then longer, as Kubernetes does with 10 s leases at scale). Grace: at least 40 s
// (Kubernetes' node-monitor-grace-period), 3 intervals beyond: this bench measures throughput,
// and the burst after applying 100,000 replicas delays API answers (heartbeats among them) by
// seconds on 2 shared cores; with the 6 s default, nodes were marked down while alive, and
// their tasks orphaned and replaced, for nothing. Failover with the default grace is
// bench/failover.ts.
const HEARTBEAT_MS = Number(values['heartbeat-ms'] ?? Math.max(2000, NODES));
const GRACE_MS = Number(values['grace-ms'] ?? Math.max(40_000, 3 * HEARTBEAT_MS));
const SYNC = values.sync === 'full' ? 'full' : 'normal';
const T_START = Date.now();
let interrupted = false;
const left = (): number => (interrupted ? 0 : LIMIT_MS - (Date.now() - T_START));
// Ctrl-C: stop waiting, print the figures so far, clean up.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { interrupted = true; });

/** Task states by name, kept from one watch (as a dashboard would), and when each first ran. */
class TaskCounter {
  readonly state = new Map<string, string>();
  firstAssignedAll = 0;
  constructor(private readonly total: number) {}
  apply(t: Task, deleted: boolean): void {
    if (deleted) this.state.delete(t.metadata.name);
    else this.state.set(t.metadata.name, t.status?.state ?? 'new');
  }
  counts(): Record<string, number> {
    const c: Record<string, number> = {};
    for (const s of this.state.values()) c[s] = (c[s] ?? 0) + 1;
    return c;
  }
  running(): number {
    let n = 0;
    for (const s of this.state.values()) if (s === 'running') n++;
    return n;
  }
  placed(): number {
    let n = 0;
    for (const s of this.state.values()) if (s !== 'new' && s !== 'pending') n++;
    return n;
  }
  done(): boolean {
    return this.running() >= this.total;
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-scale-'));
  let server: ChildProcess | undefined;
  let hollow: ChildProcess | undefined;
  let admin: ApiClient | undefined;
  let watch: Watch | undefined;
  const figures: string[] = [];
  const line = (l: string): void => { console.log(l); figures.push(l); };
  try {
    line(`scale: ${NODES} hollow nodes, ${TASKS} tasks in ${SERVICES} services; heartbeat ${HEARTBEAT_MS} ms, grace ${GRACE_MS} ms, sqlite synchronous=${SYNC}, limit ${secs(LIMIT_MS)} s`);
    line(`load average at start: ${loadavg()} (${os.cpus().length} cores, shared)`);
    const profArgs = (sub: string): string[] => (values.prof ? ['--cpu-prof', `--cpu-prof-dir=${path.join(dir, sub)}`] : []);
    server = await startServerChild({ dataDir: path.join(dir, 'server'), sqliteSynchronous: SYNC, nodeGracePeriodMs: GRACE_MS, clusterCidr: '10.0.0.0/8', nodeArgs: profArgs('prof') });
    admin = new ApiClient(loadClientConfig(path.join(dir, 'server', 'admin.json')), { timeoutMs: 120_000 });
    const { token } = await admin.createJoinToken('worker', 3600);

    const tHollow = Date.now();
    hollow = await startHollowChild({
      server: admin.config.server, token, count: NODES, prefix: 'hollow', dataDir: path.join(dir, 'hollow'),
      heartbeatMs: HEARTBEAT_MS, startDelayMs: Number(values['start-delay-ms']), nodeArgs: profArgs('prof-hollow'),
    }, Math.max(1000, left()));
    line(`registered: ${NODES} hollow nodes in ${secs(Date.now() - tHollow)} s (${(NODES / ((Date.now() - tHollow) / 1000)).toFixed(0)} nodes/s)`);
    const nodes = (await admin.list('Node')).items as NodeObject[];
    line(`nodes ready: ${nodes.filter((n) => n.status?.state === 'ready').length}/${nodes.length}; server ${fmtMem(server.pid)}`);

    const counter = new TaskCounter(TASKS);
    const listed = await admin.list('Task');
    for (const t of listed.items as Task[]) counter.apply(t, false);
    watch = await admin.watch({ kind: 'Task', fromRevision: listed.revision }, {
      onEvent: (ev) => counter.apply(ev.object as Task, ev.type === 'deleted'),
      onError: (e) => console.error(`task watch failed: ${e.message}`),
    });

    const per = Math.floor(TASKS / SERVICES);
    const services = Array.from({ length: SERVICES }, (_, i) => ({
      kind: 'Service', metadata: { name: `scale-${i}`, namespace: 'default', labels: { bench: 'scale' } },
      spec: { image: '127.0.0.1:1/hollow/never-pulled:1', replicas: i === SERVICES - 1 ? TASKS - per * (SERVICES - 1) : per, resources: { requests: { cpu: '10m', memory: '16Mi' } } },
    }));
    const cpu0 = { server: cpuSecondsOf(server.pid), hollow: cpuSecondsOf(hollow.pid) };
    const t0 = Date.now();
    await admin.apply(services);
    line(`applied: ${SERVICES} services, ${TASKS} replicas (apply took ${Date.now() - t0} ms)`);
    let allPlacedMs: number | undefined;
    let nextReport = Date.now() + 5_000;
    while (!counter.done() && left() > 0) {
      await new Promise((r) => setTimeout(r, 200));
      if (allPlacedMs === undefined && counter.placed() >= TASKS) allPlacedMs = Date.now() - t0;
      if (Date.now() >= nextReport) {
        nextReport += 5_000;
        console.log(`  t+${secs(Date.now() - t0)} s: ${JSON.stringify(counter.counts())}; server ${fmtMem(server.pid)}, ${lagOf(server)}; hollow agent ${fmtMem(hollow.pid)}, ${lagOf(hollow)}; load ${loadavg()}`);
      }
    }
    const elapsed = Date.now() - t0;
    const running = counter.running();
    const finished = counter.done();
    const downNodes = ((await admin.list('Node')).items as NodeObject[]).filter((n) => n.status?.state !== 'ready').length;
    const cpu = { server: cpuSecondsOf(server.pid) - cpu0.server, hollow: cpuSecondsOf(hollow.pid) - cpu0.hollow };
    line(finished ? `all running: ${running}/${TASKS} tasks in ${secs(elapsed)} s from apply` : `ABORTED (${interrupted ? 'interrupted' : 'time limit'}): ${running}/${TASKS} running after ${secs(elapsed)} s from apply; states ${JSON.stringify(counter.counts())}`);
    if (allPlacedMs !== undefined) line(`all placed (assigned or later): ${secs(allPlacedMs)} s from apply = ${(TASKS / (allPlacedMs / 1000)).toFixed(0)} placements/s`);
    line(`end to end: ${(running / (elapsed / 1000)).toFixed(0)} tasks running/s (apply -> running, through scheduler, API, agent status writes)`);
    line(`nodes not ready at the end: ${downNodes}/${NODES}`);
    line(`cpu during the run: server ${cpu.server.toFixed(1)} s (${((cpu.server / (elapsed / 1000)) * 100).toFixed(0)}% of a core), hollow agent ${cpu.hollow.toFixed(1)} s (${((cpu.hollow / (elapsed / 1000)) * 100).toFixed(0)}%) (of ${secs(elapsed)} s wall, ${os.cpus().length} cores shared)`);
    line(`load average at the end: ${loadavg()}`);
    line(`server memory: ${fmtMem(server.pid)}; hollow agent memory: ${fmtMem(hollow.pid)}`);
    line(`event loops: server ${lagOf(server)}; hollow agent ${lagOf(hollow)}`);
    line(`placements/s: ${(running / (elapsed / 1000)).toFixed(0)}`);
  } finally {
    await watch?.stop().catch(() => undefined);
    await admin?.close().catch(() => undefined);
    await stopChild(hollow, values.prof ? 60_000 : 10_000); // a profile is only written on a clean exit
    await stopChild(server, 30_000);
    if (values.prof) {
      printProfile(path.join(dir, 'prof'), 'server');
      printProfile(path.join(dir, 'prof-hollow'), 'hollow agent');
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

/** Prints the 25 functions with the most self time in each CPU profile of a process (loader threads, nearly all idle, are skipped). */
function printProfile(profDir: string, who: string): void {
  let files: string[];
  try {
    files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    console.log('profile: none written');
    return;
  }
  for (const f of files) {
    const p = JSON.parse(readFileSync(path.join(profDir, f), 'utf8')) as CpuProfile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const self = new Map<string, number>();
    let total = 0;
    p.samples.forEach((id, i) => {
      const n = byId.get(id);
      const dt = p.timeDeltas[i] ?? 0;
      total += dt;
      if (n === undefined) return;
      const url = n.callFrame.url.replace(/^.*\/(src|node_modules)\//, '$1/');
      const key = `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
      self.set(key, (self.get(key) ?? 0) + dt);
    });
    const idle = [...self].filter(([k]) => k.startsWith('(idle)')).reduce((a, [, v]) => a + v, 0);
    if (total === 0 || idle / total > 0.98) continue;
    console.log(`profile of the ${who} (${f}): ${(total / 1e6).toFixed(1)} s sampled; top self time:`);
    for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${((us / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
  }
}

main().catch((err: unknown) => {
  console.error(`scale bench failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
