/**
 * The node conditions components agree on, and how to read them. Today one: `RuntimeReady`,
 * reported by the agent (src/agent/node/runtime-check.ts); false means the node cannot run
 * containers, and the scheduler (src/scheduler/filters.ts) and the global-service controller
 * give it no tasks. A node without the condition (an older agent) counts as ready.
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
