/**
 * The nodes that pass the static filters for one placement signature (constraints, tolerations,
 * affinity, spread), with their fixed scores, and the skeleton of their spread tree: label-value
 * groups, leaves and which candidates sit in each leaf. Built once per signature and scheduling
 * pass and shared by every batch with that signature; spread.ts resets the skeleton's counts and
 * buckets per batch instead of rebuilding it, so a batch over 10,000 nodes costs a few copies of
 * integer arrays, not 10,000 objects and 10,000 fit checks.
 */
import type { NodeInfo, PlacementSpec } from './types.js';

/** A label-value group of the spread tree: inner (children) or leaf (members and buckets). */
export interface SpreadGroup {
  value: string;
  parent: SpreadGroup | undefined;
  /** Tasks of the service on nodes in this group (eligible or not); per batch. */
  count: number;
  /** Candidates not yet known to be unable to take the batch; per batch, starts at `size`. */
  alive: number;
  /** Candidates under this group. */
  size: number;
  children: SpreadGroup[];
  byValue: Map<string, SpreadGroup>;
  /** Leaf only: its candidates in a fixed order; bucket 0 starts each batch as a copy. */
  members: number[];
  /** Leaf only: candidate indexes by how many tasks of the service their node holds; per batch. */
  buckets: number[][];
  minBucket: number;
}

/** The reusable spread tree of an EligibleSet, with the per-batch arrays its trees write. */
export interface SpreadSkeleton {
  root: SpreadGroup;
  /** Every group, the root included. */
  groups: SpreadGroup[];
  /** Per leaf index (as in leafOf), its group. */
  leaves: SpreadGroup[];
  /** Per candidate, its position in its leaf's members. */
  homePos: Int32Array;
  /** Per candidate, its bucket and position there: scratch of the tree in use. */
  bucketOf: Int32Array;
  posOf: Int32Array;
  /** The SpreadTree now using the skeleton (one at a time). */
  owner: object | undefined;
}

/** The eligible nodes of a signature; see the file comment. */
export interface EligibleSet {
  nodes: NodeInfo[];
  /** Score parts that do not change during a pass (affinity, taint preference). */
  fixedScores: number[];
  /** Per node, the index of its leaf in skeleton.leaves. */
  leafOf: Int32Array;
  /** Node name -> index in `nodes` (the map is built at the first call: most batches never ask). */
  indexOf(name: string): number | undefined;
  /** True when some fixed score is not zero: preferences must then be seen, so score all. */
  scoreVaries: boolean;
  skeleton: SpreadSkeleton;
}

function group(value: string, parent: SpreadGroup | undefined): SpreadGroup {
  return { value, parent, count: 0, alive: 0, size: 0, children: [], byValue: new Map(), members: [], buckets: [[]], minBucket: 0 };
}

/**
 * Groups eligible nodes by their spread label values into the skeleton of their spread tree
 * (walking the groups' value maps level by level: no per-node strings or arrays).
 */
export function eligibleSet(spec: PlacementSpec, nodes: NodeInfo[], fixedScores: number[]): EligibleSet {
  const root = group('', undefined);
  const groups = [root];
  const leaves: SpreadGroup[] = [];
  const leafIndex = new Map<SpreadGroup, number>();
  const n = nodes.length;
  const leafOf = new Int32Array(n);
  const homePos = new Int32Array(n);
  const paths = spec.spread;
  for (let i = 0; i < n; i++) {
    const node = nodes[i] as NodeInfo;
    let g = root;
    for (const p of paths) {
      const v = p.valueOf(node);
      let child = g.byValue.get(v);
      if (child === undefined) {
        child = group(v, g);
        groups.push(child);
        g.byValue.set(v, child);
        g.children.push(child);
      }
      g = child;
    }
    let leaf = leafIndex.get(g);
    if (leaf === undefined) {
      leafIndex.set(g, (leaf = leaves.length));
      leaves.push(g);
    }
    leafOf[i] = leaf;
    homePos[i] = g.members.length;
    g.members.push(i);
    for (let up: SpreadGroup | undefined = g; up !== undefined; up = up.parent) up.size++;
  }
  const skeleton: SpreadSkeleton = { root, groups, leaves, homePos, bucketOf: new Int32Array(n), posOf: new Int32Array(n), owner: undefined };
  let byName: Map<string, number> | undefined;
  const indexOf = (name: string): number | undefined => (byName ??= new Map(nodes.map((x, i) => [x.name, i]))).get(name);
  return { nodes, fixedScores, leafOf, indexOf, scoreVaries: fixedScores.some((x) => x !== 0), skeleton };
}
