/**
 * NodeSubnetController: every real Node gets a block of the cluster CIDR in `spec.podCIDR`
 * (one key, "subnets", so two workers never hand out the same block; node events only enqueue
 * it when some node still lacks a block). A node that cannot get one keeps waiting with
 * `status.message` saying why and one Warning Event `SubnetExhausted`; its agent refuses to
 * start its task network until it has one. Blocks are kept in the store, so they are stable
 * across server and agent restarts; a deleted Node's block becomes free again.
 */
import { AlreadyExistsError } from '../../api/errors.js';
import type { EventObject, NodeObject } from '../../api/kinds.js';
import type { Store } from '../../store/store.js';
import { applyActions, Expectations, type Action } from '../framework/apply.js';
import type { Clock } from '../framework/clock.js';
import { Controller } from '../framework/controller.js';
import type { ClusterInformers } from '../informers.js';
import { parseIpv4Cidr } from './cidr.js';
import { needsSubnet, planSubnets } from './subnets.js';

/** The default cluster CIDR: node subnets are cut from it. */
export const DEFAULT_CLUSTER_CIDR = '10.88.0.0/16';
/** The default prefix length of one node's subnet (254 task addresses). */
export const DEFAULT_NODE_SUBNET_BITS = 24;

/** What the controller needs. */
export interface NodeSubnetDeps {
  store: Store;
  informers: ClusterInformers;
  clock: Clock;
  log: (msg: string) => void;
  /** Default DEFAULT_CLUSTER_CIDR. */
  clusterCidr?: string;
  /** Default DEFAULT_NODE_SUBNET_BITS. */
  nodeSubnetBits?: number;
}

const KEY = 'subnets';

function lacksSubnet(n: NodeObject): boolean {
  return needsSubnet(n) && (n.spec.podCIDR === undefined || n.spec.podCIDR === '');
}

/** Builds the controller (validates the cluster CIDR now: a bad flag fails the server's start). */
export function createNodeSubnetController(deps: NodeSubnetDeps): Controller {
  const clusterCidr = deps.clusterCidr ?? DEFAULT_CLUSTER_CIDR;
  const bits = deps.nodeSubnetBits ?? DEFAULT_NODE_SUBNET_BITS;
  parseIpv4Cidr(clusterCidr, 'clusterCidr');
  const nodes = deps.informers.nodes;
  const exp = new Expectations({ Node: nodes });
  const sync = async (key: string): Promise<void> => {
    await exp.wait(key, 5_000);
    const all = nodes.list();
    if (!all.some(lacksSubnet)) return;
    const plan = planSubnets(clusterCidr, bits, all);
    const actions: Action[] = [];
    for (const n of all) {
      const block = plan.assign.get(n.metadata.name);
      if (block !== undefined) {
        actions.push({ type: 'update', object: { ...n, spec: { ...n.spec, podCIDR: block } }, expectedRevision: n.metadata.revision, reason: `subnet ${block}` });
        continue;
      }
      const why = plan.exhausted.get(n.metadata.name);
      if (why !== undefined && n.status !== undefined && n.status.message !== why) {
        actions.push({ type: 'update', object: { ...n, status: { ...n.status, message: why } }, expectedRevision: n.metadata.revision, reason: 'subnets exhausted' });
      }
    }
    for (const [name, why] of plan.exhausted) await warnOnce(deps, all.find((n) => n.metadata.name === name), why);
    if (actions.length === 0) return;
    deps.log(`node-subnets: ${actions.map((a) => `${a.type === 'delete' ? a.key.name : a.object.metadata.name}: ${a.reason}`).join(', ')}`);
    exp.record(key, await applyActions(deps.store, actions));
  };
  const c = new Controller({ name: 'node-subnets', sync, workers: 1, clock: deps.clock, log: deps.log });
  const poke = (n: NodeObject): void => {
    if (lacksSubnet(n)) c.enqueue(KEY);
  };
  // A deleted node frees its block: whoever waits for one may get it now.
  const freed = (): void => { if (nodes.list().some(lacksSubnet)) c.enqueue(KEY); };
  c.onStop(nodes.addHandler({ onAdd: poke, onUpdate: (_o, n) => poke(n), onDelete: freed }));
  c.enqueue(KEY);
  return c;
}

/** One Warning Event per node incarnation (uid): created once, never repeated in a loop. */
async function warnOnce(deps: NodeSubnetDeps, node: NodeObject | undefined, message: string): Promise<void> {
  if (node === undefined) return;
  const now = new Date(deps.clock.now()).toISOString();
  const event: EventObject = {
    kind: 'Event',
    metadata: { name: `node-${node.metadata.name}-subnet-exhausted-${node.metadata.uid.slice(0, 8)}`, namespace: 'default', uid: `${node.metadata.uid}-subnet`, labels: {}, revision: 0, generation: 1, creationTimestamp: now },
    spec: {
      involved: `Node/${node.metadata.name}`, type: 'Warning', reason: 'SubnetExhausted', source: 'controller/node-subnets', count: 1,
      message: `node ${node.metadata.name}: ${message}`, firstTimestamp: now, lastTimestamp: now,
    },
  };
  try {
    await deps.store.create(event);
    deps.log(`node-subnets: ${node.metadata.name}: ${message}`);
  } catch (err) {
    if (!(err instanceof AlreadyExistsError)) throw err;
  }
}
