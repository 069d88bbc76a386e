/**
 * The filters of the pipeline, each named, cheap first (SwarmKit's pipeline order: node state,
 * then resources, then constraints). A filter returns why it rejects a node, as the words that
 * follow a count in the unplaced reason ("3 insufficient memory"), or undefined to pass it.
 */
import { formatConstraint, matchConstraint, type Constraint } from '../api/constraint.js';
import type { Taint, Toleration } from '../api/kinds.js';
import { formatPortKey } from './compile.js';
import type { NodeInfo, PlacementSpec } from './types.js';

/** What filters may read besides the node and the spec: the injected clock. */
export interface FilterContext {
  nowMs: number;
  heartbeatTimeoutMs: number | undefined;
}

/** One named step of the pipeline. */
export interface Filter {
  name: string;
  /**
   * Static filters look at the node's facts only, so their answer holds for a whole batch;
   * dynamic ones (resources) change as tasks are placed.
   */
  dynamic: boolean;
  reject(node: NodeInfo, spec: PlacementSpec, ctx: FilterContext): string | undefined;
}

/** A task mounting a bound named volume goes to the volume's node only (spec.volumeNode). */
export const volumeNode: Filter = {
  name: 'VolumeNode',
  dynamic: false,
  reject(node, spec) {
    const v = spec.volumeNode;
    if (v === undefined || v.node === node.name) return undefined;
    return `did not hold volume ${v.volume} (it lives on node ${v.node})`;
  },
};

/** Ready, with a heartbeat fresh enough when a timeout is set. */
export const nodeReady: Filter = {
  name: 'NodeReady',
  dynamic: false,
  reject(node, _spec, ctx) {
    if (node.state !== 'ready') return 'not ready';
    const t = ctx.heartbeatTimeoutMs;
    if (t !== undefined && node.heartbeatMs !== undefined && ctx.nowMs - node.heartbeatMs > t) return 'not ready';
    return undefined;
  },
};

/** The node's runtime can run containers (its RuntimeReady condition is not false: src/api/node-conditions.ts). */
export const runtimeReady: Filter = {
  name: 'RuntimeReady',
  dynamic: false,
  reject(node) {
    return node.runtimeNotReady === undefined ? undefined : `runtime not ready (${node.runtimeNotReady})`;
  },
};

/** The node's data dir is not (nearly) full (its DiskPressure condition is not true). */
export const noDiskPressure: Filter = {
  name: 'DiskPressure',
  dynamic: false,
  reject(node) {
    return node.diskPressure === undefined ? undefined : 'disk pressure';
  },
};

/** Availability active: a paused or draining node takes no new tasks. */
export const nodeActive: Filter = {
  name: 'NodeActive',
  dynamic: false,
  reject(node) {
    if (node.availability === 'pause') return 'paused';
    if (node.availability === 'drain') return 'draining';
    return undefined;
  },
};

/** Requests against allocatable minus what is placed: CPU, memory, pids, published host ports. */
export const resourcesFit: Filter = {
  name: 'ResourcesFit',
  dynamic: true,
  reject(node, spec) {
    const u = node.usage;
    if (spec.cpuMillis > 0 && u.cpuMillis + spec.cpuMillis > node.cpuMillis) return 'insufficient cpu';
    if (spec.memoryBytes > 0 && u.memoryBytes + spec.memoryBytes > node.memoryBytes) return 'insufficient memory';
    if (spec.pids > 0 && u.pids + spec.pids > node.pids) return 'insufficient pids';
    for (const p of spec.ports) if ((u.ports.get(p) ?? 0) > 0) return `host port ${formatPortKey(p)} in use`;
    return undefined;
  },
};

/** Placement constraints: node.name, node.role, node.labels.K with ==, !=, in, not in. */
export const constraintsMatch: Filter = {
  name: 'Constraints',
  dynamic: false,
  reject(node, spec) {
    for (const c of spec.constraints) if (!matchConstraint(c, node)) return `did not match ${formatConstraint(c)}`;
    return undefined;
  },
};

/** True when one toleration covers the taint (kube's semantics: empty key with Exists covers all). */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect !== undefined && t.effect !== taint.effect) return false;
  if (t.operator === 'Exists') return t.key === '' || t.key === taint.key;
  return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
}

/** Renders a taint: `dedicated=gpu:NoSchedule`. */
export function formatTaint(t: Taint): string {
  return `${t.key}${t.value === undefined || t.value === '' ? '' : `=${t.value}`}:${t.effect}`;
}

/** NoSchedule and NoExecute taints must be tolerated; PreferNoSchedule only lowers the score. */
export const taintsTolerated: Filter = {
  name: 'TaintToleration',
  dynamic: false,
  reject(node, spec) {
    for (const taint of node.taints) {
      if (taint.effect === 'PreferNoSchedule') continue;
      if (!spec.tolerations.some((t) => tolerates(t, taint))) return `had untolerated taint ${formatTaint(taint)}`;
    }
    return undefined;
  },
};

/** Required node affinity: constraints under another name, reported as such. */
export const affinityRequired: Filter = {
  name: 'NodeAffinity',
  dynamic: false,
  reject(node, spec) {
    for (const c of spec.affinityRequired) if (!matchConstraint(c, node)) return `did not match node affinity ${formatConstraint(c)}`;
    return undefined;
  },
};

/** The pipeline, in order. Reasons are counted for the first filter that rejects a node. */
export const FILTERS: readonly Filter[] = [volumeNode, nodeReady, runtimeReady, noDiskPressure, nodeActive, resourcesFit, constraintsMatch, taintsTolerated, affinityRequired];

function untoleratedHardTaint(node: NodeInfo, spec: PlacementSpec): boolean {
  for (const taint of node.taints) {
    if (taint.effect === 'PreferNoSchedule') continue;
    if (!spec.tolerations.some((t) => tolerates(t, taint))) return true;
  }
  return false;
}

function matchesAll(cs: readonly Constraint[], node: NodeInfo): boolean {
  for (const c of cs) if (!matchConstraint(c, node)) return false;
  return true;
}

/**
 * True when the node passes every filter whose answer cannot change during a batch: the same
 * answer as every static filter's `reject` returning undefined, without building reasons (this
 * runs over every node once per placement signature; the reasons only when a task is unplaced).
 */
export function passesStatic(node: NodeInfo, spec: PlacementSpec, ctx: FilterContext): boolean {
  return (
    (spec.volumeNode === undefined || spec.volumeNode.node === node.name) &&
    nodeReady.reject(node, spec, ctx) === undefined &&
    node.runtimeNotReady === undefined &&
    node.diskPressure === undefined &&
    node.availability !== 'pause' && node.availability !== 'drain' &&
    matchesAll(spec.constraints, node) &&
    !untoleratedHardTaint(node, spec) &&
    matchesAll(spec.affinityRequired, node)
  );
}

/** True when the node has room for one more task of the spec now. */
export function fits(node: NodeInfo, spec: PlacementSpec): boolean {
  const u = node.usage;
  if (u.cpuMillis + spec.cpuMillis > node.cpuMillis && spec.cpuMillis > 0) return false;
  if (u.memoryBytes + spec.memoryBytes > node.memoryBytes && spec.memoryBytes > 0) return false;
  if (u.pids + spec.pids > node.pids && spec.pids > 0) return false;
  for (const p of spec.ports) if ((u.ports.get(p) ?? 0) > 0) return false;
  return true;
}

/** Per reason, how many nodes it ruled out, and the pipeline position of its filter. */
export type RejectionCounts = Map<string, { count: number; filter: number }>;

/** Runs the whole pipeline over the nodes and counts, per reason, the nodes each filter rejected. */
export function countRejections(nodes: Iterable<NodeInfo>, spec: PlacementSpec, ctx: FilterContext): RejectionCounts {
  const out: RejectionCounts = new Map();
  for (const node of nodes) {
    for (let i = 0; i < FILTERS.length; i++) {
      const why = (FILTERS[i] as Filter).reject(node, spec, ctx);
      if (why === undefined) continue;
      const e = out.get(why);
      if (e === undefined) out.set(why, { count: 1, filter: i });
      else e.count++;
      break;
    }
  }
  return out;
}

/**
 * The unplaced reason: "0/6 nodes: 3 insufficient memory, 3 did not match node.labels.ssd == true".
 * Larger counts first; ties in pipeline order, then alphabetically.
 */
export function formatReason(total: number, counts: RejectionCounts): string {
  if (total === 0) return '0/0 nodes: the cluster has no nodes';
  const parts = [...counts]
    .sort((a, b) => b[1].count - a[1].count || a[1].filter - b[1].filter || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([why, e]) => `${e.count} ${why}`);
  if (parts.length === 0) return `0/${total} nodes: none could take it`;
  return `0/${total} nodes: ${parts.join(', ')}`;
}
