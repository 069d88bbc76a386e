/**
 * The narrow container runtime interface (STYLE.md 7). The task runner moves a task through
 * prepare -> start -> wait -> stop -> remove and never sees runc, bundles or cgroups. The runc
 * implementation lives in runc/; tests of the task runner use a hand-written fake.
 */
import type { Writable } from 'node:stream';
import { FlotillaError } from '../../api/errors.js';

/** A bind or tmpfs mount inside the container. */
export interface MountSpec {
  /** Host path for `bind`; ignored for `tmpfs`. */
  source?: string;
  /** Absolute path inside the container. */
  target: string;
  type: 'bind' | 'tmpfs';
  readOnly?: boolean;
  /** Extra mount options (`size=64m`, `mode=0700`, `noexec` ...). */
  options?: string[];
}

/** Resource limits the kernel enforces through the container's cgroup. */
export interface ContainerLimits {
  /** Hard memory limit; the container is OOM-killed above it (no swap). */
  memoryBytes?: number;
  /** CPU quota in thousandths of a core over a 100 ms period (`500` = half a core). */
  cpuMillis?: number;
  /** Maximum number of processes and threads. */
  pids?: number;
}

/** Where the container's stdout/stderr go and how much of it is kept. */
export interface LogSettings {
  /** Directory of the log files (`<id>.log`, `<id>.log.1`, ...). */
  dir: string;
  /** Rotate the current file once it is larger than this (default 10 MiB). */
  maxBytes?: number;
  /** Files kept, the current one included (default 3). */
  maxFiles?: number;
}

/** Everything the runtime needs to run one container; images and networks are resolved before. */
export interface ContainerSpec {
  /** Unique on the node: `[A-Za-z0-9][A-Za-z0-9_.-]{0,127}`. */
  id: string;
  /** Root filesystem directory prepared by the image layer. */
  rootfs: string;
  /** Mount the root filesystem read-only (lets many containers share one rootfs). */
  readonlyRootfs?: boolean;
  /** Entrypoint + command, resolved by the caller. */
  args: string[];
  env?: Record<string, string>;
  /** Working directory inside the container (default `/`). */
  cwd?: string;
  /** `uid[:gid]` numeric, or `name[:group]` resolved through the rootfs's /etc/passwd and /etc/group. */
  user?: string;
  hostname?: string;
  /** Join this network namespace (e.g. /var/run/netns/x); without it the container gets a new, empty one. */
  netnsPath?: string;
  limits?: ContainerLimits;
  mounts?: MountSpec[];
  /** Task id, service... kept with the container so an agent can adopt it after a restart. */
  annotations?: Record<string, string>;
  /** Defaults to a directory under the runtime's state dir. */
  log?: LogSettings;
  /** Signal `stop()` sends first (default SIGTERM). */
  stopSignal?: NodeJS.Signals;
}

/** How a container ended. */
export interface ExitInfo {
  exitCode: number;
  /** Set when the exit code says a signal ended it (exit code 128 + signal number). */
  signal?: NodeJS.Signals;
  /** The kernel's OOM killer fired in the container's memory cgroup. */
  oomKilled: boolean;
  /** ISO time the runtime learned of the exit. */
  finishedAt: string;
  /** Why, when the exit code could not be observed (monitor lost). */
  message?: string;
}

/** Lifecycle position of a container as the runtime sees it. */
export type ContainerStatus = 'prepared' | 'created' | 'running' | 'paused' | 'stopped';

/** What `state()` and `list()` report: enough to adopt or clean up a container after a restart. */
export interface ContainerState {
  id: string;
  status: ContainerStatus;
  /** Host PID of the container's first process while it runs. */
  pid?: number;
  /** The annotations given at prepare. */
  annotations: Record<string, string>;
  /** Set once the container has exited. */
  exit?: ExitInfo;
}

/** Entry of `list()`; same shape as a state. */
export type ContainerInfo = ContainerState;

/** Options of `exec()`. */
export interface ExecOptions {
  stdout?: Writable;
  stderr?: Writable;
  env?: Record<string, string>;
  cwd?: string;
  /** Kill the process after this long; the result is then exit code 137 with `timedOut`. */
  timeoutMs?: number;
  /** Kill the process when this aborts (the caller went away); the result is then exit code 137. */
  signal?: AbortSignal;
}

/** Result of `exec()`; exit code 127 means the command was not found in the container. */
export interface ExecResult {
  exitCode: number;
  timedOut?: boolean;
}

/** Live usage figures read from the container's cgroup (counters cumulative); the optional ones where the runtime can tell. */
export interface ContainerStats {
  /** Working set (usage minus inactive file cache). */
  memoryBytes: number;
  memoryLimitBytes?: number;
  cpuUsageNs: number;
  pids: number;
  cpuThrottledPeriods?: number;
  cpuThrottledNs?: number;
  cpuLimitCores?: number;
  oomKills?: number;
  blockReadBytes?: number;
  blockWriteBytes?: number;
  /** Of the container's network namespace, every interface but lo. */
  netRxBytes?: number;
  netTxBytes?: number;
}

/** One line of a container's output. */
export interface LogEntry {
  stream: 'stdout' | 'stderr';
  line: string;
  /** RFC 3339 time the monitor read the line. */
  time: string;
}

/** Options of `readLogs()`. */
export interface ReadLogsOptions {
  /** Only the last N lines (over rotated files too). */
  tail?: number;
  /** Keep reading as the container writes, until the signal aborts. */
  follow?: boolean;
  signal?: AbortSignal;
}

/** The operations the task runner needs from a container runtime. */
export interface ContainerRuntime {
  /** Writes everything needed to start (bundle, config); starts nothing. */
  prepare(spec: ContainerSpec): Promise<void>;
  /** Starts the container's process; resolves once it runs, with its host PID. */
  start(id: string): Promise<{ pid: number }>;
  /** Resolves when the container has exited, also for one started by an earlier agent process. */
  wait(id: string): Promise<ExitInfo>;
  /** Stop signal, then SIGKILL after `gracePeriodMs`; resolves once it has exited. */
  stop(id: string, gracePeriodMs: number): Promise<void>;
  /** Kills if needed and leaves nothing behind: runc state, cgroups, bundle, logs, monitor. */
  remove(id: string): Promise<void>;
  /** undefined when the runtime has never heard of the id (or it was removed). */
  state(id: string): Promise<ContainerState | undefined>;
  /** Every container this runtime's state holds, for adoption after a restart. */
  list(): Promise<ContainerInfo[]>;
  /** Runs a command in the running container, streaming its output. */
  exec(id: string, cmd: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** The container's output, oldest first, across rotated files. */
  readLogs(id: string, opts?: ReadLogsOptions): AsyncIterable<LogEntry>;
  stats?(id: string): Promise<ContainerStats>;
}

/** The runtime binary failed in a way retrying will not fix (bad spec, missing executable). */
export class ContainerRuntimeError extends FlotillaError {
  override readonly code = 'RuntimeError';
}

/** Matches ids runc, conmon and our file layout all accept. */
export const CONTAINER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
