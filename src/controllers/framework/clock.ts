/**
 * Time, injected (STYLE.md 5): controllers read the clock and set timers only through this
 * interface, so tests can drive backoff and restart delays without sleeping.
 */

/** A pending timer; `clear()` is idempotent. */
export interface TimerHandle {
  clear(): void;
}

/** What controllers need from time: the current instant and one-shot timers. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

/** The real clock: Date.now and the host's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = setTimeout(fn, Math.max(0, ms));
    return { clear: () => clearTimeout(t) };
  },
};

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
  cleared: boolean;
}

/**
 * A clock that only moves when a test calls `advance`: timers fire in deadline order, each
 * seeing `now()` equal to its deadline. For unit tests of queues and controllers.
 */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: ManualTimer[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t: ManualTimer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn, cleared: false };
    this.timers.push(t);
    return { clear: () => { t.cleared = true; } };
  }

  /** Number of timers still waiting to fire. */
  pending(): number {
    return this.timers.filter((t) => !t.cleared).length;
  }

  /** Moves time forward by `ms`, firing every timer that comes due, in order. */
  advance(ms: number): void {
    const until = this.current + ms;
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cleared);
      const due = this.timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      due.cleared = true;
      this.current = Math.max(this.current, due.at);
      due.fn();
    }
    this.current = until;
  }
}
