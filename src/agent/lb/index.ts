/**
 * The agent's service traffic, started as one piece by runAgent: the ServiceDirectory (Services
 * and Tasks caches, the endpoints view), the nftables ServiceLoadBalancer (VIPs and the routing
 * mesh), and, when ports are given, the IngressProxy. stop() stops them in reverse; the nft
 * rules stay (traffic keeps flowing across an agent restart).
 */
import { DisposableStack, type Disposable } from '../../lifecycle.js';
import type { Store } from '../../store/store.js';
import type { Tracer } from '../../tracing/index.js';
import { IngressProxy } from '../ingress/proxy.js';
import { ServiceLoadBalancer } from './balancer.js';
import { ServiceDirectory } from './directory.js';

export { ServiceDirectory } from './directory.js';
export { ServiceLoadBalancer, removeLoadBalancer, lbServices, type EndpointsSource, type LoadBalancerOptions } from './balancer.js';
export { renderRuleset, type LbService, type LbPort, type RulesetOptions } from './ruleset.js';

/** Options of startServiceRouting. */
export interface ServiceRoutingOptions {
  /** The agent's API client. */
  store: Store;
  /** Service CIDR routed to the dummy device (default 10.96.0.0/16). */
  serviceCidr?: string;
  /** This node's task bridge (hairpin masquerade). */
  bridge?: string;
  /** This node's task subnet, when known (hairpin masquerade, more precise than the bridge). */
  localSubnet?: string;
  /** Ingress ports; none given: no ingress proxy. */
  ingressHttpPort?: number;
  ingressHttpsPort?: number;
  /** Ingress bind address (default 0.0.0.0). */
  ingressHost?: string;
  /** Spans of ingress requests (src/tracing). */
  tracer?: Tracer;
  /** Prefix for nft/ip (a node namespace the agent is not in). */
  execPrefix?: string[];
  log: (line: string) => void;
}

/** What runs. */
export interface ServiceRouting extends Disposable {
  directory: ServiceDirectory;
  balancer: ServiceLoadBalancer;
  ingress?: IngressProxy;
}

/** Starts directory, load balancer and ingress; rejects with everything stopped on failure. */
export async function startServiceRouting(o: ServiceRoutingOptions): Promise<ServiceRouting> {
  const stack = new DisposableStack();
  try {
    const directory = stack.add(new ServiceDirectory(o.store, o.log));
    await directory.start();
    const balancer = stack.add(new ServiceLoadBalancer({
      source: directory, log: o.log,
      ...(o.serviceCidr !== undefined ? { serviceCidr: o.serviceCidr } : {}),
      ...(o.bridge !== undefined ? { bridge: o.bridge } : {}),
      ...(o.localSubnet !== undefined ? { localSubnet: o.localSubnet } : {}),
      ...(o.execPrefix !== undefined ? { execPrefix: o.execPrefix } : {}),
    }));
    await balancer.start();
    let ingress: IngressProxy | undefined;
    if (o.ingressHttpPort !== undefined || o.ingressHttpsPort !== undefined) {
      ingress = stack.add(new IngressProxy({
        source: directory, store: o.store, log: o.log,
        ...(o.ingressHost !== undefined ? { host: o.ingressHost } : {}),
        ...(o.tracer !== undefined ? { tracer: o.tracer } : {}),
        ...(o.ingressHttpPort !== undefined ? { httpPort: o.ingressHttpPort } : {}),
        ...(o.ingressHttpsPort !== undefined ? { httpsPort: o.ingressHttpsPort } : {}),
      }));
      await ingress.start();
      o.log(`ingress: listening on${ingress.http !== undefined ? ` http :${ingress.http.port}` : ''}${ingress.https !== undefined ? ` https :${ingress.https.port}` : ''}`);
    }
    return { directory, balancer, ...(ingress !== undefined ? { ingress } : {}), stop: () => stack.stop() };
  } catch (err) {
    await stack.stop().catch(() => undefined);
    throw err;
  }
}
