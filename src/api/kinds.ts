/**
 * The typed spec and status of each kind: the vocabulary every component shares.
 * Field meanings follow CONTRACT.md; validation and defaults live in src/api/validate/.
 * Quantities are stored as the user wrote them (strings) and parsed with quantity.ts.
 */
import type { ApiObject } from './object.js';

export interface ResourceList {
  /** e.g. `250m`, `1.5`, `2` (cores). */
  cpu?: string;
  /** e.g. `64Mi`, `1G`, `1048576` (bytes). */
  memory?: string;
  /** Maximum number of processes. */
  pids?: number;
}

export interface ServicePort {
  name?: string;
  /** Port of the service's virtual IP. */
  port: number;
  /** Port the container listens on; defaults to `port`. */
  targetPort: number;
  protocol: 'tcp' | 'udp';
  /** Publish on this port of every node (routing mesh). */
  publish?: number;
}

export interface HttpProbe { path: string; port: number; }
export interface TcpProbe { port: number; }
export interface ExecProbe { command: string[]; }

export interface Probe {
  http?: HttpProbe;
  tcp?: TcpProbe;
  exec?: ExecProbe;
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  failureThreshold: number;
  successThreshold: number;
}

export interface Toleration {
  key: string;
  operator: 'Equal' | 'Exists';
  value?: string;
  effect?: 'NoSchedule' | 'NoExecute' | 'PreferNoSchedule';
}

export interface Placement {
  /** Expressions like `node.labels.ssd == true`, `node.name != n1`. */
  constraints: string[];
  /** Label paths to spread over, hierarchically: `node.labels.datacenter`, then `node.labels.zone`. */
  spread: string[];
  tolerations: Toleration[];
  strategy?: 'spread' | 'binpack';
}

export interface UpdatePolicy {
  strategy: 'rolling' | 'blue-green' | 'canary';
  parallelism: number;
  delaySeconds: number;
  failureAction: 'pause' | 'continue' | 'rollback';
  order: 'stop-first' | 'start-first';
}

export interface RestartPolicy {
  condition: 'any' | 'on-failure' | 'none';
  /** First backoff; doubles per consecutive failure up to maxDelaySeconds. */
  delaySeconds: number;
  maxDelaySeconds: number;
}

export interface VolumeMount {
  /** Name of a Volume, Config or Secret, per `type`. */
  source: string;
  target: string;
  type: 'volume' | 'config' | 'secret' | 'tmpfs';
  readOnly: boolean;
}

export interface ServiceSpec {
  mode: 'replicated' | 'global';
  /** Replicated only. */
  replicas: number;
  image: string;
  command?: string[];
  args?: string[];
  env: Record<string, string>;
  workingDir?: string;
  user?: string;
  ports: ServicePort[];
  resources: { requests: ResourceList; limits: ResourceList };
  placement: Placement;
  probes: { readiness?: Probe; liveness?: Probe; startup?: Probe };
  update: UpdatePolicy;
  restart: RestartPolicy;
  mounts: VolumeMount[];
  /** Seconds between SIGTERM and SIGKILL. */
  stopGracePeriodSeconds: number;
}

export interface ServiceStatus {
  /** Tasks with desired state running. */
  replicas?: number;
  /** Of those, running and ready. */
  readyReplicas?: number;
  /** Virtual IP on the service network, when assigned. */
  vip?: string;
  observedGeneration?: number;
}

export type Service = ApiObject<ServiceSpec, ServiceStatus> & { kind: 'Service' };

export const TASK_STATES = ['new', 'pending', 'assigned', 'preparing', 'starting', 'running', 'complete', 'failed', 'shutdown', 'rejected', 'orphaned'] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** States after which a task never runs again. */
export const TERMINAL_TASK_STATES: ReadonlySet<TaskState> = new Set<TaskState>(['complete', 'failed', 'shutdown', 'rejected', 'orphaned']);

export interface TaskSpec {
  /** The service's name (same namespace). */
  service: string;
  /** Service generation this task was made from. */
  serviceGeneration: number;
  /** Replica slot (replicated) starting at 1; 0 for global tasks. */
  slot: number;
  /** Node it runs on; "" until scheduled. */
  node: string;
  image: string;
  /** running or shutdown: what the agent must converge to. */
  desiredState: 'running' | 'shutdown';
  /** The service spec as it was when this task was made: tasks are immutable. */
  template: ServiceSpec;
}

export interface TaskStatus {
  state: TaskState;
  /** Mirrors spec.desiredState for the CONTRACT's `status.desiredState`. */
  desiredState: 'running' | 'shutdown';
  ready: boolean;
  ip?: string;
  pid?: number;
  exitCode?: number;
  message?: string;
  /** RFC 3339 time of the last state change. */
  timestamp: string;
  containerId?: string;
}

export type Task = ApiObject<TaskSpec, TaskStatus> & { kind: 'Task' };

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'NoExecute' | 'PreferNoSchedule';
}

export interface NodeSpec {
  availability: 'active' | 'pause' | 'drain';
  role: 'worker' | 'manager';
  taints: Taint[];
  /** Subnet of this node's tasks, handed out by the server from the cluster CIDR (never changed once set). */
  podCIDR?: string;
}

export interface NodeResources {
  /** Cores, as a quantity string. */
  cpu: string;
  memory: string;
  pids?: number;
}

export interface NodeStatus {
  state: 'ready' | 'down' | 'unknown';
  capacity: NodeResources;
  allocatable: NodeResources;
  /** RFC 3339 time of the last heartbeat. */
  heartbeat?: string;
  address?: string;
  /** Port of the agent's HTTPS endpoint on `address` (logs, exec), mTLS with the cluster CA. */
  agentPort?: number;
  /** Subnet for this node's tasks (networking). */
  podCIDR?: string;
  message?: string;
  agentVersion?: string;
}

export type NodeObject = ApiObject<NodeSpec, NodeStatus> & { kind: 'Node' };

/**
 * A node's heartbeat (cluster-scoped, named after its Node): the agent renews it every few
 * seconds with a small spec write that only the node lifecycle loop watches, instead of
 * rewriting the whole Node status (which every Node watcher would receive). The loop keeps its
 * own (server) time of the last change it saw, so the holder's clock does not matter.
 */
export interface LeaseSpec {
  /** The node that renews it (the Lease's own name). */
  holder: string;
  /** RFC 3339 time of the last renewal, by the holder's clock (changes on every renewal). */
  renewTime: string;
  /** The holder's renewal interval in seconds (for people and tools; the server's grace period decides). */
  durationSeconds?: number;
}

export type Lease = ApiObject<LeaseSpec> & { kind: 'Lease' };

export interface SecretSpec {
  /** Base64 of the value as the user gives it; the server encrypts at rest. */
  data: Record<string, string>;
}
export type Secret = ApiObject<SecretSpec> & { kind: 'Secret' };

export interface ConfigSpec {
  data: Record<string, string>;
}
export type Config = ApiObject<ConfigSpec> & { kind: 'Config' };

export interface EventSpec {
  /** The object the event is about: `Task/default/web-1-abc`. */
  involved: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** Component that reported it: `scheduler`, `agent/n1`, ... */
  source: string;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
}
export type EventObject = ApiObject<EventSpec> & { kind: 'Event' };

/**
 * Task annotation (value: RFC 3339 time) set by the node controller on a replicated task that
 * must leave its node (drain, labels no longer matching): the service controller stops counting
 * it in its slot, so a replacement is made while it keeps running; the node controller shuts it
 * down once the replacement runs (or after a deadline).
 */
export const MOVING_ANNOTATION = 'flotilla.dev/moving';
