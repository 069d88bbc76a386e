/**
 * The scheduler's live view of the cluster, kept between calls: nodes indexed by name, role and
 * label value; per node the usage of the tasks placed on it (so free capacity is a subtraction,
 * never a sum over tasks); per service the nodes holding its tasks (so spread counts are a walk
 * over a service's nodes, never over the cluster). Updated event by event.
 */
import type { Constraint } from '../api/constraint.js';
import type { NodeObject } from '../api/kinds.js';
import { compileNode, emptyUsage, type TaskHold } from './compile.js';
import type { NodeInfo, NodeUsage, NodeUsageReport, PlacementSpec } from './types.js';

function bump<K>(m: Map<K, number>, k: K, d: number): void {
  const v = (m.get(k) ?? 0) + d;
  if (v === 0) m.delete(k);
  else m.set(k, v);
}

/** Nodes, their usage and indexes; the only mutable state of a Scheduler. */
export class ClusterIndex {
  readonly nodes = new Map<string, NodeInfo>();
  private readonly usages = new Map<string, NodeUsage>();
  private readonly byLabel = new Map<string, Map<string, Set<NodeInfo>>>();
  private readonly byRole = new Map<string, Set<NodeInfo>>();
  private readonly holds = new Map<string, TaskHold>();
  private readonly serviceNodes = new Map<string, Map<string, number>>();

  /** Adds a node or replaces its facts; its usage stays. */
  upsertNode(n: NodeObject): NodeInfo {
    this.removeNode(n.metadata.name, true);
    const info = compileNode(n, this.usageFor(n.metadata.name));
    this.nodes.set(info.name, info);
    for (const [k, v] of Object.entries(info.labels)) {
      let values = this.byLabel.get(k);
      if (values === undefined) this.byLabel.set(k, (values = new Map()));
      let set = values.get(v);
      if (set === undefined) values.set(v, (set = new Set()));
      set.add(info);
    }
    let roles = this.byRole.get(info.role);
    if (roles === undefined) this.byRole.set(info.role, (roles = new Set()));
    roles.add(info);
    return info;
  }

  /** Forgets a node; tasks still recorded on it keep their usage in case it comes back. */
  removeNode(name: string, keepUsage = false): boolean {
    const info = this.nodes.get(name);
    if (info === undefined) return false;
    this.nodes.delete(name);
    for (const [k, v] of Object.entries(info.labels)) {
      const values = this.byLabel.get(k);
      const set = values?.get(v);
      set?.delete(info);
      if (set?.size === 0) values?.delete(v);
      if (values?.size === 0) this.byLabel.delete(k);
    }
    this.byRole.get(info.role)?.delete(info);
    if (!keepUsage && info.usage.tasks === 0) this.usages.delete(name);
    return true;
  }

  private usageFor(name: string): NodeUsage {
    let u = this.usages.get(name);
    if (u === undefined) this.usages.set(name, (u = emptyUsage()));
    return u;
  }

  /** The usage recorded on a node name (tasks may be recorded on nodes not yet seen): a snapshot. */
  usageOf(name: string): NodeUsageReport | undefined {
    const u = this.usages.get(name);
    if (u === undefined) return undefined;
    const byService = new Map<string, number>();
    for (const [service, nodes] of this.serviceNodes) {
      const n = nodes.get(name);
      if (n !== undefined) byService.set(service, n);
    }
    return { ...u, ports: new Map(u.ports), byService };
  }

  /** What a task holds, when it is recorded. */
  holdOf(id: string): TaskHold | undefined {
    return this.holds.get(id);
  }

  /**
   * Records a task on a node; replaces (moves) any earlier record of the same task. `on`, when
   * given, is the node's info (the scheduler has it at hand): its usage is updated without a lookup.
   */
  hold(id: string, h: TaskHold, on?: NodeInfo): void {
    if (this.holds.size > 0) this.release(id);
    this.holds.set(id, h);
    this.apply(h, 1, on?.name === h.node ? on.usage : undefined);
  }

  /** Forgets a task; returns false when it was not recorded. */
  release(id: string): boolean {
    const h = this.holds.get(id);
    if (h === undefined) return false;
    this.holds.delete(id);
    this.apply(h, -1);
    if (!this.nodes.has(h.node) && this.usages.get(h.node)?.tasks === 0) this.usages.delete(h.node);
    return true;
  }

  private apply(h: TaskHold, d: 1 | -1, usage?: NodeUsage): void {
    const u = usage ?? this.usageFor(h.node);
    u.cpuMillis += d * h.cpuMillis;
    u.memoryBytes += d * h.memoryBytes;
    u.pids += d * h.pids;
    u.tasks += d;
    for (const p of h.ports) bump(u.ports, p, d);
    let sn = this.serviceNodes.get(h.service);
    if (sn === undefined) this.serviceNodes.set(h.service, (sn = new Map()));
    bump(sn, h.node, d);
    if (sn.size === 0) this.serviceNodes.delete(h.service);
  }

  /** Node name -> tasks of the service there. */
  nodesOfService(service: string): ReadonlyMap<string, number> | undefined {
    return this.serviceNodes.get(service);
  }

  /** The nodes a positive constraint (==, in) allows, from the indexes; undefined when it is negative. */
  private allowedBy(c: Constraint): NodeInfo[] | undefined {
    if (c.op !== '==' && c.op !== 'in') return undefined;
    const out: NodeInfo[] = [];
    for (const v of c.values) {
      if (c.field.kind === 'name') {
        const n = this.nodes.get(v);
        if (n !== undefined) out.push(n);
      } else {
        const set = c.field.kind === 'role' ? this.byRole.get(v) : this.byLabel.get(c.field.key)?.get(v);
        if (set !== undefined) for (const n of set) out.push(n);
      }
    }
    return out;
  }

  /**
   * The nodes worth filtering for a spec: those of its most selective positive constraint
   * (`node.labels.ssd == true` reads one index entry), else every node. A superset of the
   * feasible nodes; the filters still run on each.
   */
  candidates(spec: PlacementSpec): Iterable<NodeInfo> {
    let best: NodeInfo[] | undefined;
    for (const c of [...spec.constraints, ...spec.affinityRequired]) {
      const allowed = this.allowedBy(c);
      if (allowed !== undefined && (best === undefined || allowed.length < best.length)) best = allowed;
    }
    return best ?? this.nodes.values();
  }
}
