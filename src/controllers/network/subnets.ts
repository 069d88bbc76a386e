/**
 * The pure half of node subnet allocation (STYLE.md 5): given the cluster CIDR, the block size
 * per node and the Nodes, decide which nodes get which block. A node keeps the block it has
 * (spec.podCIDR is never changed once set, so addresses of running tasks stay valid); nodes
 * without one get the lowest free block, in name order, so `flotilla up` gets the first.
 * Nodes that cannot get one (the range is full) are listed with a message that says why.
 */
import type { NodeObject } from '../../api/kinds.js';
import { blockAt, blockCount, blockIndex, formatIpv4Cidr, parseIpv4Cidr } from './cidr.js';

/** Label of simulated nodes (`flotilla agent --simulate`): they run no containers, need no subnet. */
export const HOLLOW_LABEL = 'flotilla.dev/hollow';

/** What the allocator decided. */
export interface SubnetPlan {
  /** Node name -> the block to write into its spec.podCIDR. */
  assign: Map<string, string>;
  /** Nodes left without a block, with the reason. */
  exhausted: Map<string, string>;
}

/** True for nodes that need a subnet (real nodes: not hollow). */
export function needsSubnet(n: NodeObject): boolean {
  return n.metadata.labels?.[HOLLOW_LABEL] !== 'true';
}

/** See the file comment. `nodeBits` is the prefix length of one node's block (24 by default). */
export function planSubnets(clusterCidr: string, nodeBits: number, nodes: readonly NodeObject[]): SubnetPlan {
  const range = parseIpv4Cidr(clusterCidr);
  const total = blockCount(range, nodeBits);
  const used = new Set<number>();
  const waiting: NodeObject[] = [];
  for (const n of nodes) {
    if (!needsSubnet(n)) continue;
    const have = n.spec.podCIDR;
    if (have === undefined || have === '') {
      waiting.push(n);
      continue;
    }
    const i = blockIndex(range, nodeBits, have);
    if (i !== undefined) used.add(i);
  }
  const plan: SubnetPlan = { assign: new Map(), exhausted: new Map() };
  waiting.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  let next = 0;
  for (const n of waiting) {
    while (next < total && used.has(next)) next++;
    if (next >= total) {
      plan.exhausted.set(n.metadata.name, exhaustedMessage(clusterCidr, nodeBits, total));
      continue;
    }
    used.add(next);
    plan.assign.set(n.metadata.name, formatIpv4Cidr(blockAt(range, nodeBits, next)));
  }
  return plan;
}

/** The one clear line a user sees on the node and in the event. */
export function exhaustedMessage(clusterCidr: string, nodeBits: number, total: number): string {
  return `no task subnet for this node: cluster CIDR ${clusterCidr} has room for ${total} node subnet(s) of /${nodeBits} and all are taken; ` +
    'start the server with a larger --cluster-cidr or remove unused nodes';
}
