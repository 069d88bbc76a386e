/**
 * A working copy of one service's tasks while compute decides: changes are applied to copies
 * so later steps of the same decision see them, and at the end the copies become Actions
 * (creates, then updates with the revision each task was read at).
 */
import type { Task } from '../../api/kinds.js';
import type { Action } from '../framework/apply.js';

/** The decision being built; see the file comment. */
export class TaskPlan {
  private readonly originals = new Map<string, Task>();
  private readonly current = new Map<string, Task>();
  private readonly reasons = new Map<string, string>();
  private readonly created: Array<{ task: Task; reason: string }> = [];
  private readonly extra: Action[] = [];
  private wakeAtMs: number | undefined;

  constructor(tasks: readonly Task[]) {
    for (const t of tasks) {
      this.originals.set(t.metadata.name, t);
      this.current.set(t.metadata.name, t);
    }
  }

  /** Every task as decided so far, new ones included. */
  tasks(): Task[] {
    return [...this.current.values()];
  }

  /** Replaces a task by its changed copy. */
  change(t: Task, reason: string): void {
    this.current.set(t.metadata.name, t);
    const prev = this.reasons.get(t.metadata.name);
    this.reasons.set(t.metadata.name, prev === undefined ? reason : `${prev}; ${reason}`);
  }

  /** Adds a new task. */
  create(t: Task, reason: string): void {
    this.current.set(t.metadata.name, t);
    this.created.push({ task: t, reason });
  }

  /** Adds an action on another object (the service's status). */
  also(a: Action): void {
    this.extra.push(a);
  }

  /** Asks for another look at `atMs` (the earliest request wins). */
  wakeAt(atMs: number): void {
    this.wakeAtMs = this.wakeAtMs === undefined ? atMs : Math.min(this.wakeAtMs, atMs);
  }

  /** Milliseconds until the requested wake-up, if any. */
  requeueAfterMs(nowMs: number): number | undefined {
    return this.wakeAtMs === undefined ? undefined : Math.max(1, this.wakeAtMs - nowMs);
  }

  /** The decision as store actions. */
  actions(): Action[] {
    const out: Action[] = this.created.map(({ task, reason }) => ({ type: 'create', object: this.current.get(task.metadata.name) ?? task, reason }));
    for (const [name, reason] of this.reasons) {
      const orig = this.originals.get(name);
      const cur = this.current.get(name);
      if (orig === undefined || cur === undefined) continue; // changes to a new task are folded into its create
      out.push({ type: 'update', object: cur, expectedRevision: orig.metadata.revision, reason });
    }
    return [...out, ...this.extra];
  }
}
