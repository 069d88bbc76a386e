/**
 * The container runtime of a hollow node: the same ContainerRuntime contract the TaskSupervisor
 * drives runc through, kept entirely in memory. No process, no bundle, no cgroup: `start`
 * waits a small configurable delay (what runc's create + start costs, ~30 ms here) and hands
 * out a fake PID, `stop` ends the fake process at once as if it obeyed SIGTERM, and the logs
 * are a few lines saying what happened. A hollow agent restarted loses its containers, as a
 * machine that rebooted would.
 *
 *   prepare -> prepared --start (startDelayMs)--> running --stop/crash--> stopped --remove--> (gone)
 */
import { AlreadyExistsError, ConflictError, NotFoundError, ValidationError } from '../../api/errors.js';
import {
  CONTAINER_ID_PATTERN,
  type ContainerInfo, type ContainerRuntime, type ContainerSpec, type ContainerState, type ContainerStats,
  type ExecOptions, type ExecResult, type ExitInfo, type LogEntry, type ReadLogsOptions,
} from '../runtime/runtime.js';

/** How a HollowRuntime behaves. */
export interface HollowRuntimeOptions {
  /** Delay of `start` before the container runs (default 20 ms). */
  startDelayMs?: number;
  /** First fake PID handed out (default 1,000,000: above any real PID of this machine). */
  firstPid?: number;
  /** Lines kept per container (default 50). */
  maxLogLines?: number;
}

interface HollowContainer {
  id: string;
  annotations: Record<string, string>;
  status: 'prepared' | 'starting' | 'running' | 'stopped';
  pid?: number;
  exit?: ExitInfo;
  logs: LogEntry[];
  /** Lines trimmed from the front of `logs` so far (followers keep absolute positions). */
  trimmed: number;
  /** Woken on every change (exit, new log line, removal). */
  listeners: Set<() => void>;
  removed: boolean;
}

const SIGNAL_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGQUIT: 3, SIGHUP: 1 };

/** See the file comment; shared by every hollow node of one process is fine, one per node is the norm. */
export class HollowRuntime implements ContainerRuntime {
  private readonly containers = new Map<string, HollowContainer>();
  private readonly startDelayMs: number;
  private readonly maxLogLines: number;
  private nextPid: number;

  constructor(opts: HollowRuntimeOptions = {}) {
    this.startDelayMs = Math.max(0, opts.startDelayMs ?? 20);
    this.maxLogLines = Math.max(1, opts.maxLogLines ?? 50);
    this.nextPid = opts.firstPid ?? 1_000_000;
  }

  /** Containers this runtime holds (tests, the hollow agent's figures). */
  get size(): number {
    return this.containers.size;
  }

  async prepare(spec: ContainerSpec): Promise<void> {
    if (!CONTAINER_ID_PATTERN.test(spec.id)) throw new ValidationError([{ path: 'id', expected: `to match ${CONTAINER_ID_PATTERN}`, found: spec.id }]);
    if (spec.args.length === 0) throw new ValidationError([{ path: 'args', expected: 'at least the program to run' }]);
    if (this.containers.has(spec.id)) throw new AlreadyExistsError(`container ${spec.id} already exists`);
    const c: HollowContainer = { id: spec.id, annotations: { ...spec.annotations }, status: 'prepared', logs: [], trimmed: 0, listeners: new Set(), removed: false };
    this.containers.set(spec.id, c);
  }

  async start(id: string): Promise<{ pid: number }> {
    const c = this.must(id);
    if (c.status !== 'prepared') throw new ConflictError(`container ${id} was already started`);
    c.status = 'starting';
    if (this.startDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.startDelayMs));
    if (c.removed) throw new NotFoundError(`container ${id} was removed while starting`);
    if (c.status !== 'starting') throw new ConflictError(`container ${id} stopped while starting`);
    c.status = 'running';
    c.pid = this.nextPid++;
    this.logLine(c, 'stdout', `hollow container ${id} started (fake pid ${c.pid}; no process runs on a hollow node)`);
    return { pid: c.pid };
  }

  async wait(id: string): Promise<ExitInfo> {
    const c = this.must(id);
    for (;;) {
      if (c.exit !== undefined) return c.exit;
      if (c.removed) throw new NotFoundError(`container ${id} was removed while waiting`);
      await this.changed(c);
    }
  }

  async stop(id: string, _gracePeriodMs: number): Promise<void> {
    const c = this.must(id);
    if (c.status === 'running' || c.status === 'starting') this.end(c, 'SIGTERM');
  }

  async remove(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (c === undefined) return;
    if (c.status === 'running' || c.status === 'starting') this.end(c, 'SIGKILL');
    this.containers.delete(id);
    c.removed = true;
    this.notify(c);
  }

  async state(id: string): Promise<ContainerState | undefined> {
    const c = this.containers.get(id);
    return c === undefined ? undefined : stateOf(c);
  }

  async list(): Promise<ContainerInfo[]> {
    return [...this.containers.values()].map(stateOf);
  }

  /** Nothing runs: the command is logged, not executed, and "succeeds" (exec probes pass). */
  async exec(id: string, cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const c = this.must(id);
    if (c.status !== 'running') throw new ConflictError(`container ${id} is not running`);
    opts.stdout?.write(`hollow container ${id}: ${JSON.stringify(cmd)} not run (hollow node)\n`);
    return { exitCode: 0 };
  }

  async *readLogs(id: string, opts: ReadLogsOptions = {}): AsyncGenerator<LogEntry> {
    const c = this.must(id);
    let next = c.trimmed + (opts.tail !== undefined ? Math.max(0, c.logs.length - opts.tail) : 0);
    for (;;) {
      next = Math.max(next, c.trimmed);
      while (next < c.trimmed + c.logs.length) yield c.logs[next++ - c.trimmed] as LogEntry;
      if (opts.follow !== true || opts.signal?.aborted === true || c.exit !== undefined || c.removed) return;
      await this.changed(c, opts.signal);
    }
  }

  async stats(id: string): Promise<ContainerStats> {
    this.must(id);
    return { memoryBytes: 0, cpuUsageNs: 0, pids: 0 };
  }

  /** Ends a running container with `exitCode` as if its process died (simulated crashes, tests). */
  crash(id: string, exitCode = 1): void {
    const c = this.must(id);
    if (c.status !== 'running') throw new ConflictError(`container ${id} is not running`);
    this.finish(c, { exitCode, oomKilled: false, finishedAt: new Date().toISOString() });
  }

  private must(id: string): HollowContainer {
    const c = this.containers.get(id);
    if (c === undefined) throw new NotFoundError(`container ${id} not found`);
    return c;
  }

  private end(c: HollowContainer, signal: NodeJS.Signals): void {
    this.finish(c, { exitCode: 128 + (SIGNAL_CODES[signal] ?? 15), signal, oomKilled: false, finishedAt: new Date().toISOString() });
  }

  private finish(c: HollowContainer, exit: ExitInfo): void {
    c.status = 'stopped';
    c.exit = exit;
    c.pid = undefined;
    this.logLine(c, 'stdout', `hollow container ${c.id} ended (exit code ${exit.exitCode}${exit.signal !== undefined ? `, ${exit.signal}` : ''})`);
  }

  private logLine(c: HollowContainer, stream: LogEntry['stream'], line: string): void {
    c.logs.push({ stream, line, time: new Date().toISOString() });
    if (c.logs.length > this.maxLogLines) c.trimmed += c.logs.splice(0, c.logs.length - this.maxLogLines).length;
    this.notify(c);
  }

  private notify(c: HollowContainer): void {
    const ls = [...c.listeners];
    c.listeners.clear();
    for (const l of ls) l();
  }

  /** Resolves at the container's next change (or when `signal` aborts). */
  private changed(c: HollowContainer, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        signal?.removeEventListener('abort', done);
        c.listeners.delete(done);
        resolve();
      };
      c.listeners.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

function stateOf(c: HollowContainer): ContainerState {
  const status = c.status === 'starting' ? 'created' : c.status;
  return {
    id: c.id, status, annotations: { ...c.annotations },
    ...(c.pid !== undefined ? { pid: c.pid } : {}),
    ...(c.exit !== undefined ? { exit: { ...c.exit } } : {}),
  };
}
