/**
 * Fake agents for the node lifecycle tests: small loops, one per node, in the test process. Each
 * heartbeats its Node (status.heartbeat, state ready, as src/agent/node/registration.ts does)
 * and runs the real agent decision (planTask) over pretend containers: no runc, a Map. A
 * "killed" agent stops heartbeating and reporting but keeps its containers, like a partitioned
 * machine; revived, it heartbeats again and plans over the containers it still has.
 */
import { ConflictError, NotFoundError } from '../../src/api/errors.js';
import type { NodeObject, Task, TaskState } from '../../src/api/kinds.js';
import { planTask } from '../../src/agent/tasks/plan.js';
import type { ContainerState } from '../../src/agent/runtime/runtime.js';
import type { Store } from '../../src/store/store.js';

/** Something that happened on a fake node, with its time. */
export interface AgentEvent {
  atMs: number;
  node: string;
  task: string;
  what: 'started' | 'stopped';
}

/** One fake node. */
export class FakeAgent {
  readonly containers = new Map<string, ContainerState>();
  alive = true;
  private timer: NodeJS.Timeout | undefined;
  private beatTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly store: Store,
    readonly name: string,
    private readonly journal: AgentEvent[],
    private readonly opts: { labels?: Record<string, string>; cpu?: string; memory?: string; heartbeatMs?: number; roundMs?: number } = {},
  ) {}

  /** Creates the Node (ready, fresh heartbeat) and starts the loops. */
  async start(): Promise<void> {
    const now = new Date().toISOString();
    const res = { cpu: this.opts.cpu ?? '4', memory: this.opts.memory ?? '8Gi' };
    await this.store.create({
      kind: 'Node',
      metadata: { name: this.name, namespace: '', uid: `uid-${this.name}`, labels: this.opts.labels ?? {}, revision: 0, generation: 1, creationTimestamp: now },
      spec: { availability: 'active', role: 'worker', taints: [] },
      status: { state: 'ready', capacity: res, allocatable: res, heartbeat: now },
    } satisfies NodeObject);
    this.beatTimer = setInterval(() => { if (this.alive) this.queue(() => this.beat()); }, this.opts.heartbeatMs ?? 2_000);
    this.timer = setInterval(() => { if (this.alive) this.queue(() => this.round()); }, this.opts.roundMs ?? 50);
  }

  /** Errors the loops met (a test can assert there are none). */
  readonly errors: string[] = [];

  /** Runs `fn` after what is in flight; a failure is recorded, never breaks the chain. */
  private queue(fn: () => Promise<void>): void {
    this.running = this.running.then(fn).catch((e: unknown) => { this.errors.push(e instanceof Error ? e.message : String(e)); });
  }

  /** Stops the loops (idempotent) and waits for the round in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.beatTimer);
    await this.running;
  }

  /** Writes a heartbeat with state ready, as registration.ts does on every beat. */
  async beat(): Promise<void> {
    if (this.stopped) return;
    for (let attempt = 0; attempt < 5; attempt++) {
      const n = (await this.store.get({ kind: 'Node', namespace: '', name: this.name })) as NodeObject | undefined;
      if (n?.status === undefined) return;
      try {
        await this.store.update({ ...n, status: { ...n.status, state: 'ready', message: undefined, heartbeat: new Date().toISOString() } }, n.metadata.revision);
        return;
      } catch (e) {
        if (!(e instanceof ConflictError)) throw e;
      }
    }
  }

  /** One pass of the agent's decision over its tasks and pretend containers. */
  private async round(): Promise<void> {
    if (this.stopped) return;
    const tasks = ((await this.store.list('Task')).items as Task[]).filter((t) => t.spec.node === this.name);
    const names = new Set([...tasks.map((t) => t.metadata.name), ...this.containers.keys()]);
    for (const name of names) {
      const t = tasks.find((x) => x.metadata.name === name);
      await this.step(t, name);
    }
  }

  private async step(t: Task | undefined, name: string): Promise<void> {
    const step = planTask(t, this.containers.get(name));
    const now = new Date().toISOString();
    switch (step.do) {
      case 'prepare':
        this.containers.set(name, { id: name, status: 'created', annotations: {} });
        return;
      case 'start':
        this.containers.set(name, { id: name, status: 'running', pid: 4242, annotations: {} });
        this.journal.push({ atMs: Date.now(), node: this.name, task: name, what: 'started' });
        return this.report(t, 'running', 'started', 4242);
      case 'report-running':
        return this.report(t, 'running', 'running', step.pid);
      case 'stop':
        this.containers.set(name, { id: name, status: 'stopped', annotations: {}, exit: { exitCode: 143, oomKilled: false, finishedAt: now } });
        this.journal.push({ atMs: Date.now(), node: this.name, task: name, what: 'stopped' });
        return;
      case 'report-exit':
      case 'report':
        return this.report(t, step.state, step.message);
      case 'cleanup':
        this.containers.delete(name);
        return;
      default:
        return;
    }
  }

  private async report(t: Task | undefined, state: TaskState, message: string, pid?: number): Promise<void> {
    if (t?.status === undefined) return;
    const status = { ...t.status, state, message, ready: state === 'running', timestamp: new Date().toISOString(), ...(pid !== undefined ? { pid } : {}) };
    try {
      await this.store.update({ ...t, status }, t.metadata.revision);
    } catch (e) {
      if (!(e instanceof ConflictError) && !(e instanceof NotFoundError)) throw e;
    }
  }
}

/** Starts fake agents; `stopAll` stops every one (idempotent). */
export async function startFakeAgents(store: Store, specs: Array<{ name: string; labels?: Record<string, string>; memory?: string }>, opts: { heartbeatMs?: number } = {}): Promise<{ agents: Map<string, FakeAgent>; journal: AgentEvent[]; stopAll(): Promise<void> }> {
  const journal: AgentEvent[] = [];
  const agents = new Map<string, FakeAgent>();
  for (const s of specs) {
    const a = new FakeAgent(store, s.name, journal, { ...s, heartbeatMs: opts.heartbeatMs });
    agents.set(s.name, a);
    await a.start();
  }
  return { agents, journal, stopAll: async () => { await Promise.all([...agents.values()].map((a) => a.stop())); } };
}
