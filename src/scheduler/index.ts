/**
 * Flotilla's scheduler: a pure pipeline from cluster state and pending tasks to placements,
 * with a reason for every task it could not place. See README.md for the flow.
 *
 * Two forms: `schedule(state, pending)` builds everything for one call; `Scheduler` keeps its
 * indexes between calls and takes node and task events, for the server's watch loop.
 */
import type { Service, Task } from '../api/kinds.js';
import { taskId } from './compile.js';
import { Scheduler } from './scheduler.js';
import type { ClusterState, ScheduleOptions, ScheduleResult, SchedulerOptions } from './types.js';

export { Scheduler, DEFAULT_SCORE_LIMIT } from './scheduler.js';
export { taskId, serviceKey } from './compile.js';
export { FILTERS, formatReason, type Filter } from './filters.js';
export { volumeKeysOf } from './volumes.js';
export { strategyScore, affinityScore, taintPenalty } from './scorers.js';
export type {
  ClusterState, NodeUsage, NodeUsageReport, Placement, PlacementAffinity, ScheduleOptions, ScheduleResult, SchedulerOptions, Strategy, Unplaced, VolumeBindingDecision,
} from './types.js';

/** One-shot scheduling: indexes the state, places the pending tasks, returns the decisions. */
export function schedule(state: ClusterState, pending: readonly Task[], opts: ScheduleOptions & SchedulerOptions = {}): ScheduleResult {
  // A pending task listed among the state's tasks too (a pinned global task) is not yet placed.
  const ids = new Set(pending.map(taskId));
  const tasks = state.tasks.filter((t) => !ids.has(taskId(t)));
  return Scheduler.fromState({ ...state, tasks }, opts).schedule(pending, opts);
}

/** For a global service: the names of the nodes that may run one of its tasks. */
export function eligibleNodes(service: Service, state: ClusterState, opts: ScheduleOptions & SchedulerOptions = {}): string[] {
  return Scheduler.fromState(state, opts).eligibleNodes(service, opts);
}
