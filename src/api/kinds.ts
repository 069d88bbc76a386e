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

export interface HttpProbe {
  path: string;
  port: number;
  /** `http` (default) or `https` (the certificate is not verified, as Kubernetes does). */
  scheme: 'http' | 'https';
  /** Extra request headers. */
  headers: Record<string, string>;
}
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

/** One step of a canary: send `weight` percent of new connections to the new revision, or pause. */
export type CanaryStep =
  | { weight: number }
  /** `seconds` absent: wait for `flotilla rollout promote`. */
  | { pause: { seconds?: number } };

export interface UpdatePolicy {
  strategy: 'rolling' | 'blue-green' | 'canary';
  /** Tasks replaced per batch (rolling); 0 = all at once. */
  parallelism: number;
  /** Wait between batches (rolling), after the batch is healthy. */
  delaySeconds: number;
  failureAction: 'pause' | 'continue' | 'rollback';
  order: 'stop-first' | 'start-first';
  /** A new task counts as healthy once running and ready for this long. */
  monitorSeconds: number;
  /** Share of the new tasks (0..1) that may fail before failureAction applies. */
  maxFailureRatio: number;
  /** A new task not ready this long after its creation counts as failed. */
  progressDeadlineSeconds: number;
  /** Blue-green: how long the old revision keeps running after promotion (for `rollout undo`). */
  scaleDownDelaySeconds: number;
  /** Canary only; empty = straight to 100%. */
  steps: CanaryStep[];
}

export interface RestartPolicy {
  condition: 'any' | 'on-failure' | 'none';
  /** First backoff; doubles per consecutive failure up to maxDelaySeconds. */
  delaySeconds: number;
  maxDelaySeconds: number;
}

/** A Secret delivered into the container, on a tmpfs: a file (one key) or a directory (several). */
export interface SecretRef {
  /** Name of a Secret in the service's namespace. */
  source: string;
  /** Absolute path in the container (default /run/secrets/<source>). */
  target: string;
  /** File mode (default 0o400). */
  mode: number;
  uid: number;
  gid: number;
}

/** A Config delivered into the container, read-only: a file (one key) or a directory. */
export interface ConfigRef {
  source: string;
  target: string;
  /** File mode (default 0o444). */
  mode: number;
}

/** A volume of a task: a named Volume (local driver), a tmpfs of a size, or a host path (when the cluster allows it). */
export interface VolumeRef {
  type: 'volume' | 'tmpfs' | 'bind';
  /** Volume name (volume), host path (bind); "" for tmpfs. */
  source: string;
  target: string;
  readOnly: boolean;
  /** tmpfs only, a quantity: 64Mi (default DEFAULT_TMPFS_SIZE). */
  size?: string;
}

/** tmpfs volumes without a `size` get this one (the schema fills it in, so the task template shows it). */
export const DEFAULT_TMPFS_SIZE = '64Mi';

/** A named volume: a directory on the one node that first runs a task using it. */
export interface VolumeSpec {
  /** Only `local` for now: a directory under the agent's data dir (src/agent/volumes/). */
  driver: 'local';
}

/**
 * Where a Volume lives. `node` is written once, by the placement controller in the same pass that
 * first places a task using the volume (src/controllers/placement/volumes.ts), and never changes:
 * tasks of services using the volume are placed on that node only.
 */
export interface VolumeStatus {
  /** The node holding the volume's directory; absent until a task using it is first placed. */
  node?: string;
  /** The directory on that node, when the node reports its volumes dir. */
  path?: string;
  /** `unbound` (no node yet) or `bound` (has a node). */
  state?: 'unbound' | 'bound';
  /** RFC 3339 time it was bound. */
  boundAt?: string;
}

export type Volume = ApiObject<VolumeSpec, VolumeStatus> & { kind: 'Volume' };

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
  secrets: SecretRef[];
  configs: ConfigRef[];
  volumes: VolumeRef[];
  /** Secret with the registry credentials the agent pulls `image` with (`flotilla registry login`); default: the namespace's `registry-credentials`, if any. */
  imagePullSecret?: string;
  /** Seconds between SIGTERM and SIGKILL. */
  stopGracePeriodSeconds: number;
  /** Set by `flotilla rollout restart` (RFC 3339): part of the task template, so a new value makes a new revision. */
  restartedAt?: string;
  /** The autoscaler owns `replicas` while this is set (src/controllers/autoscale). */
  autoscale?: AutoscaleSpec;
}

/** One metric the autoscaler follows: exactly one of the fields. */
export interface AutoscaleMetric {
  /** Average CPU of the tasks as a percent of their CPU request (else limit). */
  cpu?: { targetUtilization: number };
  /** Average working set as a percent of the memory request (else limit). */
  memory?: { targetUtilization: number };
  /**
   * A value for the whole service (a queue length): pushed through the API
   * (POST /api/v1/services/NAME/metrics) or read from a Prometheus query; `target` per task.
   */
  custom?: { name: string; target: number; prometheus?: { url: string; query: string } };
}

/** Horizontal autoscaling, the Kubernetes HPA algorithm (desired = ceil(current * value / target), 10% tolerance). */
export interface AutoscaleSpec {
  min: number;
  max: number;
  metrics: AutoscaleMetric[];
  /** Scale up to the lowest recommendation of this window (default 0: at once). */
  scaleUpStabilizationSeconds: number;
  /** Scale down to the highest recommendation of this window (default 300). */
  scaleDownStabilizationSeconds: number;
}

/** What the autoscaler last decided, in the service's status. */
export interface AutoscaleStatus {
  desired: number;
  /** "cpu 140% of request (target 70%): 1 -> 2", "within tolerance", "no metrics yet". */
  reason: string;
  /** Each metric's current value and target, as the last decision saw them. */
  metrics: Array<{ name: string; current?: number; target: number }>;
  /** RFC 3339 of the last change of replicas. */
  lastScaleTime?: string;
  /** RFC 3339 of the last decision. */
  time: string;
}

/**
 * One revision of a service's task template (the spec without replicas, update and restart
 * policy): kept in the service's status as history, newest last, so a rollout can go back.
 */
export interface ServiceRevision {
  revision: number;
  /** sha256 of the canonical JSON of the template (src/api/revision.ts). */
  hash: string;
  /** The whole spec as it was when this revision was first seen. */
  template: ServiceSpec;
  /** RFC 3339: when this revision was last rolled out. */
  createdAt: string;
  /** Image of the template (for `rollout history`). */
  image: string;
  /** Why it was made: apply, rollback, undo, restart. */
  cause?: string;
}

export type RolloutState = 'progressing' | 'paused' | 'waiting-promotion' | 'complete' | 'rolled-back' | 'failed';

/**
 * The rollout of one revision, written by the rollout controller (src/controllers/rollout/)
 * and by the API's rollout actions (pause, resume, promote, undo). Every field the controller
 * needs to resume after a restart is here: the controller keeps no state of its own.
 */
export interface RolloutStatus {
  state: RolloutState;
  strategy: 'rolling' | 'blue-green' | 'canary';
  /** Revision being rolled out (after a rollback: the revision rolled back to). */
  revision: number;
  /** Revision it started from (the stable one; after a rollback: the failed one). */
  from: number;
  /** Rolling: slots (or nodes, for global services) allowed to run the new revision so far. */
  updated?: number;
  /** Canary: index of the current step in update.steps (steps.length: the final 100%). */
  step?: number;
  /** Canary: percent of new connections sent to the new revision now. */
  weight?: number;
  /** RFC 3339: when the current batch, step or pause began. */
  since: string;
  /** RFC 3339: only failures of new tasks after this time count (reset by `rollout resume`). */
  failuresSince: string;
  /** Rolling with delaySeconds: RFC 3339 time the current batch became healthy. */
  batchReadyAt?: string;
  /** Paused by `rollout pause` (not by a failure or a step). */
  userPaused?: boolean;
  /** Blue-green: RFC 3339 time after which the previous revision is scaled down. */
  scaleDownAt?: string;
  /** What a person reads: "2/4 new tasks ready", "rolled back: 2/3 new tasks failed the readiness probe". */
  message: string;
  startedAt: string;
  finishedAt?: string;
}

export interface ServiceStatus {
  /** Tasks with desired state running. */
  replicas?: number;
  /** Of those, running and ready. */
  readyReplicas?: number;
  /** Virtual IP on the service network, when assigned. */
  vip?: string;
  /** Blue-green services: VIP of `NAME-preview`, which reaches the revision being rolled out. */
  previewVip?: string;
  observedGeneration?: number;
  /** The revision the service's name routes to (the stable one). */
  revision?: number;
  /** Revisions of the task template, oldest first, at most REVISION_HISTORY_LIMIT. */
  history?: ServiceRevision[];
  /** The current or last rollout. */
  rollout?: RolloutStatus;
  /** Autoscaled services: the autoscaler's last decision. */
  autoscale?: AutoscaleStatus;
  /** Set while a task slot fails quickly again and again (src/controllers/service/crash-loop.ts). */
  crashLoop?: { units: number; message: string };
}

/** How many revisions a service's status keeps. */
export const REVISION_HISTORY_LIMIT = 10;

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
  /** The service revision of `template` (status.history); absent on tasks made before revisions existed. */
  revision?: number;
}

/** The last result of one probe of a task, written by the agent on transitions only. */
export interface ProbeResult {
  /** success once successThreshold passes in a row, failure once failureThreshold fails in a row. */
  result: 'success' | 'failure';
  /** What the probe saw last: "HTTP 200", "HTTP 503", "connection refused", "exit code 1: <output>". */
  message: string;
  /** Consecutive results of this kind when it was written. */
  consecutive: number;
  /** RFC 3339 time of the transition. */
  time: string;
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
  /** RFC 3339 time since which `ready` is true (absent while not ready). */
  readySince?: string;
  /** Last transition of each probe the task has (agent). */
  probes?: { startup?: ProbeResult; readiness?: ProbeResult; liveness?: ProbeResult };
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

/**
 * One fact about a node, Kubernetes style. `RuntimeReady` (src/api/node-conditions.ts): false
 * when the node cannot run containers (no cgroup hierarchy, runc or CNI plugins missing); the
 * scheduler gives such a node no tasks.
 */
export interface NodeCondition {
  type: string;
  status: boolean;
  /** CamelCase word, e.g. `NoCgroupHierarchy`. */
  reason?: string;
  message?: string;
  /** RFC 3339 time the status last changed. */
  lastTransitionTime?: string;
}

export interface NodeStatus {
  state: 'ready' | 'down' | 'unknown';
  /** Facts the agent checks about itself (RuntimeReady, ...). */
  conditions?: NodeCondition[];
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
  /** Directory of the node's local volumes (`<agent data dir>/volumes`), for Volume.status.path. */
  volumesDir?: string;
  /** Reverse uptime (src/controllers/recycle): where this node's recycle is; the server keeps it across agent status writes. */
  recycle?: NodeRecycle;
}

/** The state of one node recycle (src/controllers/recycle/README.md), kept so a new leader carries on. */
export interface NodeRecycle {
  /** waiting (its turn or its services' readiness) -> provisioning -> cordoned -> draining -> (Node deleted). */
  phase: 'waiting' | 'provisioning' | 'cordoned' | 'draining';
  /** RFC 3339 time the phase began. */
  since: string;
  /** RFC 3339 time the recycle began (left `waiting`). */
  startedAt?: string;
  /** Why: `recycled: older than 24h`, `recycled: requested`. */
  reason: string;
  message?: string;
}

/** Node label: the node's own maximum age (`24h`, `90m`; `0` or `off` exempts it), over `--max-node-age`. */
export const MAX_NODE_AGE_LABEL = 'flotilla.dev/max-node-age';
/** Node annotation (value: RFC 3339 time) written by `flotilla node recycle NAME`: recycle it now. */
export const RECYCLE_REQUEST_ANNOTATION = 'flotilla.dev/recycle-requested';

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

/** One peer of a NetworkPolicy rule: exactly one of the fields. */
export interface NetworkPolicyPeer {
  /** Tasks of this service (in the policy's namespace, or `namespace` when given with it). */
  service?: string;
  /** Tasks whose service labels (or task labels) match all of these. */
  labels?: Record<string, string>;
  /** Every task of this namespace (alone), or narrows `service`/`labels` to it. */
  namespace?: string;
  /** Addresses in this CIDR (node addresses, outside clients of a published port). */
  cidr?: string;
}

/** One allow rule: from/to these peers (empty or absent: any peer), on these ports (absent: any). */
export interface NetworkPolicyRule {
  from?: NetworkPolicyPeer[];
  to?: NetworkPolicyPeer[];
  /** Container ports (TCP and UDP); absent = every port. */
  ports?: number[];
}

/**
 * Kubernetes semantics: a task selected by any policy accepts (ingress) only what some policy
 * selecting it allows; egress likewise but only for policies that have an `egress` list.
 * Tasks selected by none are open. Established connections survive changes; DNS to the
 * node's resolver stays allowed.
 */
export interface NetworkPolicySpec {
  selector: { services?: string[]; labels?: Record<string, string> };
  /** Absent: ingress unrestricted by this policy; [] denies all ingress of the selected tasks. */
  ingress?: NetworkPolicyRule[];
  /** Absent: egress unrestricted by this policy; [] denies all egress (but DNS). */
  egress?: NetworkPolicyRule[];
}
export type NetworkPolicy = ApiObject<NetworkPolicySpec> & { kind: 'NetworkPolicy' };

/** Which images need a signature by which keys (cosign key-based signatures). */
export interface TrustRule {
  /** Glob over the image reference without tag/digest: `127.0.0.1:5000/*`, `reg/app/**`. */
  images: string;
  /** PEM SubjectPublicKeyInfo, ECDSA P-256; a signature by any one of them is enough. */
  keys: string[];
}

/** Cluster-scoped; every TrustPolicy object applies (their rules and registries are unioned). */
export interface TrustPolicySpec {
  /** false: verify and report (Events, task message) but run anyway. */
  enforce: boolean;
  /** Allow-list of registries (host[:port]); absent = any registry. */
  registries?: string[];
  rules: TrustRule[];
}
export type TrustPolicy = ApiObject<TrustPolicySpec> & { kind: 'TrustPolicy' };

/**
 * A certificate revocation (cluster-scoped, named after its subject with ':' as '.', e.g.
 * `node.n1`): every certificate of `subject` issued before `issuedBefore` is refused, at once
 * (open connections of that subject are closed). Written when a node is removed (reverse
 * uptime) or its certificate rotated by force. Deleting it lifts the revocation.
 */
export interface RevocationSpec {
  /** `node:NAME` (the certificate's CN). */
  subject: string;
  /** RFC 3339: certificates whose notBefore (+ the issuing skew) is before this are refused. */
  issuedBefore: string;
  reason: string;
}
export type Revocation = ApiObject<RevocationSpec> & { kind: 'Revocation' };
