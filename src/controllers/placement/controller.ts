/**
 * The minimal placement loop: one key ("pending"), so every decision sees every placement
 * before it and two workers never fill the same node's room twice. Any change that may open
 * room (a node changes, a task ends or leaves) re-runs it while tasks wait. To be replaced
 * wholesale by the real scheduler (src/scheduler/).
 */
import type { NodeObject, Task } from '../../api/kinds.js';
import type { Store } from '../../store/store.js';
import { applyActions, Expectations, type Action } from '../framework/apply.js';
import type { Clock } from '../framework/clock.js';
import { Controller } from '../framework/controller.js';
import { BY_PENDING, PENDING, type ClusterInformers } from '../informers.js';
import { placeTasks, type PlacementResult } from './placement.js';

/** What the placement loop needs. */
export interface PlacementControllerDeps {
  store: Store;
  informers: ClusterInformers;
  clock: Clock;
  log: (msg: string) => void;
}

/** The single queue key of this loop. */
export const PLACEMENT_KEY = 'pending';

function toAction(r: PlacementResult, nowMs: number): Action | undefined {
  const t = r.task;
  const status = t.status ?? { state: 'pending' as const, desiredState: 'running' as const, ready: false, timestamp: '' };
  if (r.node === undefined) {
    if (status.message === r.message) return undefined;
    const object: Task = { ...t, status: { ...status, message: r.message } };
    return { type: 'update', object, expectedRevision: t.metadata.revision, reason: `unplaced: ${r.message}` };
  }
  const object: Task = {
    ...t,
    spec: { ...t.spec, node: r.node },
    status: { ...status, state: 'assigned', timestamp: new Date(nowMs).toISOString(), message: `assigned to node ${r.node}` },
  };
  return { type: 'update', object, expectedRevision: t.metadata.revision, reason: `assign to ${r.node}` };
}

/** Builds the placement loop and hooks it to the informers. */
export function createPlacementController(deps: PlacementControllerDeps): Controller {
  const inf = deps.informers;
  const exp = new Expectations({ Task: inf.tasks });
  const sync = async (key: string): Promise<void> => {
    await exp.wait(key, 5_000);
    const pending = inf.tasks.byIndex(BY_PENDING, PENDING);
    if (pending.length === 0) return;
    const placed = inf.tasks.list().filter((t) => t.spec.node !== '');
    const now = deps.clock.now();
    const actions = placeTasks(pending, inf.nodes.list(), placed)
      .map((r) => toAction(r, now))
      .filter((a): a is Action => a !== undefined);
    if (actions.length === 0) return;
    deps.log(`placement: ${actions.map((a) => `${a.type === 'delete' ? a.key.name : a.object.metadata.name}: ${a.reason}`).join(', ')}`);
    exp.record(key, await applyActions(deps.store, actions));
  };
  const c = new Controller({ name: 'placement', sync, workers: 1, clock: deps.clock, log: deps.log });
  const poke = (): void => {
    if (inf.tasks.byIndex(BY_PENDING, PENDING).length > 0) c.enqueue(PLACEMENT_KEY);
  };
  c.onStop(inf.tasks.addHandler({ onAdd: poke, onUpdate: poke, onDelete: poke }));
  const nodeChanged = (_n: NodeObject): void => poke();
  c.onStop(inf.nodes.addHandler({ onAdd: nodeChanged, onUpdate: nodeChanged, onDelete: nodeChanged }));
  return c;
}
