/**
 * Two small loops of the endpoints area, started by startControllers:
 *
 * - `vip` (key `Service/<ns>/<name>`): gives each Service a stable virtual IP out of the service
 *   CIDR in `status.vip` (planVips decides; one worker, plus the addresses this loop wrote and
 *   the cache may not show yet, so two services never get the same address).
 * - `ingress-backends` (key `Ingress/<ns>/<name>`): an Ingress whose backend service does not
 *   exist is accepted by the API; this loop says so with one Warning Event per missing service
 *   (the proxy answers 503 for it until the service exists).
 */
import type { Service } from '../../api/kinds.js';
import { AlreadyExistsError, NotFoundError } from '../../api/errors.js';
import { keyOf, keyString, type ApiObject } from '../../api/object.js';
import type { IngressSpec } from '../../api/validate/ingress.js';
import type { Store } from '../../store/store.js';
import type { Clock } from '../framework/clock.js';
import { Controller } from '../framework/controller.js';
import { Informer } from '../framework/informer.js';
import type { ClusterInformers } from '../informers.js';
import { DEFAULT_SERVICE_CIDR, parseCidr4, planVips, type Cidr4 } from './vip.js';

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

function vipController(deps: EndpointsControllerDeps, cidr: Cidr4): Controller {
  const services = deps.informers.services;
  /** VIPs this loop wrote, until the cache shows them (key -> vip). */
  const written = new Map<string, string>();
  const sync = async (key: string): Promise<void> => {
    const svc = services.get(key);
    if (svc === undefined) {
      written.delete(key);
      return;
    }
    const holders = services.list().map((s) => {
      const k = keyString(keyOf(s));
      const vip = s.status?.vip ?? written.get(k);
      return { key: k, created: s.metadata.creationTimestamp, ...(vip !== undefined ? { vip } : {}) };
    });
    const plan = planVips(holders, cidr);
    if (plan.exhausted.includes(key)) {
      deps.log(`vip: ${key}: the service CIDR ${deps.serviceCidr ?? DEFAULT_SERVICE_CIDR} has no free address`);
      return;
    }
    const vip = plan.assign.get(key);
    if (vip === undefined) {
      if (svc.status?.vip !== undefined) written.delete(key);
      return;
    }
    const next: Service = { ...svc, status: { ...(svc.status ?? {}), vip } };
    await deps.store.update(next, svc.metadata.revision);
    written.set(key, vip);
    deps.log(`vip: ${key} -> ${vip}`);
  };
  const c = new Controller({ name: 'vip', sync, workers: 1, clock: deps.clock, log: deps.log });
  const enqueue = (s: Service): void => c.enqueue(keyString(keyOf(s)));
  c.onStop(services.addHandler({
    onAdd: enqueue,
    onUpdate: (_o, s) => { if (s.status?.vip === undefined) enqueue(s); },
    onDelete: (s) => {
      enqueue(s);
      // A deleted service may have held an address another service wanted: look again.
      for (const other of services.list()) if (other.status?.vip === undefined) enqueue(other);
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
      if (services.get(keyString({ kind: 'Service', namespace: ns, name })) !== undefined) continue;
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
