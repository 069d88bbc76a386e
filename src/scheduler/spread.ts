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
 * node found not to fit is dropped from the tree for good: each node is rejected once per batch,
 * and only when a pick meets it (fits is checked lazily, not over every node up front).
 *
 * The tree's shape (groups, leaves, which candidates sit in which leaf) depends only on the
 * EligibleSet, so it is built once per set (eligible.ts) and each batch's SpreadTree resets it:
 * counts to zero, bucket 0 of every leaf back to all its members, the service's existing tasks
 * moved up their buckets. A batch allocates nothing per node.
 */
import { randomInt, type Random } from './rng.js';
import { scoreIfFits } from './scorers.js';
import type { EligibleSet, SpreadGroup } from './eligible.js';
import type { NodeInfo, PlacementSpec, Strategy } from './types.js';

export { eligibleSet, type EligibleSet, type SpreadGroup } from './eligible.js';

/** Scratch for the candidates a pick found dead (reused: picks never overlap). */
const DEAD: number[] = [];

/** The spread tree of one batch; only the newest tree over an EligibleSet may be used. */
export class SpreadTree {
  readonly root: SpreadGroup;
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
    const sk = eligible.skeleton;
    sk.owner = this;
    this.root = sk.root;
    this.leaves = sk.leaves;
    this.bucketOf = sk.bucketOf;
    this.posOf = sk.posOf;
    for (const g of sk.groups) {
      g.count = 0;
      g.alive = g.size;
      g.minBucket = 0;
    }
    for (const leaf of this.leaves) {
      const b0 = leaf.buckets[0] as number[];
      const m = leaf.members;
      for (let j = 0; j < m.length; j++) b0[j] = m[j] as number;
      b0.length = m.length;
      leaf.buckets.length = 1;
    }
    this.posOf.set(sk.homePos);
    this.bucketOf.fill(0);
    for (const [name, n] of serviceNodes ?? []) {
      const i = eligible.indexOf(name);
      if (i !== undefined) this.move(i, this.leafOfCandidate(i), n);
      this.countExisting(nodeByName.get(name), n);
    }
  }

  private leafOfCandidate(c: number): SpreadGroup {
    return this.leaves[this.eligible.leafOf[c] as number] as SpreadGroup;
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

  /** The node of a candidate index. */
  nodeAt(i: number): NodeInfo {
    return this.eligible.nodes[i] as NodeInfo;
  }

  /** The best candidate (an index) for the next task, or -1 when no node can take one. */
  pick(rng: Random, strategy: Strategy, limit: number): number {
    if (this.eligible.skeleton.owner !== this) throw new Error('spread tree: a newer tree over the same eligible set replaced this one');
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
    const spec = this.spec;
    const binpack = strategy === 'binpack';
    for (let b = leaf.minBucket; b < leaf.buckets.length; b++) {
      const bucket = leaf.buckets[b] as number[];
      const n = bucket.length;
      if (n === 0) {
        if (b === leaf.minBucket) leaf.minBucket++;
        continue;
      }
      let at = randomInt(rng, n);
      DEAD.length = 0;
      let best = -1;
      let bestScore = -Infinity;
      let found = 0;
      for (let j = 0; j < n && found < limit; j++, at = at + 1 === n ? 0 : at + 1) {
        const c = bucket[at] as number;
        const score = scoreIfFits(nodes[c] as NodeInfo, spec, binpack);
        if (score < 0) {
          DEAD.push(c);
          continue;
        }
        found++;
        const s = (fixedScores[c] as number) + score;
        if (s > bestScore) {
          best = c;
          bestScore = s;
        }
      }
      for (const d of DEAD) this.drop(d, leaf);
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

  /** Moves a live candidate from its bucket to bucket `b`. */
  private move(c: number, leaf: SpreadGroup, b: number): void {
    this.unlink(c, leaf);
    this.bucketOf[c] = b;
    while (leaf.buckets.length <= b) leaf.buckets.push([]);
    const bucket = leaf.buckets[b] as number[];
    this.posOf[c] = bucket.length;
    bucket.push(c);
  }

  /** Removes a candidate that cannot take the batch. */
  private drop(c: number, leaf: SpreadGroup): void {
    this.unlink(c, leaf);
    for (let g: SpreadGroup | undefined = leaf; g !== undefined; g = g.parent) g.alive--;
  }

  /** Records that a task of the batch went to the candidate's node. */
  commit(c: number): void {
    const leaf = this.leafOfCandidate(c);
    this.move(c, leaf, (this.bucketOf[c] as number) + 1);
    for (let g: SpreadGroup | undefined = leaf; g !== undefined; g = g.parent) g.count++;
  }
}
