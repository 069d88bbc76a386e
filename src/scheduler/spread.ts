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
  /** Leaf only: candidates by how many tasks of the service their node holds. */
  buckets: Candidate[][];
  minBucket: number;
}

/** A node that may take tasks of the batch, with its place in the tree. */
export interface Candidate {
  node: NodeInfo;
  leaf: SpreadGroup;
  bucket: number;
  pos: number;
  /** Score parts that do not change during the batch (affinity, taint preference). */
  fixedScore: number;
}

function group(value: string, parent: SpreadGroup | undefined): SpreadGroup {
  return { value, parent, count: 0, alive: 0, children: [], byValue: new Map(), buckets: [], minBucket: 0 };
}

/** The spread tree of one batch. */
export class SpreadTree {
  readonly root: SpreadGroup = group('', undefined);

  /**
   * @param serviceNodes node name -> tasks of the service already there (any node, eligible or not)
   * @param nodeByName to find the label values of those nodes
   */
  constructor(
    private readonly spec: PlacementSpec,
    candidates: readonly { node: NodeInfo; fixedScore: number }[],
    serviceNodes: ReadonlyMap<string, number> | undefined,
    nodeByName: ReadonlyMap<string, NodeInfo>,
  ) {
    for (const { node, fixedScore } of candidates) this.insert(node, fixedScore);
    if (serviceNodes === undefined || spec.spread.length === 0) return;
    for (const [name, n] of serviceNodes) {
      const node = nodeByName.get(name);
      if (node === undefined) continue;
      let g: SpreadGroup | undefined = this.root;
      for (const path of spec.spread) {
        g = g.byValue.get(path.valueOf(node));
        if (g === undefined) break;
        g.count += n;
      }
    }
  }

  private insert(node: NodeInfo, fixedScore: number): void {
    let g = this.root;
    g.alive++;
    for (const path of this.spec.spread) {
      const v = path.valueOf(node);
      let child = g.byValue.get(v);
      if (child === undefined) {
        child = group(v, g);
        g.byValue.set(v, child);
        g.children.push(child);
      }
      child.alive++;
      g = child;
    }
    const b = node.usage.byService.get(this.spec.service) ?? 0;
    while (g.buckets.length <= b) g.buckets.push([]);
    const bucket = g.buckets[b] as Candidate[];
    bucket.push({ node, leaf: g, bucket: b, pos: bucket.length, fixedScore });
    if (b < g.minBucket) g.minBucket = b;
  }

  /** The best candidate for the next task, or undefined when no node can take one. */
  pick(rng: Random, strategy: Strategy, limit: number): Candidate | undefined {
    while (this.root.alive > 0) {
      const leaf = this.descend(rng);
      const c = this.pickInLeaf(leaf, rng, strategy, limit);
      if (c !== undefined) return c;
    }
    return undefined;
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

  private pickInLeaf(leaf: SpreadGroup, rng: Random, strategy: Strategy, limit: number): Candidate | undefined {
    for (let b = leaf.minBucket; b < leaf.buckets.length; b++) {
      const bucket = leaf.buckets[b] as Candidate[];
      const n = bucket.length;
      if (n === 0) {
        if (b === leaf.minBucket) leaf.minBucket++;
        continue;
      }
      const start = randomInt(rng, n);
      const dead: Candidate[] = [];
      let best: Candidate | undefined;
      let bestScore = -Infinity;
      let found = 0;
      for (let j = 0; j < n && found < limit; j++) {
        const c = bucket[(start + j) % n] as Candidate;
        if (!fits(c.node, this.spec)) {
          dead.push(c);
          continue;
        }
        found++;
        const s = c.fixedScore + strategyScore(c.node, this.spec, strategy);
        if (s > bestScore) {
          best = c;
          bestScore = s;
        }
      }
      for (const d of dead) this.drop(d);
      if (best !== undefined) return best;
    }
    return undefined;
  }

  private unlink(c: Candidate): void {
    const bucket = c.leaf.buckets[c.bucket] as Candidate[];
    const last = bucket.pop() as Candidate;
    if (last !== c) {
      bucket[c.pos] = last;
      last.pos = c.pos;
    }
  }

  /** Removes a candidate that cannot take the batch. */
  private drop(c: Candidate): void {
    this.unlink(c);
    for (let g: SpreadGroup | undefined = c.leaf; g !== undefined; g = g.parent) g.alive--;
  }

  /** Records that a task of the batch went to the candidate's node. */
  commit(c: Candidate): void {
    this.unlink(c);
    c.bucket++;
    const leaf = c.leaf;
    while (leaf.buckets.length <= c.bucket) leaf.buckets.push([]);
    const bucket = leaf.buckets[c.bucket] as Candidate[];
    c.pos = bucket.length;
    bucket.push(c);
    for (let g: SpreadGroup | undefined = leaf; g !== undefined; g = g.parent) g.count++;
  }
}
