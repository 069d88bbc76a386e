/**
 * The network side of a real agent, put together: the node's task subnet (the one given with
 * `--subnet`, or the one the server assigns: the agent waits for it), the per-task CNI hook
 * (task-network.ts), the host-gw routes to the other nodes (routes.ts) and the node's DNS
 * server with its resolv.conf hook (../dns). Hollow nodes and tests that pass their own hooks
 * do not use it.
 *
 *   register Node ─> wait spec.podCIDR ─> routes (watch Nodes) ─> DNS on the bridge gateway ─> hooks
 */
import path from 'node:path';
import { DisposableStack, type Disposable } from '../../lifecycle.js';
import type { Store } from '../../store/store.js';
import { startNodeDns } from '../dns/index.js';
import type { TaskHook } from '../tasks/hooks.js';
import { startNodeRoutes, waitForNodeSubnet } from './routes.js';
import { TaskNetwork } from './task-network.js';

/** What startNodeNetwork needs. */
export interface NodeNetworkOptions {
  /** The agent's API client. */
  store: Pick<Store, 'list' | 'watch' | 'get'>;
  nodeName: string;
  /** Creates the Node object if missing (so the server can assign it a subnet). */
  register: () => Promise<unknown>;
  /** Explicit subnet (`--subnet`); default: the server's assignment. */
  subnet?: string;
  /** Task bridge; default flotilla0. */
  bridge?: string;
  dataDir: string;
  /** Port of the DNS server (default 53). */
  dnsPort?: number;
  /** Bound on the wait for the assignment (default 60 s). */
  subnetTimeoutMs?: number;
  log: (msg: string) => void;
}

/** The running network of a node. */
export interface NodeNetwork extends Disposable {
  subnet: string;
  /** TaskNetwork first, then the DNS hook. */
  hooks: TaskHook[];
  network: TaskNetwork;
}

/** See the file comment. Rejects (with everything stopped) when no subnet comes. */
export async function startNodeNetwork(o: NodeNetworkOptions): Promise<NodeNetwork> {
  const stack = new DisposableStack();
  try {
    let subnet = o.subnet;
    if (subnet === undefined) {
      await o.register();
      subnet = await waitForNodeSubnet(o.store, o.nodeName, { log: o.log, timeoutMs: o.subnetTimeoutMs });
      o.log(`network: node ${o.nodeName} has task subnet ${subnet}`);
    }
    const bridge = o.bridge ?? 'flotilla0';
    stack.add(await startNodeRoutes({ store: o.store, nodeName: o.nodeName, log: o.log }));
    const dns = stack.add(await startNodeDns({ store: o.store, subnet, bridge, dir: path.join(o.dataDir, 'dns'), port: o.dnsPort, log: o.log }));
    const network = new TaskNetwork({ dataDir: o.dataDir, subnet, bridgeName: bridge, log: o.log });
    return { subnet, network, hooks: [network, dns.hook], stop: () => stack.stop() };
  } catch (err) {
    await stack.stop().catch(() => undefined);
    throw err;
  }
}
