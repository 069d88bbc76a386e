/**
 * The service controller and the task reaper as loops (STYLE.md 4): informer handlers enqueue
 * `Service/<ns>/<name>`; sync waits until the cache shows the key's last writes, runs the pure
 * decision (compute.ts / reaper.ts) and applies it with expected revisions.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { NodeObject, Service, Task } from '../../api/kinds.js';
import { keyOf, keyString } from '../../api/object.js';
import type { Store } from '../../store/store.js';
import { applyActions, Expectations, type Action } from '../framework/apply.js';
import type { Clock } from '../framework/clock.js';
import { Controller, type SyncResult } from '../framework/controller.js';
import { BY_NODE, BY_SERVICE, serviceIndexValue, type ClusterInformers } from '../informers.js';
import { computeServiceActions } from './compute.js';
import { computeReap } from './reaper.js';
import type { TaskIdentitySource } from './tasks.js';
import { nodeFactsChanged, reaperCaresAboutTaskUpdate, serviceCaresAboutTaskUpdate } from './triggers.js';

/** What the service loops need. */
export interface ServiceControllerDeps {
  store: Store;
  informers: ClusterInformers;
  clock: Clock;
  log: (msg: string) => void;
  workers?: number;
  /** Randomness for task names and uids; injected by tests for stable names. */
  identity?: TaskIdentitySource;
  /** How long a sync waits for its previous writes to show in the cache. */
  expectationTimeoutMs?: number;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Random 5-char lowercase suffixes and v4 uids. */
export const randomIdentity: TaskIdentitySource = {
  next() {
    const bytes = randomBytes(5);
    const suffix = [...bytes].map((b) => ALPHABET[b % ALPHABET.length]).join('');
    return { suffix, uid: randomUUID() };
  },
};

/** `Service/ns/name` -> namespace and name. */
function parseServiceKey(key: string): { namespace: string; name: string } {
  const [, namespace = '', name = ''] = key.split('/');
  return { namespace, name };
}

const serviceKeyOfTask = (t: Task): string => `Service/${t.metadata.namespace}/${t.spec.service}`;

function describe(actions: readonly Action[]): string {
  return actions.map((a) => `${a.type} ${a.type === 'delete' ? a.key.name : a.object.metadata.name} (${a.reason})`).join(', ');
}

/** Runs a decision's actions and records them as the key's expectations. */
async function act(deps: ServiceControllerDeps, exp: Expectations, name: string, key: string, actions: Action[]): Promise<void> {
  if (actions.length === 0) return;
  deps.log(`${name}: ${key}: ${describe(actions)}`);
  exp.record(key, await applyActions(deps.store, actions));
}

/** Enqueues every global service (they make a unit per eligible node). */
function enqueueGlobal(c: Controller, inf: ClusterInformers): void {
  for (const s of inf.services.list()) if (s.spec.mode === 'global') c.enqueue(keyString(keyOf(s)));
}

/**
 * Node events (triggers.ts): global services follow nodes that come, go, or change labels,
 * spec or state; a deleted node's tasks are orphaned by their services. A heartbeat wakes nobody.
 */
function hookNodes(c: Controller, inf: ClusterInformers): void {
  c.onStop(inf.nodes.addHandler({
    onAdd: () => enqueueGlobal(c, inf),
    onUpdate: (old, n) => { if (nodeFactsChanged(old, n)) enqueueGlobal(c, inf); },
    onDelete: (n: NodeObject) => {
      enqueueGlobal(c, inf);
      for (const t of inf.tasks.byIndex(BY_NODE, n.metadata.name)) c.enqueue(serviceKeyOfTask(t));
    },
  }));
}

/** The loop that keeps each service's tasks as its spec says (compute.ts). */
export function createServiceController(deps: ServiceControllerDeps): Controller {
  const inf = deps.informers;
  const exp = new Expectations({ Task: inf.tasks, Service: inf.services });
  const identity = deps.identity ?? randomIdentity;
  const sync = async (key: string): Promise<SyncResult> => {
    if (!(await exp.wait(key, deps.expectationTimeoutMs ?? 5_000))) deps.log(`service: ${key}: cache did not catch up with the last writes; deciding anyway`);
    const { namespace, name } = parseServiceKey(key);
    const service = inf.services.get(key);
    const plan = computeServiceActions({
      namespace,
      name,
      service,
      tasks: inf.tasks.byIndex(BY_SERVICE, serviceIndexValue(namespace, name)),
      // Only global services look at every node; the rest only ask whether a task's node exists.
      nodes: service?.spec.mode === 'global' ? inf.nodes.list() : [],
      hasNode: (n) => inf.nodes.get(`Node//${n}`) !== undefined,
      nowMs: deps.clock.now(),
      identity,
    });
    await act(deps, exp, 'service', key, plan.actions);
    return { requeueAfterMs: plan.requeueAfterMs };
  };
  const c = new Controller({ name: 'service', sync, workers: deps.workers ?? 2, clock: deps.clock, log: deps.log });
  const enqueueService = (s: Service): void => c.enqueue(keyString(keyOf(s)));
  const enqueueTask = (t: Task): void => c.enqueue(serviceKeyOfTask(t));
  const nodeExists = (name: string): boolean => inf.nodes.get(`Node//${name}`) !== undefined;
  c.onStop(inf.services.addHandler({ onAdd: enqueueService, onUpdate: (_o, s) => enqueueService(s), onDelete: enqueueService }));
  c.onStop(inf.tasks.addHandler({
    onAdd: enqueueTask,
    onUpdate: (old, t) => { if (serviceCaresAboutTaskUpdate(old, t, nodeExists)) enqueueTask(t); },
    onDelete: enqueueTask,
  }));
  hookNodes(c, inf);
  return c;
}

/** The loop that deletes old task history and the tasks of deleted services (reaper.ts). */
export function createTaskReaper(deps: ServiceControllerDeps): Controller {
  const inf = deps.informers;
  const exp = new Expectations({ Task: inf.tasks });
  const sync = async (key: string): Promise<void> => {
    await exp.wait(key, deps.expectationTimeoutMs ?? 5_000);
    const { namespace, name } = parseServiceKey(key);
    const actions = computeReap(inf.services.get(key), inf.tasks.byIndex(BY_SERVICE, serviceIndexValue(namespace, name)));
    await act(deps, exp, 'reaper', key, actions);
  };
  const c = new Controller({ name: 'reaper', sync, workers: 1, clock: deps.clock, log: deps.log });
  const enqueueTask = (t: Task): void => c.enqueue(serviceKeyOfTask(t));
  c.onStop(inf.services.addHandler({ onDelete: (s) => c.enqueue(keyString(keyOf(s))) }));
  c.onStop(inf.tasks.addHandler({ onAdd: enqueueTask, onUpdate: (old, t) => { if (reaperCaresAboutTaskUpdate(old, t)) enqueueTask(t); } }));
  return c;
}
