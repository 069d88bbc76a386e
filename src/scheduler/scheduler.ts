/**
 * The Scheduler: keeps the cluster index between calls and places pending tasks in batches.
 *
 *   pending ─ sort (oldest first) ─ batch by service generation (or pinned node)
 *     batch ─ compile spec ─ named volumes (missing: refuse; bound: pin to their node) ─ candidates from the label index ─ static filters + fits now
 *           ─ spread tree ─ per task: group, node, commit ─ placements
 *                                     └ none left: count rejections over all nodes ─ unplaced
 *     first placement of a batch with unbound volumes: bind them to its node (result.bindings),
 *     the rest of the batch follows it there
 *
 * Pure apart from its own index: no I/O, the clock and seeds come in through the options.
 */
import type { NodeObject, Service, Task, Volume } from '../api/kinds.js';
import { TERMINAL_TASK_STATES } from '../api/kinds.js';
import { compileSpec, holdOf, serviceKey, taskId } from './compile.js';
import { ClusterIndex } from './cluster.js';
import { formatConstraint, type Constraint } from '../api/constraint.js';
import { countRejections, formatReason, passesStatic, type FilterContext } from './filters.js';
import { hash32, HASH32_EMPTY, SeededRandom } from './rng.js';
import { staticScore } from './scorers.js';
import { eligibleSet, SpreadTree, type EligibleSet } from './spread.js';
import { volumeKeysOf, VolumeBook, volumeNodeReason, type VolumeBinding } from './volumes.js';
import type { ClusterState, NodeInfo, NodeUsageReport, PlacementSpec, ScheduleOptions, ScheduleResult, SchedulerOptions, Unplaced } from './types.js';

/** Default number of feasible nodes scored per task inside its spread group. */
export const DEFAULT_SCORE_LIMIT = 32;

/** The positions of the tasks, oldest first, then by id (keys computed once, no object per task). */
function byAge(tasks: readonly Task[], ids: readonly string[]): number[] {
  const created = tasks.map((t) => t.metadata.creationTimestamp ?? '');
  const order = tasks.map((_, i) => i);
  return order.sort((i, j) => {
    const x = created[i] as string;
    const y = created[j] as string;
    if (x !== y) return x < y ? -1 : 1;
    const p = ids[i] as string;
    const q = ids[j] as string;
    return p < q ? -1 : p > q ? 1 : 0;
  });
}

/** What the static filters and fixed scores of a spec depend on. */
function filterSignature(spec: PlacementSpec): string {
  const c = (xs: Constraint[]): string => xs.map(formatConstraint).join('\u0001');
  const pref = spec.affinityPreferred.map((t) => `${t.weight}:${formatConstraint(t.constraint)}`).join('\u0001');
  return [c(spec.constraints), c(spec.affinityRequired), pref, JSON.stringify(spec.tolerations)].join('\u0000');
}

function batchKey(t: Task, id: string): string {
  if (t.spec.node !== '') return `pin\u0000${id}`;
  return `${serviceKey(t)}\u0000${t.spec.serviceGeneration}`;
}

/** True when two unpinned tasks are replicas of the same service generation (one batch). */
function sameBatch(a: Task, b: Task): boolean {
  return a.spec.node === '' && b.spec.node === '' && a.spec.service === b.spec.service && a.metadata.namespace === b.metadata.namespace && a.spec.serviceGeneration === b.spec.serviceGeneration;
}

/**
 * What one scheduling pass caches (nodes do not change during it): the nodes passing the static
 * filters with their fixed scores, per filter signature; and their spread grouping, per filter
 * signature and spread.
 */
interface PassCache {
  filtered: Map<string, { nodes: NodeInfo[]; scores: number[] }>;
  sets: Map<string, EligibleSet>;
}

/** The tasks of one batch and their ids. */
interface Batch {
  tasks: Task[];
  ids: string[];
}

/** Incremental scheduler: feed it node and task events, ask it to place pending tasks. */
export class Scheduler {
  private readonly index = new ClusterIndex();
  private readonly volumes = new VolumeBook();

  constructor(private readonly options: SchedulerOptions = {}) {}

  /** A scheduler loaded with a whole cluster state. */
  static fromState(state: ClusterState, options: SchedulerOptions = {}): Scheduler {
    const s = new Scheduler(options);
    for (const n of state.nodes) s.upsertNode(n);
    for (const t of state.tasks) s.observeTask(t);
    for (const v of state.volumes ?? []) s.upsertVolume(v);
    return s;
  }

  /** A Volume appeared or changed (its status.node is its binding). */
  upsertVolume(v: Volume): void {
    this.volumes.upsert(v);
  }

  /** A Volume was deleted. */
  removeVolume(namespace: string, name: string): void {
    this.volumes.remove(namespace, name);
  }

  /** A binding this scheduler returned could not be written: the volume is unbound again (unless stored as bound). */
  bindingFailed(volume: string): void {
    this.volumes.forget(volume);
  }

  /** What the scheduler knows of a volume (`namespace/name`), for tests. */
  volumeBinding(volume: string): Readonly<VolumeBinding> | undefined {
    return this.volumes.get(volume);
  }

  /** A node appeared or changed (labels, taints, availability, state, allocatable). */
  upsertNode(n: NodeObject): void {
    this.index.upsertNode(n);
  }

  /** A node was deleted. */
  removeNode(name: string): void {
    this.index.removeNode(name);
  }

  /**
   * A task changed (feed every watch event in; idempotent): a task assigned or beyond holds
   * resources on `spec.node`; a terminal one holds nothing. A task still new or pending is left
   * alone, whether or not it names a node: it is what `schedule` places (a preset node pins it),
   * and it must not undo a placement this scheduler made whose write has not landed yet.
   */
  observeTask(t: Task): void {
    // A task without a status that names a node is taken as placed (plain ClusterState input).
    const state = t.status?.state ?? (t.spec.node === '' ? 'new' : 'assigned');
    if (TERMINAL_TASK_STATES.has(state)) this.taskEnded(taskId(t));
    else if (state !== 'new' && state !== 'pending' && t.spec.node !== '') this.taskPlaced(t);
  }

  /** Records a task on its node (`spec.node`). Moving it to another node is allowed. */
  taskPlaced(t: Task): void {
    const h = holdOf(t);
    const old = this.index.holdOf(taskId(t));
    if (old !== undefined && old.node === h.node) return;
    this.index.hold(taskId(t), h);
  }

  /**
   * A task ended or was deleted (by id, `namespace/name`): its resources are free again. Also
   * call it when writing a placement this scheduler returned failed.
   */
  taskEnded(id: string): void {
    this.index.release(id);
  }

  /** What a node has in use, for tests and `describe node`. */
  usageOf(node: string): Readonly<NodeUsageReport> | undefined {
    return this.index.usageOf(node);
  }

  /**
   * Places pending tasks and records the placements in the index (as if observed), so the next
   * call sees them. A pending task the index already holds gets its recorded node again.
   */
  schedule(pending: readonly Task[], opts: ScheduleOptions = {}): ScheduleResult {
    const ctx: FilterContext = { nowMs: opts.now ?? Date.now(), heartbeatTimeoutMs: this.options.heartbeatTimeoutMs };
    const seed = opts.seed === undefined ? undefined : String(opts.seed);
    const result: ScheduleResult = { placements: [], unplaced: [] };
    const ids = pending.map(taskId);
    const batches = new Map<string, Batch>();
    let lastTask: Task | undefined;
    let lastBatch: Batch | undefined;
    for (const i of byAge(pending, ids)) {
      const t = pending[i] as Task;
      const id = ids[i] as string;
      const held = this.index.holdOf(id);
      if (held !== undefined) {
        result.placements.push({ task: id, node: held.node });
        continue;
      }
      // Replicas of one service sort next to each other: skip building the key for those.
      let b = lastTask !== undefined && sameBatch(lastTask, t) ? lastBatch : undefined;
      if (b === undefined) {
        const k = batchKey(t, id);
        b = batches.get(k);
        if (b === undefined) batches.set(k, (b = { tasks: [], ids: [] }));
      }
      b.tasks.push(t);
      b.ids.push(id);
      lastTask = t;
      lastBatch = b;
    }
    const cache: PassCache = { filtered: new Map(), sets: new Map() };
    const seedHash = seed === undefined ? HASH32_EMPTY : hash32(`${seed}\u0000`);
    for (const batch of batches.values()) this.placeBatch(batch, ctx, seedHash, cache, result);
    return result;
  }

  /** @param seedHash hash32 of the caller's seed and a separator (HASH32_EMPTY without one): each task seeds from it and its id */
  private placeBatch(batch: Batch, ctx: FilterContext, seedHash: number, cache: PassCache, out: ScheduleResult): void {
    const first = batch.tasks[0] as Task;
    const refuse = (reason: string): void => {
      for (const id of batch.ids) out.unplaced.push({ task: id, reason, counts: {} });
    };
    let spec: PlacementSpec;
    try {
      spec = compileSpec(serviceKey(first), first.spec.template);
    } catch (e) {
      refuse(`invalid placement: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    let pinned = first.spec.node === '' ? undefined : first.spec.node;
    const needs = this.volumes.resolve(volumeKeysOf(first.metadata.namespace, first.spec.template));
    if (needs.kind === 'refuse') return refuse(needs.reason);
    if (needs.kind === 'pin') {
      if (pinned !== undefined && pinned !== needs.node) return refuse(`volume ${needs.volume} lives on node ${needs.node}, not on ${pinned}`);
      spec = { ...spec, volumeNode: { volume: needs.volume, node: needs.node } };
      pinned = needs.node;
    }
    const unbound = needs.kind === 'none' ? [] : needs.unbound;
    const eligible = this.eligibleFor(spec, pinned, ctx, cache);
    const tree = new SpreadTree(spec, eligible, this.index.nodesOfService(spec.service), this.index.nodes);
    const strategy = spec.strategy ?? this.options.defaultStrategy ?? 'spread';
    // Preferences must be seen to be honoured: with affinity or soft taints in play, score every node.
    const configured = this.options.scoreLimit ?? DEFAULT_SCORE_LIMIT;
    const limit = eligible.scoreVaries || configured <= 0 ? Infinity : configured;
    let failure: Omit<Unplaced, 'task'> | undefined;
    const { service, cpuMillis, memoryBytes, pids, ports } = spec;
    const rng = new SeededRandom();
    for (let i = 0; i < batch.ids.length; i++) {
      const id = batch.ids[i] as string;
      const c = failure === undefined ? tree.pick(rng.reseed(hash32(id, seedHash)), strategy, limit) : -1;
      if (c < 0) {
        failure ??= this.explain(spec, pinned, ctx);
        out.unplaced.push({ task: id, ...failure });
        continue;
      }
      const info = tree.nodeAt(c);
      this.index.hold(id, { node: info.name, service, cpuMillis, memoryBytes, pids, ports }, info);
      tree.commit(c);
      out.placements.push({ task: id, node: info.name });
      if (unbound.length > 0) {
        // This placement binds the volumes: the rest of the batch (and later passes) follow it to `node`.
        for (const v of unbound) this.volumes.bind(v, info.name);
        (out.bindings ??= []).push(...unbound.map((volume) => ({ volume, node: info.name })));
        if (i + 1 < batch.ids.length) this.placeBatch({ tasks: batch.tasks.slice(i + 1), ids: batch.ids.slice(i + 1) }, ctx, seedHash, cache, out);
        return;
      }
    }
  }

  /**
   * The nodes passing the static filters, grouped for spread; cached for one scheduling pass
   * (nodes do not change during it; usage does, and is checked per batch).
   */
  private eligibleFor(spec: PlacementSpec, pinned: string | undefined, ctx: FilterContext, cache: PassCache): EligibleSet {
    if (pinned !== undefined) {
      const f = this.filtered([this.index.nodes.get(pinned)].filter((n): n is NodeInfo => n !== undefined), spec, ctx);
      return eligibleSet(spec, f.nodes, f.scores);
    }
    const fkey = filterSignature(spec);
    const key = `${fkey}\u0000${spec.spread.map((p) => p.text).join('\u0001')}`;
    const hit = cache.sets.get(key);
    if (hit !== undefined) return hit;
    let f = cache.filtered.get(fkey);
    if (f === undefined) cache.filtered.set(fkey, (f = this.filtered(this.index.candidates(spec), spec, ctx)));
    const set = eligibleSet(spec, f.nodes, f.scores);
    cache.sets.set(key, set);
    return set;
  }

  private filtered(pool: Iterable<NodeInfo>, spec: PlacementSpec, ctx: FilterContext): { nodes: NodeInfo[]; scores: number[] } {
    const nodes: NodeInfo[] = [];
    const scores: number[] = [];
    for (const node of pool) {
      if (!passesStatic(node, spec, ctx)) continue;
      nodes.push(node);
      scores.push(staticScore(node, spec));
    }
    return { nodes, scores };
  }

  /** Why no node can take the spec: every filter's rejections over every node (or the pinned one). */
  private explain(spec: PlacementSpec, pinned: string | undefined, ctx: FilterContext): Omit<Unplaced, 'task'> {
    if (spec.volumeNode !== undefined) return this.explainVolume(spec, spec.volumeNode, ctx);
    if (pinned !== undefined && !this.index.nodes.has(pinned)) return { reason: `node ${pinned} does not exist`, counts: {} };
    const nodes = pinned === undefined ? [...this.index.nodes.values()] : [this.index.nodes.get(pinned) as NodeInfo];
    const rejections = countRejections(nodes, spec, ctx);
    const counts: Record<string, number> = {};
    for (const [why, e] of rejections) counts[why] = e.count;
    return { reason: formatReason(nodes.length, rejections), counts };
  }

  /** Why the node a bound volume lives on cannot take the spec: "volume data lives on node n2, which is down". */
  private explainVolume(spec: PlacementSpec, v: { volume: string; node: string }, ctx: FilterContext): Omit<Unplaced, 'task'> {
    const info = this.index.nodes.get(v.node);
    if (info === undefined) return { reason: volumeNodeReason(v.volume, v.node, 'missing', undefined), counts: {} };
    const [why] = [...countRejections([info], spec, ctx).keys()];
    return { reason: volumeNodeReason(v.volume, v.node, why ?? 'could not take it', info.state), counts: why === undefined ? {} : { [why]: 1 } };
  }

  /**
   * For a global service: the nodes that may run one of its tasks (ready, active, constraints,
   * taints, required affinity), sorted by name. Resources are not checked here: a task that does
   * not fit stays pending with a reason, as in Swarm.
   */
  eligibleNodes(service: Service, opts: ScheduleOptions = {}): string[] {
    const spec = compileSpec(`${service.metadata.namespace}/${service.metadata.name}`, service.spec);
    const ctx: FilterContext = { nowMs: opts.now ?? Date.now(), heartbeatTimeoutMs: this.options.heartbeatTimeoutMs };
    const needs = this.volumes.resolve(volumeKeysOf(service.metadata.namespace, service.spec));
    // A bound volume allows its node only; a missing one leaves the tasks to say so when placed.
    const only = needs.kind === 'pin' ? needs.node : undefined;
    const out: string[] = [];
    for (const node of this.index.candidates(spec)) if ((only === undefined || node.name === only) && passesStatic(node, spec, ctx)) out.push(node.name);
    return out.sort();
  }
}
