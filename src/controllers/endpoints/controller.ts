/**
 * Two small loops of the endpoints area, started by startControllers:
 *
 * - `vip` (key `Service/<ns>/<name>`): gives each Service a stable virtual IP out of the service
 *   CIDR in `status.vip`, and each blue-green Service a second one in `status.previewVip`
 *   (vipChangeOf decides; one worker, plus the addresses this loop wrote and the cache may not
 *   show yet, so two services never get the same address). A service that stops being
 *   blue-green gives its previewVip back.
 * - `ingress-backends` (key `Ingress/<ns>/<name>`): an Ingress whose backend service does not
 *   exist is accepted by the API; this loop says so with one Warning Event per missing service
 *   (the proxy answers 503 for it until the service exists).
 */
import type { Service, ServiceStatus } from '../../api/kinds.js';
import { AlreadyExistsError, NotFoundError } from '../../api/errors.js';
import { keyOf, keyString, type ApiObject } from '../../api/object.js';
import type { IngressSpec } from '../../api/validate/ingress.js';
import type { Store } from '../../store/store.js';
import type { Clock } from '../framework/clock.js';
import { Controller } from '../framework/controller.js';
import { Informer } from '../framework/informer.js';
import type { ClusterInformers } from '../informers.js';
import { previewedName } from './endpoints.js';
import { DEFAULT_SERVICE_CIDR, parseCidr4, previewHolderKey, vipChangeOf, type Cidr4, type ServiceVipChange, type ServiceVips } from './vip.js';

/** An Ingress as stored. */
export type IngressObject = ApiObject<IngressSpec> & { kind: 'Ingress' };

/** What the endpoints loops need. */
export interface EndpointsControllerDeps {
  store: Store;
  informers: ClusterInformers;
  clock: Clock;
  log: (msg: string) => void;
  /** Range of service VIPs (default 10.96.0.0/16). */
  serviceCidr?: string;
}

/** The loops and the extra informer they need started first. */
export interface EndpointsLoops {
  controllers: Controller[];
  ingresses: Informer<IngressObject>;
}

/** Builds the vip and ingress-backends loops; the caller starts `ingresses` and the controllers. */
export function createEndpointsControllers(deps: EndpointsControllerDeps): EndpointsLoops {
  const cidr = parseCidr4(deps.serviceCidr ?? DEFAULT_SERVICE_CIDR);
  const ingresses = new Informer<IngressObject>({ store: deps.store, kind: 'Ingress', clock: deps.clock, log: deps.log });
  return { controllers: [vipController(deps, cidr), ingressBackendsController(deps, ingresses)], ingresses };
}

/** True when the service should have a preview address (spec.update.strategy blue-green). */
export function wantsPreviewVip(s: Service): boolean {
  return s.spec.update?.strategy === 'blue-green';
}

/** True when the vip loop has something to do for the service: an address to give or to release. */
function needsVipWork(s: Service): boolean {
  return s.status?.vip === undefined || wantsPreviewVip(s) !== (s.status?.previewVip !== undefined);
}

/** The status with the change applied (the rest of the current status spread as is). */
function withVips(status: ServiceStatus | undefined, change: ServiceVipChange): ServiceStatus {
  const { previewVip, ...rest } = status ?? {};
  const keptPreview = change.releasePreview ? undefined : change.previewVip ?? previewVip;
  const vip = change.vip ?? rest.vip;
  return { ...rest, ...(vip !== undefined ? { vip } : {}), ...(keptPreview !== undefined ? { previewVip: keptPreview } : {}) };
}

function vipController(deps: EndpointsControllerDeps, cidr: Cidr4): Controller {
  const services = deps.informers.services;
  /** Addresses this loop wrote, until the cache shows them (key or previewHolderKey(key) -> address). */
  const written = new Map<string, string>();
  const subjectOf = (s: Service): ServiceVips => {
    const key = keyString(keyOf(s));
    const vip = s.status?.vip ?? written.get(key);
    const previewVip = s.status?.previewVip ?? written.get(previewHolderKey(key));
    return { key, created: s.metadata.creationTimestamp, wantsPreview: wantsPreviewVip(s), ...(vip !== undefined ? { vip } : {}), ...(previewVip !== undefined ? { previewVip } : {}) };
  };
  const sync = async (key: string): Promise<void> => {
    const svc = services.get(key);
    const pkey = previewHolderKey(key);
    if (svc === undefined) {
      written.delete(key);
      written.delete(pkey);
      return;
    }
    if (svc.status?.vip !== undefined) written.delete(key);
    if (svc.status?.previewVip !== undefined || !wantsPreviewVip(svc)) written.delete(pkey);
    const change = vipChangeOf(key, services.list().map(subjectOf), cidr);
    for (const what of change?.exhausted ?? []) {
      deps.log(`vip: ${key}: the service CIDR ${deps.serviceCidr ?? DEFAULT_SERVICE_CIDR} has no free address for ${what}`);
    }
    if (change === undefined || (change.vip === undefined && change.previewVip === undefined && !change.releasePreview)) return;
    // Other loops write this status too: the current status spread, the read revision expected (a conflict requeues).
    await deps.store.update({ ...svc, status: withVips(svc.status, change) }, svc.metadata.revision);
    if (change.vip !== undefined) written.set(key, change.vip);
    if (change.previewVip !== undefined) written.set(pkey, change.previewVip);
    deps.log(`vip: ${key}${change.vip !== undefined ? ` vip ${change.vip}` : ''}${change.previewVip !== undefined ? ` previewVip ${change.previewVip}` : ''}${change.releasePreview ? ' previewVip released' : ''}`);
  };
  const c = new Controller({ name: 'vip', sync, workers: 1, clock: deps.clock, log: deps.log });
  const enqueue = (s: Service): void => c.enqueue(keyString(keyOf(s)));
  // An address came free: services still waiting for one look again.
  const enqueueWaiting = (): void => { for (const other of services.list()) if (needsVipWork(other)) enqueue(other); };
  c.onStop(services.addHandler({
    onAdd: enqueue,
    onUpdate: (o, s) => {
      if (needsVipWork(s)) enqueue(s);
      if (o.status?.previewVip !== undefined && s.status?.previewVip === undefined) enqueueWaiting();
    },
    onDelete: (s) => {
      enqueue(s);
      enqueueWaiting();
    },
  }));
  return c;
}

function ingressBackendsController(deps: EndpointsControllerDeps, ingresses: Informer<IngressObject>): Controller {
  const services = deps.informers.services;
  const sync = async (key: string): Promise<void> => {
    const ing = ingresses.get(key);
    if (ing === undefined) return;
    const ns = ing.metadata.namespace;
    const wanted = new Set(ing.spec.rules.flatMap((r) => r.paths.map((p) => p.backend.service)));
    for (const name of wanted) {
      if (backendExists(services, ns, name)) continue;
      await warnMissing(deps, ing, name);
    }
  };
  const c = new Controller({ name: 'ingress-backends', sync, workers: 1, clock: deps.clock, log: deps.log });
  const enqueue = (i: IngressObject): void => c.enqueue(keyString(keyOf(i)));
  c.onStop(ingresses.addHandler({ onAdd: enqueue, onUpdate: (_o, i) => enqueue(i) }));
  const serviceGone = (s: Service): void => {
    for (const i of ingresses.list()) if (i.metadata.namespace === s.metadata.namespace) enqueue(i);
  };
  c.onStop(services.addHandler({ onDelete: serviceGone }));
  return c;
}

/** True when `name` is a service of `ns`, or the `NAME-preview` of a blue-green one there (the endpoints view serves both). */
function backendExists(services: Informer<Service>, ns: string, name: string): boolean {
  if (services.get(keyString({ kind: 'Service', namespace: ns, name })) !== undefined) return true;
  const base = previewedName(name);
  const svc = base === undefined ? undefined : services.get(keyString({ kind: 'Service', namespace: ns, name: base }));
  return svc !== undefined && (wantsPreviewVip(svc) || svc.status?.previewVip !== undefined);
}

/** One Warning Event per (ingress, missing service, ingress generation): created once, never repeated in a loop. */
async function warnMissing(deps: EndpointsControllerDeps, ing: IngressObject, service: string): Promise<void> {
  const now = new Date(deps.clock.now()).toISOString();
  const name = `${ing.metadata.name}.missing-${service}.g${ing.metadata.generation}`.slice(0, 253);
  const involved = keyString(keyOf(ing));
  const event: ApiObject = {
    kind: 'Event',
    metadata: { name, namespace: ing.metadata.namespace, uid: `${ing.metadata.uid}-${service}-${ing.metadata.generation}`, labels: {}, revision: 0, generation: 1, creationTimestamp: now },
    spec: {
      involved, type: 'Warning', reason: 'BackendServiceMissing', source: 'controller/ingress-backends', count: 1,
      message: `ingress ${ing.metadata.name} routes to service ${service}, which does not exist in namespace ${ing.metadata.namespace}: answered with 503 until it does`,
      firstTimestamp: now, lastTimestamp: now,
    },
  };
  try {
    await deps.store.create(event);
    deps.log(`ingress-backends: ${involved}: service ${service} is missing`);
  } catch (err) {
    if (!(err instanceof AlreadyExistsError) && !(err instanceof NotFoundError)) throw err;
  }
}
