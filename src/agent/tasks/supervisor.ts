/**
 * The TaskSupervisor runs the tasks the scheduler assigned to this node (STYLE.md 4 and 7):
 * an informer on Tasks feeds a keyed queue; `sync(key)` asks planTask for the next step,
 * performs it against the runtime, the image store and the hooks, reports the new status to
 * the server, and repeats until the plan is idle. Container exits wake the key up again, and
 * so do probe transitions: each running task has a prober (src/agent/probes/) whose verdict,
 * kept in memory, is one more input of planTask.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { isRetryable, NotFoundError, ConflictError } from '../../api/errors.js';
import { DEFAULT_PULL_BACKOFF, pullRetryDelayMs, pullWaitMessage, type PullBackoff } from '../../api/pull-wait.js';
import type { Task, TaskState, TaskStatus } from '../../api/kinds.js';
import { keyString, type ApiObject } from '../../api/object.js';
import { Controller, type SyncResult } from '../../controllers/framework/controller.js';
import { Informer } from '../../controllers/framework/informer.js';
import type { Disposable } from '../../lifecycle.js';
import type { Store } from '../../store/store.js';
import type { ProberFactory, RunningProber } from '../probes/index.js';
import type { ContainerRuntime } from '../runtime/runtime.js';
import { runAfterStop, runBeforeStart, type TaskHook } from './hooks.js';
import { archiveLogs, dropArchivedLogs, gcArchivedLogs } from './log-archive.js';
import { planTask, type TaskStep } from './plan.js';
import { containerIdOf, containerSpecOf, type ImageRunConfig } from './spec.js';

/** What the supervisor needs from the image layer (adapter over the ImagePuller). */
export interface TaskImages {
  /** Pulls (or finds cached) the image and mounts a root filesystem for the container; `task` says whose (its pull credentials). */
  prepareRootfs(containerId: string, image: string, onProgress: (message: string) => void, task?: Task): Promise<{ rootfs: string; config: ImageRunConfig }>;
  /** Unmounts and removes the container's root filesystem; a no-op when there is none. */
  releaseRootfs(containerId: string): Promise<void>;
}

/** Writes a task's status; the ApiClient in an agent. */
export interface TaskStatusWriter {
  updateStatus(obj: ApiObject): Promise<ApiObject>;
  get(key: { kind: 'Task'; namespace: string; name: string }): Promise<ApiObject | undefined>;
}

/**
 * A Task cache several supervisors share instead of one informer (and one watch) each: hollow
 * nodes run thousands of supervisors in one process over one watch. Its owner starts and
 * stops it; the supervisor only reads it and subscribes to the tasks of its node.
 */
export interface NodeTaskView {
  /** The cached task under its informer key (`Task/namespace/name`). */
  get(key: string): Task | undefined;
  /** Every cached task whose `spec.node` is `nodeName`. */
  assignedTo(nodeName: string): Task[];
  /** Calls `onChange` for each add, update or delete of a task on `nodeName`; returns the unsubscribe. */
  subscribe(nodeName: string, onChange: (t: Task) => void): () => void;
}

/** How a TaskSupervisor is wired. */
export interface TaskSupervisorOptions {
  nodeName: string;
  store: Store;
  status: TaskStatusWriter;
  runtime: ContainerRuntime;
  images: TaskImages;
  hooks?: TaskHook[];
  /** Directory for the tasks' log files (`<dir>/<containerId>/`). */
  logDir: string;
  log?: (msg: string) => void;
  workers?: number;
  /** Read tasks from this shared cache instead of an informer of its own (hollow nodes). */
  sharedTasks?: NodeTaskView;
  /** Health probes of running tasks; without (hollow nodes) a running task is ready. */
  probers?: ProberFactory;
  /**
   * How long a task that was in rotation keeps running after it is told to stop, before its
   * SIGTERM, so every node's load balancer and DNS drop it first (default 1000 with probers, else 0).
   */
  drainMs?: number;
  /** Backoff of image pulls that failed for a transient reason (registry down); default 1 s doubling to 20 s. */
  pullBackoff?: PullBackoff;
}

const MAX_STEPS_PER_SYNC = 8;
/**
 * Tasks prepared and started at once by default. FLOTILLA_TASK_WORKERS overrides it (benchmarks):
 * 32 halves the start of 50 tasks at once (docs/benchmarks.md, issue 14) but made the liveness
 * e2e test (test/e2e/probes.test.ts, after the tests before it) fail twice in a row, so the
 * default stays 8 until that is understood.
 */
const DEFAULT_WORKERS = 8;

function defaultWorkers(): number {
  const n = Number(process.env.FLOTILLA_TASK_WORKERS);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_WORKERS;
}
/** How long a stopped container's monitor gets to write its exit code. */
const EXIT_WAIT_MS = 5_000;

/** See the file comment. */
export class TaskSupervisor implements Disposable {
  /** Our own informer; undefined when reading a shared NodeTaskView. */
  private readonly informer: Informer<Task> | undefined;
  private readonly tasks: Pick<NodeTaskView, 'get' | 'assignedTo'>;
  private unsubscribe: (() => void) | undefined;
  private readonly controller: Controller;
  private readonly waiting = new Set<string>();
  /** Keys of stopping tasks still in their drain time, with its end (ms). */
  private readonly draining = new Map<string, number>();
  /** Newer copies of tasks than the informer may have yet (our own status writes). */
  private readonly fresh = new Map<string, Task>();
  /** The prober of each running task, by task key. */
  private readonly probers = new Map<string, RunningProber>();
  /** Failed pull attempts in a row and when the next may start (ms), by task key (transient registry errors). */
  private readonly pullAttempts = new Map<string, { attempts: number; nextAtMs: number }>();
  private readonly log: (msg: string) => void;
  private stopped = false;

  constructor(private readonly opts: TaskSupervisorOptions) {
    this.log = opts.log ?? (() => undefined);
    // Retries are visible in the task's status message; the controller's own lines are for debugging.
    const debug = process.env.FLOTILLA_DEBUG === '1' ? this.log : (): void => undefined;
    this.controller = new Controller({ name: 'tasks', sync: (k) => this.sync(k), workers: opts.workers ?? defaultWorkers(), log: debug, maxDelayMs: 30_000 });
    const enqueue = (t: Task): void => {
      if (t.spec.node === opts.nodeName || this.fresh.has(keyString({ kind: 'Task', namespace: t.metadata.namespace, name: t.metadata.name }))) {
        this.controller.enqueue(keyString({ kind: 'Task', namespace: t.metadata.namespace, name: t.metadata.name }));
      }
    };
    if (opts.sharedTasks !== undefined) {
      this.informer = undefined;
      this.tasks = opts.sharedTasks;
      this.unsubscribe = opts.sharedTasks.subscribe(opts.nodeName, enqueue);
      return;
    }
    const informer = new Informer<Task>({ store: opts.store, kind: 'Task', log: this.log });
    this.informer = informer;
    this.tasks = { get: (k) => informer.get(k), assignedTo: (n) => informer.list().filter((t) => t.spec.node === n) };
    informer.addHandler({ onAdd: enqueue, onUpdate: (_o, t) => enqueue(t), onDelete: enqueue });
  }

  /** Adopts the containers already running, then starts watching tasks. */
  async start(): Promise<void> {
    await this.informer?.start();
    await gcArchivedLogs(this.opts.logDir, (id) => this.tasks.get(taskKeyOfContainer(id)) !== undefined);
    for (const c of await this.opts.runtime.list()) {
      const ns = c.annotations['flotilla.namespace'];
      const name = c.annotations['flotilla.task'];
      if (ns === undefined || name === undefined) continue;
      this.controller.enqueue(keyString({ kind: 'Task', namespace: ns, name }));
    }
    for (const t of this.tasks.assignedTo(this.opts.nodeName)) this.controller.enqueue(keyString({ kind: 'Task', namespace: t.metadata.namespace, name: t.metadata.name }));
    this.controller.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.controller.stop();
    await Promise.all([...this.probers.values()].map((p) => p.stop()));
    this.probers.clear();
    await this.informer?.stop();
  }

  private current(key: string): Task | undefined {
    const cached = this.tasks.get(key);
    const mine = this.fresh.get(key);
    // Our own write until the cache has caught up with it; at an equal revision they are the same
    // object, so the copy is dropped (kept, it would hold every running task twice).
    const t = mine !== undefined && (cached === undefined || mine.metadata.revision > cached.metadata.revision) ? mine : cached;
    if (mine !== undefined && t === cached) this.fresh.delete(key);
    if (t === undefined || t.spec.node !== this.opts.nodeName) return undefined;
    return t;
  }

  private async sync(key: string): Promise<SyncResult | void> {
    const [, namespace, name] = key.split('/') as [string, string, string];
    const id = `${namespace}_${name}`;
    for (let i = 0; i < MAX_STEPS_PER_SYNC && !this.stopped; i++) {
      const task = this.current(key);
      const container = await this.opts.runtime.state(id);
      const step = planTask(task, container, { enabled: this.opts.probers !== undefined, verdict: this.probers.get(key)?.verdict() });
      if (step.do === 'idle' && task === undefined && container === undefined && this.tasks.get(key) === undefined) {
        await dropArchivedLogs(this.opts.logDir, id); // the Task is gone: so are its logs
      }
      if (step.do !== 'prepare') this.pullAttempts.delete(key);
      if (step.do === 'idle') return;
      const waitMs = step.do === 'stop' ? this.drainWait(key, task) : 0;
      if (waitMs > 0) return { requeueAfterMs: waitMs };
      const later = await this.perform(step, task, id, key);
      if (later !== undefined) return later;
    }
  }

  /**
   * Milliseconds a stopping task still runs while the cluster takes it out of rotation: from the
   * first stop step of a task that was ready and is desired shutdown, drainMs. 0: stop now.
   */
  private drainWait(key: string, task: Task | undefined): number {
    const drainMs = this.opts.drainMs ?? (this.opts.probers !== undefined ? 1000 : 0);
    if (drainMs <= 0 || task === undefined || task.spec.desiredState !== 'shutdown' || task.status?.ready !== true) {
      this.draining.delete(key);
      return 0;
    }
    const now = Date.now();
    let until = this.draining.get(key);
    if (until === undefined) this.draining.set(key, (until = now + drainMs));
    if (now >= until) {
      this.draining.delete(key);
      return 0;
    }
    return until - now;
  }

  /** Performs one step; a result means "look again later" (a pull backing off). */
  private async perform(step: TaskStep, task: Task | undefined, id: string, key: string): Promise<SyncResult | void> {
    switch (step.do) {
      case 'prepare':
        return this.prepare(task as Task, id, key);
      case 'start':
        return this.startContainer(task as Task, id);
      case 'report-running':
        this.watchExit(id, key);
        await this.report(task as Task, { state: 'running', pid: step.pid, message: 'running' });
        return;
      case 'stop':
        await this.opts.runtime.stop(id, (task?.spec.template.stopGracePeriodSeconds ?? 10) * 1000);
        return;
      case 'report-exit':
        await this.report(task as Task, { state: step.state, exitCode: step.exitCode, message: step.message, pid: undefined, ready: false });
        return;
      case 'report':
        await this.report(task as Task, { state: step.state, message: step.message, pid: undefined, ready: false, ...(step.probes !== undefined ? { probes: step.probes } : {}) });
        return;
      case 'start-probes':
        if (!this.stopped) this.probers.set(key, (this.opts.probers as ProberFactory).start(task as Task, id, () => this.controller.enqueue(key)));
        return;
      case 'stop-probes':
        await this.probers.get(key)?.stop();
        this.probers.delete(key);
        return;
      case 'report-probe':
        await this.report(task as Task, { state: 'running', ready: step.ready, readySince: step.readySince, ...(step.probes !== undefined ? { probes: step.probes } : {}) });
        return;
      case 'cleanup':
        await this.cleanup(id);
        return;
      case 'await-exit': {
        const exit = await Promise.race([this.opts.runtime.wait(id), delay(EXIT_WAIT_MS, undefined, { ref: false })]);
        if (exit === undefined) await this.report(task as Task, { state: 'failed', message: 'the container stopped and its exit code is unknown', pid: undefined, ready: false });
        return;
      }
    }
  }

  /**
   * Pulls and creates the container. A transient pull error (registry unreachable, 5xx) keeps the
   * task preparing with a "waiting: image ... cannot be pulled" message and retries after a
   * growing delay (src/api/pull-wait.ts); any other pull error rejects the task.
   */
  private async prepare(task: Task, id: string, key: string): Promise<SyncResult | void> {
    const backoff = this.pullAttempts.get(key);
    // Our own status write wakes the key at once: the backoff holds all the same.
    if (backoff !== undefined && Date.now() < backoff.nextAtMs) return { requeueAfterMs: backoff.nextAtMs - Date.now() };
    const attempts = backoff?.attempts ?? 0;
    if (attempts === 0) task = await this.report(task, { state: 'preparing', message: `pulling ${task.spec.image}` });
    let lastProgress = 0;
    let prepared: { rootfs: string; config: ImageRunConfig };
    try {
      prepared = await this.opts.images.prepareRootfs(id, task.spec.image, (message) => {
        const now = Date.now();
        if (now - lastProgress < 1000) return;
        lastProgress = now;
        this.report(task, { state: 'preparing', message }).then((t) => { task = t; }, () => undefined);
      }, task);
    } catch (err) {
      if (isRetryable(err) && !this.stopped) {
        const attempt = attempts + 1;
        const nextMs = pullRetryDelayMs(attempt, this.opts.pullBackoff ?? DEFAULT_PULL_BACKOFF);
        this.pullAttempts.set(key, { attempts: attempt, nextAtMs: Date.now() + nextMs });
        const message = pullWaitMessage(task.spec.image, (err as Error).message, attempt, nextMs);
        this.log(`${id}: ${message}`);
        await this.report(task, { state: 'preparing', message });
        return { requeueAfterMs: nextMs };
      }
      this.pullAttempts.delete(key);
      await this.opts.images.releaseRootfs(id).catch(() => undefined);
      await this.report(task, { state: 'rejected', message: (err as Error).message });
      return;
    }
    this.pullAttempts.delete(key);
    try {
      const extra = await runBeforeStart(this.opts.hooks ?? [], task, id);
      const spec = containerSpecOf(task, prepared.rootfs, prepared.config, { netnsPath: extra.netnsPath, mounts: extra.mounts, logDir: `${this.opts.logDir}/${id}` });
      await this.opts.runtime.prepare(spec);
      await this.report(task, { state: 'starting', message: 'starting the container', ip: extra.ip });
    } catch (err) {
      if (isRetryable(err)) throw err;
      await this.cleanup(id);
      await this.report(task, { state: 'rejected', message: `cannot create the container: ${(err as Error).message}` });
    }
  }

  private async startContainer(task: Task, id: string): Promise<void> {
    try {
      const { pid } = await this.opts.runtime.start(id);
      this.watchExit(id, keyString({ kind: 'Task', namespace: task.metadata.namespace, name: task.metadata.name }));
      // Ready at once unless a probe must pass first (and always on a node without probers).
      const probes = task.spec.template.probes;
      const ready = this.opts.probers === undefined || (probes.readiness === undefined && probes.startup === undefined);
      await this.report(task, { state: 'running', pid, ready, message: 'running' });
    } catch (err) {
      const exit = (await this.opts.runtime.state(id))?.exit;
      if (exit !== undefined) return; // it ran and ended already: the next plan reports the exit
      await this.cleanup(id);
      await this.report(task, { state: 'failed', message: `cannot start: ${(err as Error).message}` });
    }
  }

  private watchExit(id: string, key: string): void {
    if (this.waiting.has(id)) return;
    this.waiting.add(id);
    this.opts.runtime.wait(id).then(
      () => { this.waiting.delete(id); this.controller.enqueue(key); },
      () => { this.waiting.delete(id); this.controller.enqueue(key); },
    );
  }

  private async cleanup(id: string): Promise<void> {
    // Keep the logs readable while the Task is history; removing the container deletes them.
    await archiveLogs(this.opts.logDir, id).catch((err: unknown) => this.log(`logs of ${id}: archive failed: ${(err as Error).message}`));
    await this.opts.runtime.remove(id);
    await this.opts.images.releaseRootfs(id);
    await runAfterStop(this.opts.hooks ?? [], id, this.log);
  }

  /**
   * Writes status fields, re-reading the task on a conflict (up to 3 times); returns the stored
   * task. `readySince` is kept with `ready`: set to now when it becomes ready, gone when not.
   */
  private async report(task: Task, patch: Partial<TaskStatus> & { state: TaskState }): Promise<Task> {
    const key = keyString({ kind: 'Task', namespace: task.metadata.namespace, name: task.metadata.name });
    for (let attempt = 0; ; attempt++) {
      const status: TaskStatus = {
        ...(task.status ?? { ready: false }),
        ...patch,
        desiredState: task.spec.desiredState,
        ready: patch.ready ?? (patch.state === 'running' ? task.status?.ready ?? false : false),
        timestamp: new Date().toISOString(),
      } as TaskStatus;
      if (!status.ready) delete status.readySince;
      else status.readySince ??= status.timestamp;
      try {
        const written = (await this.opts.status.updateStatus({ ...task, status })) as Task;
        this.fresh.set(key, written);
        return written;
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= 3) throw err;
        const again = (await this.opts.status.get({ kind: 'Task', namespace: task.metadata.namespace, name: task.metadata.name })) as Task | undefined;
        if (again === undefined) throw new NotFoundError(`task ${task.metadata.name} was deleted`);
        task = again;
      }
    }
  }
}

/** The informer key of the task a container id (`<namespace>_<name>`) belongs to. */
function taskKeyOfContainer(id: string): string {
  const i = id.indexOf('_');
  return keyString({ kind: 'Task', namespace: id.slice(0, i), name: id.slice(i + 1) });
}

export { containerIdOf };
