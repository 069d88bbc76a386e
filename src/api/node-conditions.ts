/**
 * The node conditions components agree on, and how to read them. `RuntimeReady`, reported by
 * the agent (src/agent/node/runtime-check.ts): false means the node cannot run containers.
 * `DiskPressure` (src/agent/node/disk-check.ts): true means the agent's data dir is (nearly)
 * full. Either way the scheduler (src/scheduler/filters.ts) and the global-service controller
 * give the node no new tasks; its running tasks stay. A node without a condition (an older
 * agent) counts as fine.
 */
import type { NodeCondition, NodeObject } from './kinds.js';

/** Type of the condition that says whether the node's container runtime works. */
export const RUNTIME_READY = 'RuntimeReady';

/** The condition of a type, when the node reports it. */
export function conditionOf(node: Pick<NodeObject, 'status'>, type: string): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === type);
}

/** The reason word (`NoCgroupHierarchy`) when the node's runtime cannot run containers; undefined when it can. */
export function runtimeNotReadyReason(node: Pick<NodeObject, 'status'>): string | undefined {
  const c = conditionOf(node, RUNTIME_READY);
  if (c === undefined || c.status) return undefined;
  return c.reason !== undefined && c.reason !== '' ? c.reason : 'NotReady';
}

/** Type of the condition that says the agent's data dir is (nearly) full: status true is the problem. */
export const DISK_PRESSURE = 'DiskPressure';

/** The condition's message when the node is under disk pressure; undefined when not. */
export function diskPressureMessage(node: Pick<NodeObject, 'status'>): string | undefined {
  const c = conditionOf(node, DISK_PRESSURE);
  if (c === undefined || !c.status) return undefined;
  return c.message !== undefined && c.message !== '' ? c.message : 'disk pressure';
}

/** Why the node must get no new tasks (runtime not ready, disk pressure), or undefined. */
export function noNewTasksReason(node: Pick<NodeObject, 'status'>): string | undefined {
  const runtime = runtimeNotReadyReason(node);
  if (runtime !== undefined) return `runtime not ready (${runtime})`;
  return diskPressureMessage(node) !== undefined ? 'disk pressure' : undefined;
}
