/**
 * The informers the controllers share (one cache per kind per process, like client-go's
 * shared informer factory), with the indexes they look things up by.
 */
import type { Lease, NodeObject, Service, Task, Volume } from '../api/kinds.js';
import type { Store } from '../store/store.js';
import type { Clock } from './framework/clock.js';
import { Informer } from './framework/informer.js';

/** Task index: `namespace/service` of the task's service. */
export const BY_SERVICE = 'service';
/** Task index: name of the node holding the task ("" when none). */
export const BY_NODE = 'node';
/** Task index: value PENDING for tasks waiting for a node while desired running. */
export const BY_PENDING = 'pending';
export const PENDING = 'yes';

/** The caches of Services, Tasks and Nodes (and node heartbeat Leases, when the node loop runs). */
export interface ClusterInformers {
  services: Informer<Service>;
  tasks: Informer<Task>;
  nodes: Informer<NodeObject>;
  /** Node heartbeats (kinds.ts LeaseSpec); only the node lifecycle loop reads them. Optional: tests may leave it out. */
  leases?: Informer<Lease>;
  /** Volumes (status.node: where each lives), for the scheduler loop. Optional: tests may leave it out. */
  volumes?: Informer<Volume>;
}

/** `namespace/name` of a task's service: the value of the BY_SERVICE index. */
export function serviceIndexValue(namespace: string, service: string): string {
  return `${namespace}/${service}`;
}

/** True for tasks the placement loop must find a node for. */
export function isPendingPlacement(t: Task): boolean {
  return t.spec.node === '' && t.spec.desiredState === 'running' && (t.status?.state === 'pending' || t.status?.state === 'new');
}

/** Builds (does not start) the shared informers. */
export function createClusterInformers(store: Store, clock: Clock, log: (msg: string) => void): ClusterInformers {
  return {
    services: new Informer<Service>({ store, kind: 'Service', clock, log }),
    tasks: new Informer<Task>({
      store,
      kind: 'Task',
      clock,
      log,
      indexers: {
        [BY_SERVICE]: (t) => [serviceIndexValue(t.metadata.namespace, t.spec.service)],
        [BY_NODE]: (t) => [t.spec.node],
        [BY_PENDING]: (t) => (isPendingPlacement(t) ? [PENDING] : []),
      },
    }),
    nodes: new Informer<NodeObject>({ store, kind: 'Node', clock, log }),
    leases: new Informer<Lease>({ store, kind: 'Lease', clock, log }),
    volumes: new Informer<Volume>({ store, kind: 'Volume', clock, log }),
  };
}
