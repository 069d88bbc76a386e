/**
 * Probe transitions as Events on the task (involved `Task/<ns>/<name>`, source `agent/<node>`),
 * the way `flotilla describe task` and `flotilla events` show them. A node may create Events but
 * not update them (BuiltinAuthorizer), so each transition is an Event of its own, named
 * `<task>.<reason>.<time><random>` like Kubernetes' `<object>.<hex time>`. Writes go through a
 * small queue drained in the background: recording never blocks the prober and a failed write
 * is logged and dropped, never retried in a loop and never a reason to fail the task.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { EventObject, EventSpec, ProbeResult, Task } from '../../api/kinds.js';
import type { ApiObject } from '../../api/object.js';
import type { Disposable } from '../../lifecycle.js';
import type { ProbeKind } from './verdict.js';

/** Event reasons of probe transitions. */
export const PROBE_REASONS = {
  ready: 'ProbeReady',
  notReady: 'ProbeNotReady',
  livenessFailed: 'LivenessFailed',
  startupSucceeded: 'StartupSucceeded',
  startupFailed: 'StartupFailed',
} as const;

/** What an Event about a transition says; undefined for transitions nobody acts on (liveness passing). */
export function probeEventOf(kind: ProbeKind, r: ProbeResult): Pick<EventSpec, 'type' | 'reason' | 'message'> | undefined {
  const times = r.consecutive > 1 ? ` (${r.consecutive} times in a row)` : '';
  const failed = `${kind} probe failed${times}: ${r.message}`;
  const passed = `${kind} probe passed: ${r.message}`;
  if (kind === 'startup') return r.result === 'success' ? { type: 'Normal', reason: PROBE_REASONS.startupSucceeded, message: passed } : { type: 'Warning', reason: PROBE_REASONS.startupFailed, message: failed };
  if (kind === 'readiness') return r.result === 'success' ? { type: 'Normal', reason: PROBE_REASONS.ready, message: passed } : { type: 'Warning', reason: PROBE_REASONS.notReady, message: failed };
  return r.result === 'failure' ? { type: 'Warning', reason: PROBE_REASONS.livenessFailed, message: failed } : undefined;
}

/** Where Events go: the agent's ApiClient. */
export interface EventSink {
  create(obj: ApiObject): Promise<ApiObject>;
}

/** Events waiting beyond this are dropped (a server that does not answer must not grow the agent). */
const MAX_PENDING = 256;

/** See the file comment. */
export class ProbeEventRecorder implements Disposable {
  private readonly pending: EventObject[] = [];
  private draining: Promise<void> | undefined;
  private stopped = false;
  private dropped = 0;

  constructor(private readonly sink: EventSink, private readonly nodeName: string, private readonly log: (line: string) => void = () => undefined, private readonly now: () => number = Date.now) {}

  /** Queues an Event about `task`; returns at once. */
  record(task: Pick<Task, 'metadata'>, e: Pick<EventSpec, 'type' | 'reason' | 'message'>): void {
    if (this.stopped) return;
    if (this.pending.length >= MAX_PENDING) {
      this.pending.shift();
      if (this.dropped++ === 0) this.log(`events: more than ${MAX_PENDING} waiting, dropping the oldest`);
    }
    this.pending.push(this.eventOf(task, e));
    this.draining ??= this.drain().finally(() => { this.draining = undefined; });
  }

  /** Drops what waits and waits for the write in flight; idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.pending.length = 0;
    await this.draining;
  }

  private async drain(): Promise<void> {
    for (let e = this.pending.shift(); e !== undefined && !this.stopped; e = this.pending.shift()) {
      try {
        await this.sink.create(e);
      } catch (err) {
        this.log(`events: ${e.spec.reason} for ${e.spec.involved} not recorded: ${(err as Error).message}`);
      }
    }
  }

  private eventOf(task: Pick<Task, 'metadata'>, e: Pick<EventSpec, 'type' | 'reason' | 'message'>): EventObject {
    const nowMs = this.now();
    const now = new Date(nowMs).toISOString();
    const { name: taskName, namespace } = task.metadata;
    const name = `${taskName}.${e.reason.toLowerCase()}.${nowMs.toString(16)}${randomBytes(2).toString('hex')}`;
    return {
      kind: 'Event',
      metadata: { name, namespace, uid: randomUUID(), labels: {}, revision: 0, generation: 1, creationTimestamp: now },
      spec: { involved: `Task/${namespace}/${taskName}`, ...e, source: `agent/${this.nodeName}`, count: 1, firstTimestamp: now, lastTimestamp: now },
    };
  }
}
