/**
 * Spread, exactly, for one batch (the pending replicas of one service generation):
 *
 *   root ── datacenter=a ── zone=a1 ── leaf: buckets of candidate nodes by tasks of the service
 *        │              └─ zone=a2 ── leaf
 *        └─ datacenter=b ── ...
 *
 * Each group counts the service's tasks under it. A task descends from the root, at each level
 * into the child with the fewest tasks (ties broken by the task's seeded random), and in the leaf
 * takes a node from the lowest non-empty bucket (fewest tasks of the service: no two on one node
 * while others are free), scoring at most `limit` feasible nodes there from a random offset.
 * Requests are the same for every replica of a batch and usage only grows while it runs, so a
 * node that does not fit is dropped from the tree for good: each node is rejected once per batch.
 *
 * Candidates are indexes into the EligibleSet (typed arrays hold their bucket and position), so
 * a batch over 10,000 nodes allocates a few arrays, not 10,000 objects.
 */
import { fits } from './filters.js';
import { randomInt, type Random } from './rng.js';
import { strategyScore } from './scorers.js';
import type { NodeInfo, PlacementSpec, Strategy } from './types.js';

/** A label-value group of the spread tree: inner (children) or leaf (buckets). */
export interface SpreadGroup {
  value: string;
  parent: SpreadGroup | undefined;
  /** Tasks of the service on nodes in this group (eligible or not). */
  count: number;
  /** Candidates not yet known to be unable to take the batch. */
  alive: number;
  children: SpreadGroup[];
  byValue: Map<string, SpreadGroup>;
  /** Leaf only: candidate indexes by how many tasks of the service their node holds. */
  buckets: number[][];
  minBucket: number;
}

/**
 * The nodes that pass the static filters for a placement signature, with their fixed scores and
 * the spread leaf each falls in. Built once per signature and scheduling pass, shared by every
 * batch with the same constraints, tolerations, affinity and spread.
 */
export interface EligibleSet {
  nodes: NodeInfo[];
  /** Score parts that do not change during a pass (affinity, taint preference). */
  fixedScores: number[];
  /** Per node, the index of its leaf in leafPaths. */
  leafOf: number[];
  /** Per leaf, its label values from the outermost level down. */
  leafPaths: string[][];
  /** Node name -> index in `nodes`. */
  indexOf: Map<string, number>;
  /** True when some fixed score is not zero: preferences must then be seen, so score all. */
  scoreVaries: boolean;
}

/** Groups eligible nodes by their spread label values. */
export function eligibleSet(spec: PlacementSpec, nodes: NodeInfo[], fixedScores: number[]): EligibleSet {
  const leafByKey = new Map<string, number>();
  const leafPaths: string[][] = [];
  const leafOf: number[] = [];
  const indexOf = new Map<string, number>();
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i] as NodeInfo;
    indexOf.set(node.name, i);
    const path = spec.spread.map((p) => p.valueOf(node));
    const key = path.join('\u0000');
    let leaf = leafByKey.get(key);
    if (leaf === undefined) {
      leafByKey.set(key, (leaf = leafPaths.length));
      leafPaths.push(path);
    }
    leafOf.push(leaf);
  }
  return { nodes, fixedScores, leafOf, leafPaths, indexOf, scoreVaries: fixedScores.some((x) => x !== 0) };
}

function group(value: string, parent: SpreadGroup | undefined): SpreadGroup {
  return { value, parent, count: 0, alive: 0, children: [], byValue: new Map(), buckets: [], minBucket: 0 };
}

/** The spread tree of one batch. */
export class SpreadTree {
  readonly root: SpreadGroup = group('', undefined);
  private readonly leaves: SpreadGroup[];
  private readonly bucketOf: Int32Array;
  private readonly posOf: Int32Array;

  /** @param serviceNodes node name -> tasks of the service already there (any node, eligible or not) */
  constructor(
    private readonly spec: PlacementSpec,
    private readonly eligible: EligibleSet,
    serviceNodes: ReadonlyMap<string, number> | undefined,
    nodeByName: ReadonlyMap<string, NodeInfo>,
  ) {
    const { nodes, leafOf } = eligible;
    this.leaves = eligible.leafPaths.map((path) => this.leaf(path));
    this.bucketOf = new Int32Array(nodes.length);
    this.posOf = new Int32Array(nodes.length);
    for (const [name, n] of serviceNodes ?? []) {
      const i = eligible.indexOf.get(name);
      if (i !== undefined) this.bucketOf[i] = n;
      this.countExisting(nodeByName.get(name), n);
    }
    for (let i = 0; i < nodes.length; i++) {
      if (!fits(nodes[i] as NodeInfo, spec)) continue;
      const leaf = this.leaves[leafOf[i] as number] as SpreadGroup;
      const b = this.bucketOf[i] as number;
      while (leaf.buckets.length <= b) leaf.buckets.push([]);
      const bucket = leaf.buckets[b] as number[];
      this.posOf[i] = bucket.length;
      bucket.push(i);
      leaf.alive++;
    }
    for (const leaf of this.leaves) for (let g = leaf.parent; g !== undefined; g = g.parent) g.alive += leaf.alive;
  }

  /** Adds tasks already on a node to the counts of its groups. */
  private countExisting(node: NodeInfo | undefined, n: number): void {
    if (node === undefined) return;
    let g: SpreadGroup | undefined = this.root;
    for (const path of this.spec.spread) {
      g = g.byValue.get(path.valueOf(node));
      if (g === undefined) return;
      g.count += n;
    }
  }

  /** The leaf group of a path of label values, made on first use. */
  private leaf(path: string[]): SpreadGroup {
    let g = this.root;
    for (const v of path) {
      let child = g.byValue.get(v);
      if (child === undefined) {
        child = group(v, g);
        g.byValue.set(v, child);
        g.children.push(child);
      }
      g = child;
    }
    return g;
  }

  /** The node of a candidate index. */
  nodeAt(i: number): NodeInfo {
    return this.eligible.nodes[i] as NodeInfo;
  }

  /** The best candidate (an index) for the next task, or -1 when no node can take one. */
  pick(rng: Random, strategy: Strategy, limit: number): number {
    while (this.root.alive > 0) {
      const c = this.pickInLeaf(this.descend(rng), rng, strategy, limit);
      if (c >= 0) return c;
    }
    return -1;
  }

  /** Into the child with the fewest tasks, level by level; ties at random. */
  private descend(rng: Random): SpreadGroup {
    let g = this.root;
    while (g.children.length > 0) {
      let best: SpreadGroup | undefined;
      let ties = 0;
      for (const c of g.children) {
        if (c.alive === 0) continue;
        if (best === undefined || c.count < best.count) {
          best = c;
          ties = 1;
        } else if (c.count === best.count && randomInt(rng, ++ties) === 0) {
          best = c;
        }
      }
      if (best === undefined) throw new Error('spread tree: a live group without live children');
      g = best;
    }
    return g;
  }

  private pickInLeaf(leaf: SpreadGroup, rng: Random, strategy: Strategy, limit: number): number {
    const { nodes, fixedScores } = this.eligible;
    for (let b = leaf.minBucket; b < leaf.buckets.length; b++) {
      const bucket = leaf.buckets[b] as number[];
      const n = bucket.length;
      if (n === 0) {
        if (b === leaf.minBucket) leaf.minBucket++;
        continue;
      }
      const start = randomInt(rng, n);
      const dead: number[] = [];
      let best = -1;
      let bestScore = -Infinity;
      let found = 0;
      for (let j = 0; j < n && found < limit; j++) {
        const c = bucket[(start + j) % n] as number;
        const node = nodes[c] as NodeInfo;
        if (!fits(node, this.spec)) {
          dead.push(c);
          continue;
        }
        found++;
        const s = (fixedScores[c] as number) + strategyScore(node, this.spec, strategy);
        if (s > bestScore) {
          best = c;
          bestScore = s;
        }
      }
      for (const d of dead) this.drop(d, leaf);
      if (best >= 0) return best;
    }
    return -1;
  }

  private unlink(c: number, leaf: SpreadGroup): void {
    const bucket = leaf.buckets[this.bucketOf[c] as number] as number[];
    const last = bucket.pop() as number;
    if (last !== c) {
      const pos = this.posOf[c] as number;
      bucket[pos] = last;
      this.posOf[last] = pos;
    }
  }

  /** Removes a candidate that cannot take the batch. */
  private drop(c: number, leaf: SpreadGroup): void {
    this.unlink(c, leaf);
    for (let g: SpreadGroup | undefined = leaf; g !== undefined; g = g.parent) g.alive--;
  }

  /** Records that a task of the batch went to the candidate's node. */
  commit(c: number): void {
    const leaf = this.leaves[this.eligible.leafOf[c] as number] as SpreadGroup;
    this.unlink(c, leaf);
    const b = (this.bucketOf[c] as number) + 1;
    this.bucketOf[c] = b;
    while (leaf.buckets.length <= b) leaf.buckets.push([]);
    const bucket = leaf.buckets[b] as number[];
    this.posOf[c] = bucket.length;
    bucket.push(c);
    for (let g: SpreadGroup | undefined = leaf; g !== undefined; g = g.parent) g.count++;
  }
}
