/**
 * The scorers that rank feasible nodes once spread has chosen where to look (spread.ts ranks
 * label groups, then nodes by how many tasks of the service they hold). Higher is better.
 *
 *   strategy        0..100   spread: least allocated after placing; binpack: most allocated
 *   affinity        sum of the weights of the preferred affinity terms the node matches
 *   taint penalty   -100 per PreferNoSchedule taint the task does not tolerate
 */
import { matchConstraint } from '../api/constraint.js';
import { tolerates } from './filters.js';
import type { NodeInfo, PlacementSpec, Strategy } from './types.js';

/** Points one untolerated PreferNoSchedule taint takes away: more than any strategy score gives. */
export const PREFER_NO_SCHEDULE_PENALTY = 100;

/**
 * How full the node would be with one more task of the spec, 0..1, averaged over the dimensions
 * the node bounds (CPU, memory: a finite capacity above zero). A node that bounds nothing counts
 * as empty. Runs for every node scored (up to scoreLimit per task): plain arithmetic, no calls.
 */
export function allocatedAfter(node: NodeInfo, spec: PlacementSpec): number {
  const cc = node.cpuMillis;
  const mc = node.memoryBytes;
  const cBound = cc > 0 && cc < Infinity;
  const mBound = mc > 0 && mc < Infinity;
  const c = cBound ? Math.min(1, (node.usage.cpuMillis + spec.cpuMillis) / cc) : 0;
  const m = mBound ? Math.min(1, (node.usage.memoryBytes + spec.memoryBytes) / mc) : 0;
  if (cBound && mBound) return (c + m) / 2;
  return cBound ? c : m;
}

/** Strategy score: `spread` prefers the least allocated node, `binpack` the most allocated. */
export function strategyScore(node: NodeInfo, spec: PlacementSpec, strategy: Strategy): number {
  const a = allocatedAfter(node, spec);
  return Math.round((strategy === 'binpack' ? a : 1 - a) * 100);
}

/**
 * fits() and strategyScore() in one pass, for the placement loop (it runs for every node scored,
 * up to scoreLimit per task): the strategy score when one more task of the spec fits the node
 * now, -1 when it does not. Must agree with both (test/scheduler/score-if-fits.test.ts).
 */
export function scoreIfFits(node: NodeInfo, spec: PlacementSpec, binpack: boolean): number {
  const u = node.usage;
  const cpuAfter = u.cpuMillis + spec.cpuMillis;
  const memAfter = u.memoryBytes + spec.memoryBytes;
  const cc = node.cpuMillis;
  const mc = node.memoryBytes;
  if (spec.cpuMillis > 0 && cpuAfter > cc) return -1;
  if (spec.memoryBytes > 0 && memAfter > mc) return -1;
  if (spec.pids > 0 && u.pids + spec.pids > node.pids) return -1;
  const ports = spec.ports;
  for (let i = 0; i < ports.length; i++) if ((u.ports.get(ports[i] as number) ?? 0) > 0) return -1;
  const cBound = cc > 0 && cc < Infinity;
  const mBound = mc > 0 && mc < Infinity;
  const c = cBound ? Math.min(1, cpuAfter / cc) : 0;
  const m = mBound ? Math.min(1, memAfter / mc) : 0;
  const a = cBound && mBound ? (c + m) / 2 : cBound ? c : m;
  return Math.round((binpack ? a : 1 - a) * 100);
}

/** Preferred node affinity: the weights of the terms the node matches. */
export function affinityScore(node: NodeInfo, spec: PlacementSpec): number {
  let s = 0;
  for (const t of spec.affinityPreferred) if (matchConstraint(t.constraint, node)) s += t.weight;
  return s;
}

/** PreferNoSchedule taints the task does not tolerate lower the score; they never filter. */
export function taintPenalty(node: NodeInfo, spec: PlacementSpec): number {
  let s = 0;
  for (const taint of node.taints) {
    if (taint.effect !== 'PreferNoSchedule') continue;
    if (!spec.tolerations.some((t) => tolerates(t, taint))) s -= PREFER_NO_SCHEDULE_PENALTY;
  }
  return s;
}

/** The part of the score that does not change during a batch (computed once per node). */
export function staticScore(node: NodeInfo, spec: PlacementSpec): number {
  return affinityScore(node, spec) + taintPenalty(node, spec);
}
