/**
 * The scheduler's own shapes: compiled nodes (with their live usage), compiled placement specs,
 * options and results. API objects are compiled into these once (quantities parsed, constraints
 * parsed) so the hot loop does arithmetic and map lookups only.
 */
import type { Constraint } from '../api/constraint.js';
import type { NodeObject, Task, Taint, Toleration, Volume } from '../api/kinds.js';

/** Placement strategy among equally spread nodes: least allocated or most allocated first. */
export type Strategy = 'spread' | 'binpack';

/**
 * Node affinity, an optional addition to `placement` that kinds.ts does not define yet:
 * `required` expressions filter like constraints, `preferred` ones add their weight to the score.
 */
export interface PlacementAffinity {
  required?: string[];
  preferred?: { weight: number; expression: string }[];
}

/** What a node has in use: kept current as tasks are placed and end. */
export interface NodeUsage {
  cpuMillis: number;
  memoryBytes: number;
  pids: number;
  /** Host port key (see portKey) -> tasks using it. */
  ports: Map<number, number>;
  tasks: number;
}

/**
 * A node's usage as `usageOf` reports it, with the tasks per service there (read from the
 * index's per-service counts when asked: the placement path does not keep a per-node copy).
 */
export interface NodeUsageReport extends NodeUsage {
  /** Service key (namespace/name) -> tasks of that service on the node. */
  byService: Map<string, number>;
}

/** A node as the scheduler sees it: the facts filters read, capacity, and its live usage. */
export interface NodeInfo {
  name: string;
  role: string;
  labels: Record<string, string>;
  state: string;
  availability: 'active' | 'pause' | 'drain';
  /** Milliseconds since the epoch of the last heartbeat, when known. */
  heartbeatMs: number | undefined;
  taints: Taint[];
  /** The RuntimeReady condition's reason when it is false (the node cannot run containers). */
  runtimeNotReady?: string;
  /** The DiskPressure condition's message when it is true (the agent's data dir is nearly full). */
  diskPressure?: string;
  /** Allocatable; Infinity where the node does not say. */
  cpuMillis: number;
  memoryBytes: number;
  pids: number;
  usage: NodeUsage;
}

/** A preferred affinity term, parsed. */
export interface PreferredTerm {
  weight: number;
  constraint: Constraint;
}

/** A task's placement needs, compiled once per batch (all replicas of one service generation). */
export interface PlacementSpec {
  /** `namespace/service`: what service spread counts. */
  service: string;
  cpuMillis: number;
  memoryBytes: number;
  pids: number;
  /** Host ports the task publishes, as portKey values. */
  ports: number[];
  constraints: Constraint[];
  affinityRequired: Constraint[];
  affinityPreferred: PreferredTerm[];
  tolerations: Toleration[];
  /** Label paths to spread over, outermost first. */
  spread: SpreadPath[];
  /** Undefined: the scheduler's default. */
  strategy: Strategy | undefined;
  /** Set when a named volume the task mounts is bound: the one node it may go to (VolumeNode filter). */
  volumeNode?: { volume: string; node: string };
}

/** One level of hierarchical spread: its text and how to read it from a node. */
export interface SpreadPath {
  text: string;
  valueOf(node: NodeInfo): string;
}

/** Nodes and the tasks already on them: what one scheduling pass starts from. */
export interface ClusterState {
  nodes: readonly NodeObject[];
  /** Tasks with `spec.node` set; others and terminal ones are ignored. */
  tasks: readonly Task[];
  /** Volumes (status.node: where each lives); a task naming a volume not listed is not placed. */
  volumes?: readonly Volume[];
}

/** Knobs of a Scheduler that hold across calls. */
export interface SchedulerOptions {
  /** Cluster-wide strategy for services that do not set one. Default `spread`. */
  defaultStrategy?: Strategy;
  /**
   * How many feasible nodes to score per task inside the spread group chosen for it (Nomad's
   * limit, kube's percentageOfNodesToScore). 0 scores them all. Default 32.
   */
  scoreLimit?: number;
  /** A ready node whose heartbeat is older than this (against `now`) counts as not ready. Off by default. */
  heartbeatTimeoutMs?: number;
}

/** Per call: the injected clock and seed. */
export interface ScheduleOptions {
  /** Mixed into every task's seed; tasks alone seed by their id. */
  seed?: string | number;
  /** Milliseconds since the epoch; only used for heartbeat staleness. Default Date.now(). */
  now?: number;
}

/** A task assigned to a node. */
export interface Placement {
  task: string;
  node: string;
}

/** A task no node could take, why in words, and per reason how many nodes it ruled out. */
export interface Unplaced {
  task: string;
  reason: string;
  counts: Record<string, number>;
}

/** A volume binding made by a pass: write Volume.status.node before the placements that mount it. */
export interface VolumeBindingDecision {
  /** `namespace/name` of the Volume. */
  volume: string;
  node: string;
}

/** What one scheduling pass decided. */
export interface ScheduleResult {
  placements: Placement[];
  unplaced: Unplaced[];
  /** Present when the pass bound volumes (first placement of a task using an unbound volume). */
  bindings?: VolumeBindingDecision[];
}
