/**
 * The agent's network policies, started as one piece by runAgent: a PolicySource over the
 * agent's Services and Tasks caches (the load balancer's ServiceDirectory when it runs, else
 * one of its own) and the NetworkPolicyEnforcer. stop() stops them in reverse and removes the
 * table.
 */
import { DisposableStack, type Disposable } from '../../lifecycle.js';
import type { Store } from '../../store/store.js';
import { ServiceDirectory } from '../lb/directory.js';
import { NetworkPolicyEnforcer } from './enforcer.js';
import { PolicySource, type ServicesAndTasks } from './source.js';

export { renderNetpolRuleset, renderNetpolRemoval, NETPOL_TABLE, type NetpolInput } from './compute.js';
export { NetworkPolicyEnforcer, type EnforcerOptions } from './enforcer.js';
export { PolicySource, type NetpolSource, type ServicesAndTasks } from './source.js';
export { policyTasks, selects, peerMatch, type PolicyTask, type PeerMatch } from './select.js';

/** Options of startNetworkPolicies. */
export interface NetworkPoliciesOptions {
  /** The agent's API client. */
  store: Store;
  /** Started Services and Tasks caches to share (the load balancer's directory); absent: its own. */
  cluster?: ServicesAndTasks;
  /** Prefix for nft/sysctl (a node namespace the agent is not in). */
  execPrefix?: string[];
  log: (line: string) => void;
}

/** What runs. */
export interface NetworkPolicies extends Disposable {
  enforcer: NetworkPolicyEnforcer;
}

/** Starts source and enforcer; rejects with everything stopped (and the table removed) on failure. */
export async function startNetworkPolicies(o: NetworkPoliciesOptions): Promise<NetworkPolicies> {
  const stack = new DisposableStack();
  try {
    let cluster = o.cluster;
    if (cluster === undefined) {
      const own = stack.add(new ServiceDirectory(o.store, o.log));
      await own.start();
      cluster = own;
    }
    const source = stack.add(new PolicySource(o.store, cluster, o.log));
    await source.start();
    const enforcer = stack.add(new NetworkPolicyEnforcer({ source, log: o.log, ...(o.execPrefix !== undefined ? { execPrefix: o.execPrefix } : {}) }));
    await enforcer.start();
    return { enforcer, stop: () => stack.stop() };
  } catch (err) {
    await stack.stop().catch(() => undefined);
    throw err;
  }
}
