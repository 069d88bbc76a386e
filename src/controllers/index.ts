/**
 * Starts every controller of the manager on one store (what `flotilla server` calls once it
 * holds the leadership): shared informers first, then the loops once the caches are filled.
 * Returns a Disposable; `ready` resolves when the loops run (for tests and startup logs).
 */
import type { Disposable } from '../lifecycle.js';
import type { Store } from '../store/store.js';
import { systemClock, type Clock } from './framework/clock.js';
import type { Controller } from './framework/controller.js';
import { createClusterInformers } from './informers.js';
import { createPlacementController } from './placement/controller.js';
import { createServiceController, createTaskReaper } from './service/controller.js';
import type { TaskIdentitySource } from './service/tasks.js';

export type { Clock } from './framework/clock.js';

/** Options of startControllers; all optional. */
export interface ControllerOptions {
  clock?: Clock;
  log?: (msg: string) => void;
  /** Task name/uid randomness (tests). */
  identity?: TaskIdentitySource;
}

/** The running controllers. */
export interface RunningControllers extends Disposable {
  /** Resolves once the informers are synced and the loops started (or stop was called). */
  readonly ready: Promise<void>;
}

/** Starts the service controller, the task reaper and the minimal placement loop. */
export function startControllers(store: Store, opts: ControllerOptions = {}): RunningControllers {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? (() => undefined);
  const informers = createClusterInformers(store, clock, log);
  const deps = { store, informers, clock, log, identity: opts.identity };
  const controllers: Controller[] = [createServiceController(deps), createTaskReaper(deps), createPlacementController(deps)];
  let stopped = false;
  const all = [informers.services, informers.tasks, informers.nodes];
  const ready = (async () => {
    await Promise.all(all.map((i) => i.start()));
    if (stopped) return;
    for (const c of controllers) c.start();
    log(`controllers: started ${controllers.map((c) => c.name).join(', ')}`);
  })();
  let stopping: Promise<void> | undefined;
  return {
    ready,
    stop(): Promise<void> {
      stopping ??= (async () => {
        stopped = true;
        await Promise.all(controllers.map((c) => c.stop()));
        await Promise.all(all.map((i) => i.stop()));
        await ready;
      })();
      return stopping;
    },
  };
}
