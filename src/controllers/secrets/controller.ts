/**
 * SecretRollController: a Secret or Config whose data changed rolls the services that use it.
 * Watches Secrets and Configs (own informers) and Services (shared); handlers only enqueue
 * service keys; sync(key) reads the caches, asks computeSecretRoll and writes the service with
 * its read revision as the expected one (a conflict re-queues the key).
 *
 *   Secret/Config added|updated|deleted ──► every service of that namespace naming it ──┐
 *   Service added|updated ──────────────────────────────────────────────────────────────┤
 *                                                                                       ▼
 *   sync(ns/name): hash(uid:generation of each source) vs annotation flotilla.dev/secrets-hash
 *     same ──► nothing   none ──► write the annotation   different ──► annotation + spec.restartedAt
 */
import type { Service } from '../../api/kinds.js';
import { keyString, type ApiObject } from '../../api/object.js';
import type { Store } from '../../store/store.js';
import { applyActions, Expectations } from '../framework/apply.js';
import type { Clock } from '../framework/clock.js';
import { Controller } from '../framework/controller.js';
import { Informer } from '../framework/informer.js';
import type { ClusterInformers } from '../informers.js';
import { computeSecretRoll, sourcesOf, type SourceLookup } from './compute.js';

/** What the controller needs. */
export interface SecretRollDeps {
  store: Store;
  informers: ClusterInformers;
  clock: Clock;
  log: (msg: string) => void;
}

/** The controller and the informers it owns (started with the shared ones). */
export interface SecretRoll {
  controller: Controller;
  informers: Informer[];
}

/** Builds the controller; see the file comment. */
export function createSecretRollController(deps: SecretRollDeps): SecretRoll {
  const secrets = new Informer<ApiObject>({ store: deps.store, kind: 'Secret', clock: deps.clock, log: deps.log });
  const configs = new Informer<ApiObject>({ store: deps.store, kind: 'Config', clock: deps.clock, log: deps.log });
  const services = deps.informers.services;
  const exp = new Expectations({ Service: services });
  const sync = async (key: string): Promise<void> => {
    await exp.wait(key, 5_000);
    const svc = services.get(key);
    if (svc === undefined) return;
    const ns = svc.metadata.namespace;
    const lookup: SourceLookup = (kind, name) => {
      const o = (kind === 'Secret' ? secrets : configs).get(keyString({ kind, namespace: ns, name }));
      return o === undefined ? undefined : { uid: o.metadata.uid, generation: o.metadata.generation };
    };
    const d = computeSecretRoll(svc, lookup, deps.clock.now());
    if (d === undefined) return;
    if (d.restart) deps.log(`secret-roll: ${ns}/${svc.metadata.name}: a secret or config changed, restarting`);
    exp.record(key, await applyActions(deps.store, [{ type: 'update', object: d.service, expectedRevision: svc.metadata.revision, reason: d.restart ? 'sources changed' : 'sources hash' }]));
  };
  const c = new Controller({ name: 'secret-roll', sync, workers: 2, clock: deps.clock, log: deps.log });
  const serviceKey = (s: Service): string => keyString({ kind: 'Service', namespace: s.metadata.namespace, name: s.metadata.name });
  const onService = (s: Service): void => { if (sourcesOf(s).length > 0) c.enqueue(serviceKey(s)); };
  const onSource = (o: ApiObject): void => {
    for (const s of services.list()) {
      if (s.metadata.namespace === o.metadata.namespace && sourcesOf(s).some(([k, n]) => k === o.kind && n === o.metadata.name)) c.enqueue(serviceKey(s));
    }
  };
  c.onStop(services.addHandler({ onAdd: onService, onUpdate: (_o, n) => onService(n), onDelete: () => undefined }));
  for (const inf of [secrets, configs]) c.onStop(inf.addHandler({ onAdd: onSource, onUpdate: (_o, n) => onSource(n), onDelete: onSource }));
  return { controller: c, informers: [secrets, configs] };
}
