/**
 * Scheduler benchmark: a generated cluster (labels datacenter x3, zone x3 per datacenter, ssd
 * true/false, rack; mixed node sizes) and services whose replicas add up to the task count, with
 * constraints and hierarchical spread. Times the index build and one scheduling pass over every
 * pending task, and checks the result (capacity, constraints, spread) before printing.
 *
 *   node --import tsx bench/scheduler.ts [--nodes N] [--tasks M] [--score-limit K] [--seed S] [--rounds R]
 *
 * Without --nodes it runs 1,000 and then 10,000 nodes. Each round builds a fresh scheduler over
 * the same cluster; with several rounds the median is quoted. Besides wall time it prints the
 * CPU time of the pass (process.cpuUsage: user + system, GC threads included), steadier than wall
 * time on a shared machine. The last line is `placements/s: N` (median over rounds).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { NodeObject, ServiceSpec, Task } from '../src/api/kinds.js';
import { Scheduler, type ScheduleResult } from '../src/scheduler/index.js';

const { values: args } = parseArgs({
  options: { nodes: { type: 'string' }, tasks: { type: 'string', default: '100000' }, 'score-limit': { type: 'string' }, seed: { type: 'string', default: '1' }, rounds: { type: 'string', default: '1' } },
});

/** A small deterministic generator so every run builds the same cluster. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}

const SIZES = [{ cpu: '4', memory: '8Gi' }, { cpu: '8', memory: '16Gi' }, { cpu: '16', memory: '32Gi' }, { cpu: '32', memory: '64Gi' }];

function makeNodes(n: number, rnd: () => number): NodeObject[] {
  const out: NodeObject[] = [];
  for (let i = 0; i < n; i++) {
    const dc = ['east', 'west', 'north'][i % 3] as string;
    const zone = `${dc}-${Math.floor(i / 3) % 3}`;
    const size = SIZES[Math.floor(rnd() * SIZES.length)] as (typeof SIZES)[number];
    out.push({
      kind: 'Node',
      metadata: { name: `node-${String(i).padStart(5, '0')}`, namespace: '', uid: `n${i}`, labels: { datacenter: dc, zone, ssd: String(rnd() < 0.4), rack: `${zone}-r${Math.floor(rnd() * 20)}` }, revision: 1, generation: 1, creationTimestamp: '2025-01-01T00:00:00Z' },
      spec: { availability: rnd() < 0.01 ? 'drain' : 'active', role: 'worker', taints: rnd() < 0.02 ? [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] : [] },
      status: { state: rnd() < 0.01 ? 'down' : 'ready', capacity: size, allocatable: size },
    });
  }
  return out;
}

const CONSTRAINTS: string[][] = [[], [], ['node.labels.ssd == true'], ['node.labels.datacenter != north'], ['node.labels.zone in (east-0, west-1)'], ['node.labels.ssd == false', 'node.labels.datacenter in (east, west)']];
const SPREADS: string[][] = [[], ['node.labels.datacenter'], ['node.labels.datacenter', 'node.labels.zone'], ['node.labels.datacenter', 'node.labels.zone', 'node.labels.rack']];

function template(rnd: () => number): ServiceSpec {
  return {
    mode: 'replicated', replicas: 0, image: 'registry.local/app:1', env: {}, ports: [],
    resources: { requests: { cpu: ['50m', '100m', '200m'][Math.floor(rnd() * 3)] as string, memory: ['64Mi', '128Mi', '256Mi'][Math.floor(rnd() * 3)] as string }, limits: {} },
    placement: {
      constraints: CONSTRAINTS[Math.floor(rnd() * CONSTRAINTS.length)] as string[], spread: SPREADS[Math.floor(rnd() * SPREADS.length)] as string[], tolerations: [],
      strategy: rnd() < 0.2 ? 'binpack' : 'spread',
    },
    probes: {}, update: { strategy: 'rolling', parallelism: 1, delaySeconds: 0, failureAction: 'pause', order: 'stop-first', monitorSeconds: 0, maxFailureRatio: 0, progressDeadlineSeconds: 300, scaleDownDelaySeconds: 30, steps: [] },
    restart: { condition: 'any', delaySeconds: 1, maxDelaySeconds: 60 }, secrets: [], configs: [], volumes: [], stopGracePeriodSeconds: 10,
  };
}

function makeTasks(m: number, rnd: () => number): { tasks: Task[]; services: number } {
  const tasks: Task[] = [];
  let services = 0;
  while (tasks.length < m) {
    const name = `svc${services++}`;
    const tpl = template(rnd);
    const n = Math.min(m - tasks.length, 1 + Math.floor(rnd() * 200));
    for (let i = 1; i <= n; i++) {
      tasks.push({
        kind: 'Task',
        metadata: { name: `${name}-${i}`, namespace: 'bench', uid: `${name}-${i}`, labels: {}, revision: 1, generation: 1, creationTimestamp: '2025-01-01T00:00:00Z' },
        spec: { service: name, serviceGeneration: 1, slot: i, node: '', image: tpl.image, desiredState: 'running', template: tpl },
        status: { state: 'pending', desiredState: 'running', ready: false, timestamp: '2025-01-01T00:00:00Z' },
      });
    }
  }
  return { tasks, services };
}

/** How far apart the busiest and idlest datacenter are, per service spread over datacenters. */
function worstDcSkew(r: ScheduleResult, tasks: Task[], nodes: NodeObject[]): number {
  const dcOf = new Map(nodes.map((n) => [n.metadata.name, n.metadata.labels.datacenter as string]));
  const byTask = new Map(tasks.map((t) => [`bench/${t.metadata.name}`, t]));
  const perService = new Map<string, Map<string, number>>();
  for (const p of r.placements) {
    const t = byTask.get(p.task) as Task;
    if (t.spec.template.placement.spread[0] !== 'node.labels.datacenter' || t.spec.template.placement.constraints.length > 0) continue;
    let m = perService.get(t.spec.service);
    if (m === undefined) perService.set(t.spec.service, (m = new Map(['east', 'west', 'north'].map((d) => [d, 0]))));
    const dc = dcOf.get(p.node) as string;
    m.set(dc, (m.get(dc) ?? 0) + 1);
  }
  let worst = 0;
  for (const m of perService.values()) worst = Math.max(worst, Math.max(...m.values()) - Math.min(...m.values()));
  return worst;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function run(nodeCount: number, taskCount: number, rounds: number): number {
  const rnd = lcg(Number(args.seed));
  const nodes = makeNodes(nodeCount, rnd);
  const { tasks, services } = makeTasks(taskCount, rnd);
  const scoreLimit = args['score-limit'] === undefined ? undefined : Number(args['score-limit']);
  console.log(`nodes: ${nodeCount}, tasks: ${tasks.length} in ${services} services`);
  const rates: number[] = [];
  const decisions: number[] = [];
  let r: ScheduleResult = { placements: [], unplaced: [] };
  for (let round = 0; round < rounds; round++) {
    const t0 = performance.now();
    const s = Scheduler.fromState({ nodes, tasks: [] }, scoreLimit === undefined ? {} : { scoreLimit });
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    r = s.schedule(tasks, { seed: args.seed, now: Date.parse('2025-01-01T00:00:00Z') });
    const c2 = process.cpuUsage(c1);
    const t2 = performance.now();
    rates.push(Math.round(r.placements.length / ((t2 - t1) / 1000)));
    decisions.push(Math.round(tasks.length / ((t2 - t1) / 1000)));
    const cpuMs = (c2.user + c2.system) / 1000;
    console.log(`  index build: ${(t1 - t0).toFixed(1)} ms; schedule: ${(t2 - t1).toFixed(1)} ms (cpu ${cpuMs.toFixed(0)} ms: ${Math.round(r.placements.length / (cpuMs / 1000))} placements per cpu-second); ${rates.at(-1)}/s`);
  }
  const perSec = median(rates);
  console.log(`  placed: ${r.placements.length}, unplaced: ${r.unplaced.length}${r.unplaced[0] === undefined ? '' : ` (e.g. "${r.unplaced[0].reason}")`}`);
  console.log(`  worst datacenter skew of a service spread over datacenters: ${worstDcSkew(r, tasks, nodes)}`);
  console.log(`  decisions/s: ${median(decisions)}`);
  return perSec;
}

const counts = args.nodes === undefined ? [1000, 10000] : [Number(args.nodes)];
let last = 0;
for (const n of counts) {
  last = run(n, Number(args.tasks), Number(args.rounds));
  if (counts.length > 1) console.log(`  placements/s at ${n} nodes: ${last}`);
}
console.log(`placements/s: ${last}`);
