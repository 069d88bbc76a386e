/**
 * A bound on the task status writes a hollow agent has in flight, shared by all its nodes. At
 * 10,000 hollow nodes, every supervisor worker may want to write at once: without a bound the
 * HTTPS pool queues them all (request objects, bodies, timers), the queue outgrows the server's
 * pace, requests time out in the queue and are retried behind it, and the process reaches
 * gigabytes. With it, a write waits as a closure in a FIFO until one of `limit` slots frees:
 * memory stays flat and the server sees a steady pipeline of `limit` requests.
 *
 *   supervisor[i].report ──> WriteLimit.run(fn) ──slot free──> client.updateStatus ──> server
 *                                  │ no slot: FIFO (a closure each)
 */
import type { ApiObject } from '../../api/object.js';
import type { TaskStatusWriter } from '../tasks/supervisor.js';

/** A FIFO semaphore: at most `limit` calls of `run` in flight. */
export class WriteLimit {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError(`limit must be >= 1, got ${limit}`);
  }

  /** Calls in flight now. */
  get inFlight(): number {
    return this.active;
  }

  /** Calls waiting for a slot now. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `fn` once a slot is free; the slot is freed when it settles. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next(); // hand the slot over: `active` stays
      else this.active--;
    }
  }
}

/** A TaskStatusWriter whose writes (and conflict re-reads) pass through `limit`. */
export function limitedStatusWriter(client: TaskStatusWriter, limit: WriteLimit): TaskStatusWriter {
  return {
    updateStatus: (obj: ApiObject) => limit.run(() => client.updateStatus(obj)),
    get: (key) => limit.run(() => client.get(key)),
  };
}
