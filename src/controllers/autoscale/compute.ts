/**
 * The autoscaler's decision for one service, pure: the Kubernetes HPA algorithm.
 *
 *   per metric:  ratio = value / target           (cpu, memory: average utilization of the
 *                                                   sampled tasks in % of their request;
 *                                                   custom: the service's value per task)
 *                |ratio - 1| <= 10%  ──► current (within tolerance)
 *                else               ──► ceil(current * ratio)
 *   proposal  = the largest of the metrics' (a metric without data proposes nothing)
 *   stabilize = scale up to the LOWEST proposal of the up-window, down to the HIGHEST of the
 *               down-window (so a short dip or spike does not flap the size)
 *   desired   = clamp(stabilized, min, max)
 */
import type { AutoscaleSpec, AutoscaleStatus } from '../../api/kinds.js';

/** Relative difference from the target within which nothing changes. */
export const TOLERANCE = 0.1;

/** A task's current use, as the metrics series has it. */
export interface TaskUse {
  cpuCores: number;
  memoryBytes: number;
}

/** Everything one decision needs. */
export interface AutoscaleInput {
  spec: AutoscaleSpec;
  /** spec.replicas now. */
  current: number;
  /** Running tasks of the service that have samples. */
  tasks: TaskUse[];
  /** Per task: CPU request (else limit) in cores and memory request (else limit) in bytes. */
  request: { cpuCores?: number; memoryBytes?: number };
  /** Values of custom metrics by name (undefined: none known). */
  custom: ReadonlyMap<string, number | undefined>;
  /** Earlier proposals (time ms, replicas), oldest first; the caller keeps them. */
  history: ReadonlyArray<{ atMs: number; replicas: number }>;
  nowMs: number;
}

/** One metric's reading. */
interface Reading {
  name: string;
  /** Value in the target's unit (percent, or the per-task value); undefined: no data. */
  current?: number;
  target: number;
  proposal?: number;
  text: string;
}

function read(input: AutoscaleInput): Reading[] {
  const n = input.tasks.length;
  const avg = (f: (t: TaskUse) => number): number => input.tasks.reduce((a, t) => a + f(t), 0) / n;
  return input.spec.metrics.map((m): Reading => {
    if (m.cpu !== undefined || m.memory !== undefined) {
      const isCpu = m.cpu !== undefined;
      const name = isCpu ? 'cpu' : 'memory';
      const target = (m.cpu ?? m.memory)?.targetUtilization ?? 100;
      const req = isCpu ? input.request.cpuCores : input.request.memoryBytes;
      if (n === 0 || req === undefined || req <= 0) return { name, target, text: `${name}: no samples yet` };
      const current = (100 * avg((t) => (isCpu ? t.cpuCores : t.memoryBytes))) / req;
      return { name, current, target, ...propose(input.current, current / target), text: `${name} ${Math.round(current)}% of request (target ${target}%)` };
    }
    const c = m.custom as NonNullable<typeof m.custom>;
    const total = input.custom.get(c.name);
    if (total === undefined) return { name: c.name, target: c.target, text: `${c.name}: no value yet` };
    // The value is the service's total (a queue length); per task it is total / current.
    const perTask = total / Math.max(1, input.current);
    return { name: c.name, current: perTask, target: c.target, ...propose(input.current, perTask / c.target), text: `${c.name} ${round(total)} (${round(perTask)} per task, target ${c.target})` };
  });
}

const round = (x: number): number => Math.round(x * 100) / 100;

function propose(current: number, ratio: number): { proposal: number } {
  if (Math.abs(ratio - 1) <= TOLERANCE) return { proposal: current };
  return { proposal: Math.ceil(Math.max(1, current) * ratio) };
}

/** The decision: desired replicas, why, the readings, and this round's proposal for the history. */
export function decide(input: AutoscaleInput): { status: Omit<AutoscaleStatus, 'time' | 'lastScaleTime'>; proposal?: number } {
  const readings = read(input);
  const metrics = readings.map((r) => ({ name: r.name, ...(r.current !== undefined ? { current: round(r.current) } : {}), target: r.target }));
  const proposals = readings.filter((r) => r.proposal !== undefined);
  const { min, max } = input.spec;
  const clampN = (x: number): number => Math.min(max, Math.max(min, x));
  if (proposals.length === 0) {
    const desired = clampN(input.current);
    return { status: { desired, reason: `${readings.map((r) => r.text).join('; ')}: keeping ${desired}`, metrics } };
  }
  const best = proposals.reduce((a, b) => ((b.proposal as number) > (a.proposal as number) ? b : a));
  const proposal = best.proposal as number;
  const window = (seconds: number): number[] => [...input.history.filter((h) => input.nowMs - h.atMs <= seconds * 1000).map((h) => h.replicas), proposal];
  const up = Math.min(...window(input.spec.scaleUpStabilizationSeconds));
  const down = Math.max(...window(input.spec.scaleDownStabilizationSeconds));
  let stabilized = input.current;
  if (input.current < up) stabilized = up;
  else if (input.current > down) stabilized = down;
  const desired = clampN(stabilized);
  let why: string;
  if (desired === input.current) {
    why = proposal === input.current ? 'within tolerance' : proposal > input.current
      ? (desired === max ? `at max ${max}` : `waiting: scale-up stabilization ${input.spec.scaleUpStabilizationSeconds}s`)
      : (desired === min ? `at min ${min}` : `waiting: scale-down stabilization ${input.spec.scaleDownStabilizationSeconds}s`);
  } else {
    why = `${input.current} -> ${desired}`;
  }
  return { status: { desired, reason: `${best.text}: ${why}`, metrics }, proposal };
}
