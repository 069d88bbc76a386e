/**
 * The rollout loop (STYLE.md 4): Service and Task events enqueue `Service/<ns>/<name>`; sync
 * waits until the cache shows the key's last write, runs computeRollout (compute.ts) and writes
 * the service with the revision it read (a conflict re-queues and decides again). All state is
 * in the Service's status, so a new leader or a restarted server picks a rollout up where it was.
 */
import type { Service, Task } from '../../api/kinds.js';
import { keyOf, keyString } from '../../api/object.js';
import { isPullWaiting } from '../../api/pull-wait.js';
import { rolloutActive } from '../../api/rollout.js';
import type { Store } from '../../store/store.js';
import { applyActions, Expectations } from '../framework/apply.js';
import type { Clock } from '../framework/clock.js';
import { Controller, type SyncResult } from '../framework/controller.js';
import { BY_SERVICE, serviceIndexValue, type ClusterInformers } from '../informers.js';
import { computeRollout } from './compute.js';

/** What the rollout loop needs. */
export interface RolloutControllerDeps {
  store: Store;
  informers: ClusterInformers;
  clock: Clock;
  log: (msg: string) => void;
  expectationTimeoutMs?: number;
}

/** True when a task update may move a rollout: its state, readiness, readiness probe, desired state or pull wait changed. */
export function rolloutCaresAboutTaskUpdate(old: Task, t: Task): boolean {
  const a = old.status;
  const b = t.status;
  return old.spec.desiredState !== t.spec.desiredState || a?.state !== b?.state || a?.ready !== b?.ready ||
    a?.readySince !== b?.readySince || a?.probes?.readiness?.time !== b?.probes?.readiness?.time || isPullWaiting(old) !== isPullWaiting(t);
}

/** See the file comment. */
export function createRolloutController(deps: RolloutControllerDeps): Controller {
  const inf = deps.informers;
  const exp = new Expectations({ Service: inf.services });
  const sync = async (key: string): Promise<SyncResult> => {
    await exp.wait(key, deps.expectationTimeoutMs ?? 5_000);
    const service = inf.services.get(key);
    if (service === undefined) return {};
    const { namespace, name } = service.metadata;
    const d = computeRollout({ service, tasks: inf.tasks.byIndex(BY_SERVICE, serviceIndexValue(namespace, name)), nowMs: deps.clock.now() });
    if (d.next !== undefined) {
      deps.log(`rollout: ${key}: ${d.reason}`);
      exp.record(key, await applyActions(deps.store, [{ type: 'update', object: d.next, expectedRevision: service.metadata.revision, reason: d.reason }]));
    }
    return { requeueAfterMs: d.requeueAfterMs };
  };
  const c = new Controller({ name: 'rollout', sync, workers: 2, clock: deps.clock, log: deps.log });
  const enqueueService = (s: Service): void => c.enqueue(keyString(keyOf(s)));
  // Task events matter only while a rollout is on (a service update starts one).
  const enqueueTask = (t: Task): void => {
    const key = `Service/${t.metadata.namespace}/${t.spec.service}`;
    if (rolloutActive(inf.services.get(key)?.status?.rollout)) c.enqueue(key);
  };
  c.onStop(inf.services.addHandler({ onAdd: enqueueService, onUpdate: (_o, s) => enqueueService(s) }));
  c.onStop(inf.tasks.addHandler({ onAdd: enqueueTask, onUpdate: (old, t) => { if (rolloutCaresAboutTaskUpdate(old, t)) enqueueTask(t); }, onDelete: enqueueTask }));
  return c;
}
