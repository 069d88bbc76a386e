/**
 * The endpoints view: which tasks of a service may receive traffic right now. A pure function
 * of the Services and Tasks caches, shared by everything that balances traffic (the agent's
 * nftables load balancer, its ingress proxy, DNS): one rule for "in rotation", and one reading
 * of a rollout's traffic plan (src/api/rollout.ts trafficPlan):
 *
 *   plan all        NAME: every task in rotation
 *   plan blue-green NAME: tasks of `active` only;   NAME-preview (vip = previewVip): tasks of `preview`
 *   plan canary     NAME: both revisions, as two weighted groups (stable 100-w, canary w)
 *   previewVip set, plan not blue-green: NAME-preview serves what NAME serves
 *
 * A real service named like a preview (`web-preview` beside a blue-green `web`) keeps its name:
 * the preview entry is left out and reported in `shadowed` (buildEndpointsView), for the caller
 * to log.
 */
import type { Service, ServicePort, Task } from '../../api/kinds.js';
import { previewName, taskRevision, trafficPlan } from '../../api/rollout.js';
import { SERVICE_UID_ANNOTATION } from '../service/tasks.js';

/** One ready task of a service. */
export interface Endpoint {
  /** Task name. */
  task: string;
  node: string;
  ip: string;
}

/** The ready tasks of one revision and the percent of new connections it should get (canary). */
export interface EndpointGroup {
  revision: number;
  /** 0..100; the groups of a service sum to 100. */
  weight: number;
  /** Sorted by task name; may be empty (its share then goes to the other groups). */
  endpoints: Endpoint[];
}

/** A service (or the preview of one) with its VIP, ports and ready tasks. */
export interface ServiceEndpoints {
  namespace: string;
  name: string;
  /** The service's uid (a preview entry carries the uid of the service it previews). */
  uid: string;
  vip?: string;
  ports: ServicePort[];
  /** Sorted by task name, so renderings are stable. Canary: both groups together. */
  endpoints: Endpoint[];
  /** Canary only: the stable group first, then the canary group. Absent: no split, use `endpoints`. */
  groups?: EndpointGroup[];
  /** Set on `NAME-preview` entries: NAME, the service previewed. */
  previewOf?: string;
}

/** The view, and the preview names a real service already holds (`namespace/name`). */
export interface BuiltEndpointsView {
  view: Map<string, ServiceEndpoints>;
  shadowed: string[];
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

/** In-rotation tasks of `svc` among `tasks` (tasks of any service may be passed), sorted by name. */
function readyTasks(svc: Service, tasks: Iterable<Task>): Task[] {
  const out: Task[] = [];
  for (const t of tasks) {
    if (t.metadata.namespace !== svc.metadata.namespace || t.spec.service !== svc.metadata.name) continue;
    if (inRotation(t, svc.metadata.uid)) out.push(t);
  }
  return out.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

function toEndpoint(t: Task): Endpoint {
  return { task: t.metadata.name, node: t.spec.node, ip: t.status?.ip as string };
}

/** Every ready endpoint of one service among `tasks`, whatever its revision (plan `all`). */
export function endpointsOf(svc: Service, tasks: Iterable<Task>): Endpoint[] {
  return readyTasks(svc, tasks).map(toEndpoint);
}

/** `namespace/name` of a service: how the view is keyed. */
export function serviceRef(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** What the name NAME serves and what NAME-preview serves, per the traffic plan. */
interface Served {
  endpoints: Endpoint[];
  groups?: EndpointGroup[];
  /** Undefined: the service has no preview entry. */
  preview?: Endpoint[];
}

function served(svc: Service, ready: Task[], nowMs: number): Served {
  const plan = trafficPlan(svc, nowMs);
  const of = (revision: number): Endpoint[] => ready.filter((t) => taskRevision(t, svc) === revision).map(toEndpoint);
  const hasPreviewVip = svc.status?.previewVip !== undefined;
  if (plan.kind === 'blue-green') return { endpoints: of(plan.active), preview: of(plan.preview) };
  if (plan.kind === 'canary' && plan.canary !== plan.stable) {
    const stable = of(plan.stable);
    const canary = of(plan.canary);
    const groups = [
      { revision: plan.stable, weight: 100 - plan.weight, endpoints: stable },
      { revision: plan.canary, weight: plan.weight, endpoints: canary },
    ];
    const endpoints = [...stable, ...canary].sort((a, b) => a.task.localeCompare(b.task));
    return { endpoints, groups, ...(hasPreviewVip ? { preview: endpoints } : {}) };
  }
  const endpoints = plan.kind === 'canary' ? of(plan.stable) : ready.map(toEndpoint);
  return { endpoints, ...(hasPreviewVip ? { preview: endpoints } : {}) };
}

/**
 * The entries of one service: its own, and `NAME-preview` when it has one (blue-green plan, or a
 * previewVip). `tasks` may hold tasks of any service (the DNS passes only this one's).
 */
export function serviceEntries(svc: Service, tasks: Iterable<Task>, nowMs: number = Date.now()): { service: ServiceEndpoints; preview?: ServiceEndpoints } {
  const s = served(svc, readyTasks(svc, tasks), nowMs);
  const base = { namespace: svc.metadata.namespace, uid: svc.metadata.uid };
  const service: ServiceEndpoints = {
    ...base, name: svc.metadata.name,
    ...(svc.status?.vip !== undefined ? { vip: svc.status.vip } : {}),
    ports: svc.spec.ports,
    endpoints: s.endpoints,
    ...(s.groups !== undefined ? { groups: s.groups } : {}),
  };
  if (s.preview === undefined) return { service };
  const preview: ServiceEndpoints = {
    ...base, name: previewName(svc.metadata.name),
    ...(svc.status?.previewVip !== undefined ? { vip: svc.status.previewVip } : {}),
    // The preview is reached by its VIP and name only: publishing the service's node ports twice would clash.
    ports: svc.spec.ports.map(({ publish: _publish, ...p }) => p),
    endpoints: s.preview,
    ...(s.groups !== undefined && s.preview === s.endpoints ? { groups: s.groups } : {}),
    previewOf: svc.metadata.name,
  };
  return { service, preview };
}

/** The view with what it left out; see the file comment. */
export function buildEndpointsView(services: Iterable<Service>, tasks: Iterable<Task>, nowMs: number = Date.now()): BuiltEndpointsView {
  const byService = new Map<string, Task[]>();
  for (const t of tasks) {
    const ref = serviceRef(t.metadata.namespace, t.spec.service);
    let list = byService.get(ref);
    if (list === undefined) byService.set(ref, (list = []));
    list.push(t);
  }
  const view = new Map<string, ServiceEndpoints>();
  const previews: Array<[string, ServiceEndpoints]> = [];
  for (const s of services) {
    const ref = serviceRef(s.metadata.namespace, s.metadata.name);
    const e = serviceEntries(s, byService.get(ref) ?? [], nowMs);
    view.set(ref, e.service);
    if (e.preview !== undefined) previews.push([serviceRef(e.preview.namespace, e.preview.name), e.preview]);
  }
  // Previews after every real service, so a real one wins whatever the order of `services`.
  const shadowed: string[] = [];
  for (const [ref, p] of previews) {
    if (view.has(ref)) shadowed.push(ref);
    else view.set(ref, p);
  }
  return { view, shadowed: shadowed.sort() };
}

/** The whole view: every service (and preview) with its ready endpoints, keyed by `namespace/name`. */
export function endpointsView(services: Iterable<Service>, tasks: Iterable<Task>, nowMs: number = Date.now()): Map<string, ServiceEndpoints> {
  return buildEndpointsView(services, tasks, nowMs).view;
}

/** The service a `NAME-preview` name would preview (NAME), or undefined for other names. */
export function previewedName(name: string): string | undefined {
  const suffix = previewName('');
  return name.length > suffix.length && name.endsWith(suffix) ? name.slice(0, -suffix.length) : undefined;
}

/**
 * The groups that get traffic: those with ready endpoints, keeping their weights; when all of
 * those weigh 0 (the others held the whole share), they share equally. Empty: nothing is ready.
 * Undefined groups: one group of `endpoints` (no split).
 */
export function servingGroups(e: Pick<ServiceEndpoints, 'endpoints' | 'groups'>): EndpointGroup[] {
  if (e.groups === undefined) return e.endpoints.length === 0 ? [] : [{ revision: 0, weight: 100, endpoints: e.endpoints }];
  const ready = e.groups.filter((g) => g.endpoints.length > 0);
  if (ready.length > 0 && ready.every((g) => g.weight <= 0)) return ready.map((g) => ({ ...g, weight: 1 }));
  return ready.filter((g) => g.weight > 0);
}
