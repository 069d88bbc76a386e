/**
 * Audit Events: every denial, and every allowed mutating call of a user or the admin, becomes
 * part of an Event (reason Allowed/Denied, source `audit`). Bounded: entries are merged by
 * (who, verb, kind, namespace, outcome) and written at most once per flush interval, at most
 * MAX_EVENTS_PER_FLUSH Events per flush in one store transaction; what does not fit is counted
 * in one summary Event. A busy API therefore costs a handful of writes a second, not one per call.
 */
import { randomUUID } from 'node:crypto';
import type { ApiObject } from '../../../api/object.js';
import type { EventSpec } from '../../../api/kinds.js';
import type { Disposable } from '../../../lifecycle.js';
import type { Store, TxnOp } from '../../../store/store.js';
import type { Access, Identity } from '../identity.js';

/** At most this many distinct audit Events per flush. */
export const MAX_EVENTS_PER_FLUSH = 50;

interface Entry {
  who: string;
  access: Access;
  allowed: boolean;
  message: string;
  count: number;
  first: string;
  last: string;
}

/** Collects audit entries and writes them in bounded batches. */
export class AuditLog implements Disposable {
  private pending = new Map<string, Entry>();
  private overflow = 0;
  private seq = 0;
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly store: Store, flushMs = 1_000, private readonly now: () => Date = () => new Date()) {
    this.timer = setInterval(() => { this.flushing = this.flushing.then(() => this.flush()); }, flushMs);
    this.timer.unref();
  }

  /** Notes one decision (cheap: a map update). */
  record(id: Identity, access: Access, allowed: boolean, message: string): void {
    const who = `${id.kind}:${id.name}`;
    const key = [who, access.verb, access.kind ?? '*', access.namespace ?? '*', access.name ?? '', allowed].join('|');
    const at = this.now().toISOString();
    const cur = this.pending.get(key);
    if (cur !== undefined) {
      cur.count++;
      cur.last = at;
    } else if (this.pending.size >= MAX_EVENTS_PER_FLUSH) {
      this.overflow++;
    } else {
      this.pending.set(key, { who, access, allowed, message, count: 1, first: at, last: at });
    }
  }

  /** Writes what is pending (one transaction); a failed write is dropped, never retried in a loop. */
  async flush(): Promise<void> {
    if (this.pending.size === 0 && this.overflow === 0) return;
    const entries = [...this.pending.values()];
    const overflow = this.overflow;
    this.pending = new Map();
    this.overflow = 0;
    const ops: TxnOp[] = entries.map((e) => ({ op: 'create', object: this.event(e) }));
    if (overflow > 0) {
      const at = this.now().toISOString();
      ops.push({ op: 'create', object: this.event({ who: 'audit', access: { verb: 'create' }, allowed: true, message: `${overflow} more audited calls in this interval (not itemized)`, count: overflow, first: at, last: at }) });
    }
    try {
      await this.store.txn(ops);
    } catch {
      // The store is away or closing: audit is best effort beside the call it describes.
    }
  }

  private event(e: Entry): ApiObject<EventSpec> {
    const a = e.access;
    const namespace = a.namespace !== undefined && a.namespace !== '' ? a.namespace : 'default';
    return {
      kind: 'Event',
      metadata: { name: `audit-${Date.now().toString(36)}-${(this.seq++).toString(36)}`, namespace, uid: randomUUID(), labels: { 'flotilla.dev/audit': e.allowed ? 'allowed' : 'denied' }, revision: 0, generation: 1, creationTimestamp: e.last },
      spec: {
        involved: `${a.kind ?? '*'}/${a.namespace ?? '*'}/${a.name ?? ''}`,
        type: e.allowed ? 'Normal' : 'Warning',
        reason: e.allowed ? 'Allowed' : 'Denied',
        message: `${e.who}: ${e.message}`,
        source: 'audit',
        count: e.count,
        firstTimestamp: e.first,
        lastTimestamp: e.last,
      },
    };
  }

  /** Stops the timer and writes what is left. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flushing;
    await this.flush();
  }
}
