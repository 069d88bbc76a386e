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
import { createEndpointsControllers } from './endpoints/controller.js';
import { createNodeSubnetController } from './network/controller.js';
import { createNodeController } from './node/controller.js';
import { createSchedulerController } from './placement/controller.js';
import type { SchedulerOptions } from '../scheduler/index.js';
import { createRecycleController } from './recycle/controller.js';
import type { NodeProvisioner } from './recycle/provisioner.js';
import { createRolloutController } from './rollout/controller.js';
import { createSecretRollController } from './secrets/controller.js';
import { createServiceController, createTaskReaper } from './service/controller.js';
import type { TaskIdentitySource } from './service/tasks.js';
import type { Tracer } from '../tracing/index.js';

export type { Clock } from './framework/clock.js';

/** Options of startControllers; all optional. */
export interface ControllerOptions {
  clock?: Clock;
  log?: (msg: string) => void;
  /** Task name/uid randomness (tests). */
  identity?: TaskIdentitySource;
  /** Heartbeat age after which a node is marked down and its tasks replaced (default 6000). */
  nodeGracePeriodMs?: number;
  /** How long a task moving off a drained node waits for its replacement to run (default 60000). */
  moveTimeoutMs?: number;
  /** Knobs of the scheduler (default strategy, score limit). */
  scheduler?: SchedulerOptions;
  /** Least time between rewrites of one task's FailedScheduling Event with the same reason (default 5000). */
  eventRefreshMs?: number;
  /** Range of service virtual IPs (default 10.96.0.0/16). */
  serviceCidr?: string;
  /** Range node task subnets are cut from (default 10.88.0.0/16, a /24 per node). */
  clusterCidr?: string;
  /** Spans of the scheduler's placements (src/tracing). */
  tracer?: Tracer;
  /** Reverse uptime (recycle/): cluster max node age in ms (`--max-node-age`; off when absent), the provisioner hook and its bounds. */
  recycle?: { maxNodeAgeMs?: number; provisioner?: NodeProvisioner; provisionerTimeoutMs?: number; drainTimeoutMs?: number };
}

/** The running controllers. */
export interface RunningControllers extends Disposable {
  /** Resolves once the informers are synced and the loops started (or stop was called). */
  readonly ready: Promise<void>;
}

/** Starts the service controller, the task reaper, the scheduler, the node lifecycle loop and the rest. */
export function startControllers(store: Store, opts: ControllerOptions = {}): RunningControllers {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? (() => undefined);
  const informers = createClusterInformers(store, clock, log);
  const deps = { store, informers, clock, log, identity: opts.identity };
  const endpoints = createEndpointsControllers({ ...deps, serviceCidr: opts.serviceCidr });
  const secretRoll = createSecretRollController(deps);
  const controllers: Controller[] = [
    createServiceController(deps),
    createRolloutController(deps),
    createTaskReaper(deps),
    createSchedulerController({ ...deps, scheduler: opts.scheduler, eventRefreshMs: opts.eventRefreshMs, tracer: opts.tracer }),
    createNodeController({ ...deps, gracePeriodMs: opts.nodeGracePeriodMs, moveTimeoutMs: opts.moveTimeoutMs }),
    ...endpoints.controllers,
    createNodeSubnetController({ ...deps, clusterCidr: opts.clusterCidr }),
    secretRoll.controller,
    createRecycleController({ ...deps, ...opts.recycle }),
  ];
  let stopped = false;
  const all = [informers.services, informers.tasks, informers.nodes, ...(informers.leases !== undefined ? [informers.leases] : []), ...(informers.volumes !== undefined ? [informers.volumes] : []), endpoints.ingresses, ...secretRoll.informers];
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
