/**
 * FailedScheduling Events, deduplicated the way Kubernetes' event correlator does it: one Event
 * object per pending task (`<task>.failedscheduling`, involved `Task/<ns>/<name>`), whose count
 * is bumped for every failed attempt. It is written when the reason changes and otherwise at
 * most once per `refreshMs`, so a task retried on every cluster change costs no write storm.
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '../../api/errors.js';
import type { EventObject, Task } from '../../api/kinds.js';
import type { ObjectKey } from '../../api/object.js';
import type { Store } from '../../store/store.js';

/** The reason of the Event a pending task gets. */
export const FAILED_SCHEDULING = 'FailedScheduling';
/** The component named as the Event's source. */
export const SCHEDULER_SOURCE = 'scheduler';

interface Entry {
  key: ObjectKey;
  involved: string;
  /** Failed attempts seen (since the Event was first written). */
  count: number;
  message: string;
  /** The stored Event as last written by us. */
  stored: EventObject | undefined;
  writtenCount: number;
  writtenMessage: string;
  lastWriteMs: number;
}

/** The Event's key for a task. */
export function failedSchedulingKey(t: Pick<Task, 'metadata'>): ObjectKey {
  return { kind: 'Event', namespace: t.metadata.namespace, name: `${t.metadata.name}.failedscheduling` };
}

/** Records failed attempts per task and writes their Events; see the file comment. */
export class SchedulingEvents {
  private readonly entries = new Map<string, Entry>();
  /** Events written for tasks that still exist: deleted with their task. */
  private readonly made = new Map<string, ObjectKey>();
  private readonly toDelete: ObjectKey[] = [];

  constructor(private readonly store: Store, private readonly refreshMs: number) {}

  /**
   * A failed attempt to place `t`. Returns the write to perform now (the caller runs it), or
   * undefined when the Event is fresh enough.
   */
  failed(t: Task, message: string, nowMs: number): (() => Promise<EventObject | undefined>) | undefined {
    const id = `${t.metadata.namespace}/${t.metadata.name}`;
    let e = this.entries.get(id);
    if (e === undefined) {
      const key = failedSchedulingKey(t);
      e = { key, involved: `Task/${id}`, count: 0, message, stored: undefined, writtenCount: 0, writtenMessage: '', lastWriteMs: -Infinity };
      this.entries.set(id, e);
    }
    e.count++;
    e.message = message;
    const due = e.stored === undefined || e.message !== e.writtenMessage || (e.count > e.writtenCount && nowMs - e.lastWriteMs >= this.refreshMs);
    if (!due) return undefined;
    const entry = e;
    return () => this.write(id, entry, nowMs);
  }

  /** The task was placed: the next failure (if any) starts a new count on the same Event. */
  placed(taskId: string): void {
    this.entries.delete(taskId);
  }

  /** The task is gone: its Event goes too (at the next `flushDeletes`). */
  deleted(taskId: string): boolean {
    this.entries.delete(taskId);
    const key = this.made.get(taskId);
    if (key === undefined) return false;
    this.made.delete(taskId);
    this.toDelete.push(key);
    return true;
  }

  /** True when Events wait to be deleted. */
  hasDeletes(): boolean {
    return this.toDelete.length > 0;
  }

  /** Deletes the Events of deleted tasks; ones already gone are fine. */
  async flushDeletes(): Promise<void> {
    for (const key of this.toDelete.splice(0)) {
      try {
        await this.store.delete(key);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
  }

  private async write(id: string, e: Entry, nowMs: number): Promise<EventObject | undefined> {
    const now = new Date(nowMs).toISOString();
    for (let attempt = 0; attempt < 3; attempt++) {
      const cur = e.stored ?? ((await this.store.get(e.key)) as EventObject | undefined);
      try {
        const written = cur === undefined ? await this.create(e, now) : await this.bump(cur, e, now);
        e.stored = written;
        e.writtenCount = e.count;
        e.writtenMessage = e.message;
        e.lastWriteMs = nowMs;
        this.made.set(id, e.key);
        return written;
      } catch (err) {
        if (!(err instanceof ConflictError) && !(err instanceof NotFoundError)) throw err;
        e.stored = undefined; // someone else wrote it (an earlier scheduler): read and bump again
      }
    }
    return undefined;
  }

  private async create(e: Entry, now: string): Promise<EventObject> {
    const ev: EventObject = {
      kind: 'Event',
      metadata: { name: e.key.name, namespace: e.key.namespace, uid: randomUUID(), labels: {}, revision: 0, generation: 1, creationTimestamp: now },
      spec: { involved: e.involved, type: 'Warning', reason: FAILED_SCHEDULING, message: e.message, source: SCHEDULER_SOURCE, count: e.count, firstTimestamp: now, lastTimestamp: now },
    };
    return (await this.store.create(ev)) as EventObject;
  }

  private async bump(cur: EventObject, e: Entry, now: string): Promise<EventObject> {
    // The stored count carries on (earlier attempts, another scheduler): add the attempts since our last write.
    const spec = { ...cur.spec, message: e.message, count: Math.max(1, cur.spec.count + e.count - e.writtenCount), lastTimestamp: now };
    return (await this.store.update({ ...cur, spec }, cur.metadata.revision)) as EventObject;
  }
}
