/**
 * The endpoints view: which tasks of a service may receive traffic right now. A pure function
 * of the Services and Tasks caches, shared by everything that balances traffic (the agent's
 * nftables load balancer, its ingress proxy, DNS `tasks.SERVICE`): one rule for "in rotation".
 */
import type { Service, ServicePort, Task } from '../../api/kinds.js';
import { SERVICE_UID_ANNOTATION } from '../service/tasks.js';

/** One ready task of a service. */
export interface Endpoint {
  /** Task name. */
  task: string;
  node: string;
  ip: string;
}

/** A service with its VIP, ports and ready tasks. */
export interface ServiceEndpoints {
  namespace: string;
  name: string;
  uid: string;
  vip?: string;
  ports: ServicePort[];
  /** Sorted by task name, so renderings are stable. */
  endpoints: Endpoint[];
}

/**
 * True when a task may receive traffic: running, ready, with an address, still wanted, and made
 * for this incarnation of the service (a re-created service never adopts old tasks).
 */
export function inRotation(t: Task, serviceUid?: string): boolean {
  const s = t.status;
  if (s === undefined || s.state !== 'running' || !s.ready || s.ip === undefined || s.ip === '') return false;
  if (t.spec.desiredState !== 'running') return false;
  const owner = t.metadata.annotations?.[SERVICE_UID_ANNOTATION];
  return serviceUid === undefined || owner === undefined || owner === serviceUid;
}

/** The ready endpoints of one service among `tasks` (tasks of any service may be passed). */
export function endpointsOf(svc: Service, tasks: Iterable<Task>): Endpoint[] {
  const out: Endpoint[] = [];
  for (const t of tasks) {
    if (t.metadata.namespace !== svc.metadata.namespace || t.spec.service !== svc.metadata.name) continue;
    if (!inRotation(t, svc.metadata.uid)) continue;
    out.push({ task: t.metadata.name, node: t.spec.node, ip: t.status?.ip as string });
  }
  return out.sort((a, b) => a.task.localeCompare(b.task));
}

/** `namespace/name` of a service: how the view is keyed. */
export function serviceRef(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The whole view: every service with its ready endpoints, keyed by `namespace/name`. */
export function endpointsView(services: Iterable<Service>, tasks: Iterable<Task>): Map<string, ServiceEndpoints> {
  const byService = new Map<string, Task[]>();
  for (const t of tasks) {
    const ref = serviceRef(t.metadata.namespace, t.spec.service);
    let list = byService.get(ref);
    if (list === undefined) byService.set(ref, (list = []));
    list.push(t);
  }
  const view = new Map<string, ServiceEndpoints>();
  for (const s of services) {
    const ref = serviceRef(s.metadata.namespace, s.metadata.name);
    view.set(ref, {
      namespace: s.metadata.namespace,
      name: s.metadata.name,
      uid: s.metadata.uid,
      ...(s.status?.vip !== undefined ? { vip: s.status.vip } : {}),
      ports: s.spec.ports,
      endpoints: endpointsOf(s, byService.get(ref) ?? []),
    });
  }
  return view;
}
