/** Policies and policy tasks for the network policy tests. */
import type { NetworkPolicy } from '../../../src/api/kinds.js';
import type { PolicyTask } from '../../../src/agent/netpol/select.js';

/** A NetworkPolicy object in `namespace` (default `default`). */
export function policy(name: string, spec: NetworkPolicy['spec'], namespace = 'default'): NetworkPolicy {
  return { kind: 'NetworkPolicy', metadata: { name, namespace, uid: `uid-${name}`, labels: {}, revision: 1, generation: 1, creationTimestamp: '' }, spec } as NetworkPolicy;
}

/** A live task of `service` at `ip`. */
export function ptask(service: string, ip: string, over: Partial<PolicyTask> = {}): PolicyTask {
  return { name: `${service}-${ip.split('.').pop() ?? ''}`, namespace: 'default', service, node: 'node1', ip, labels: {}, ...over };
}
