/**
 * The TaskProber: one per running task, a timer per probe, no process of its own (STYLE.md 9:
 * `stop()` is idempotent and waits for the probes in flight, which it aborts). Startup runs
 * first; readiness and liveness start once it passed. Each result goes through the pure counter
 * (verdict.ts); only a transition replaces the verdict, emits a ProbeTransition (an Event) and
 * calls `onChange` (the supervisor enqueues the task's key and writes the status). Time comes
 * from an injected Clock, so tests drive the periods without sleeping.
 */
import type { Probe, ProbeResult, TaskStatus } from '../../api/kinds.js';
import type { Clock, TimerHandle } from '../../controllers/framework/clock.js';
import type { Disposable } from '../../lifecycle.js';
import type { ProbeChecker } from './checks.js';
import { applyTransition, countResult, seedVerdict, type CheckOutcome, type ProbeCounter, type ProbeKind, type ProbeSpecs, type ProbeVerdict } from './verdict.js';

/** One transition, as the prober saw it (the input of an Event). */
export interface ProbeTransition {
  kind: ProbeKind;
  result: ProbeResult;
  verdict: ProbeVerdict;
}

/** How a TaskProber is wired. */
export interface TaskProberOptions {
  probes: ProbeSpecs;
  /** The task's status as stored: adopted tasks resume from it (seedVerdict). */
  status?: TaskStatus;
  checker: ProbeChecker;
  clock: Clock;
  /** Called after every transition; the verdict is then `verdict()`. */
  onChange: () => void;
  onTransition?: (t: ProbeTransition) => void;
  log?: (line: string) => void;
}

/** See the file comment. */
export class TaskProber implements Disposable {
  private current: ProbeVerdict;
  private readonly counters: Record<ProbeKind, ProbeCounter>;
  private readonly timers = new Map<ProbeKind, TimerHandle>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private readonly startedMs: number;
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: TaskProberOptions) {
    this.startedMs = opts.clock.now();
    const seed = seedVerdict(opts.probes, opts.status, new Date(this.startedMs).toISOString());
    this.current = seed.verdict;
    this.counters = seed.counters;
  }

  /** The latest verdict (replaced, never mutated, on each transition). */
  verdict(): ProbeVerdict {
    return this.current;
  }

  /** Schedules the first probes: startup, or readiness and liveness once startup passed. */
  start(): void {
    if (!this.current.started) this.schedule('startup', this.firstDelayMs('startup'));
    else this.startMain();
  }

  /** Stops every timer, aborts the probes in flight and waits for them; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.halt();
      this.abort.abort();
      while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    })();
    return this.stopping;
  }

  private get active(): boolean {
    return this.stopping === undefined && this.current.failed === undefined;
  }

  private startMain(): void {
    for (const k of ['readiness', 'liveness'] as const) {
      if (this.opts.probes[k] !== undefined) this.schedule(k, this.firstDelayMs(k));
    }
  }

  /** initialDelaySeconds counts from when probing began (the container runs by then). */
  private firstDelayMs(kind: ProbeKind): number {
    const p = this.probe(kind);
    return Math.max(0, this.startedMs + p.initialDelaySeconds * 1000 - this.opts.clock.now());
  }

  private probe(kind: ProbeKind): Probe {
    return this.opts.probes[kind] as Probe;
  }

  private schedule(kind: ProbeKind, ms: number): void {
    if (!this.active) return;
    this.timers.get(kind)?.clear();
    this.timers.set(kind, this.opts.clock.setTimeout(() => this.run(kind), ms));
  }

  private halt(): void {
    for (const t of this.timers.values()) t.clear();
    this.timers.clear();
  }

  private run(kind: ProbeKind): void {
    this.timers.delete(kind);
    if (!this.active) return;
    const probe = this.probe(kind);
    const began = this.opts.clock.now();
    const p = this.opts.checker.check(kind, probe, this.abort.signal)
      .catch((err: unknown): CheckOutcome => ({ ok: false, message: (err as Error).message }))
      .then((outcome) => {
        if (!this.active) return;
        this.observe(kind, probe, outcome);
        if (kind === 'startup' && this.current.started) return; // done: the others run now
        this.schedule(kind, Math.max(0, began + probe.periodSeconds * 1000 - this.opts.clock.now()));
      })
      .catch((err: unknown) => this.opts.log?.(`${kind} probe: ${(err as Error).message}`));
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private observe(kind: ProbeKind, probe: Probe, outcome: CheckOutcome): void {
    const { counter, flipped } = countResult(this.counters[kind], probe, outcome.ok);
    this.counters[kind] = counter;
    if (flipped === undefined) return;
    const result: ProbeResult = {
      result: flipped,
      message: outcome.message,
      consecutive: flipped === 'success' ? counter.successes : counter.failures,
      time: new Date(this.opts.clock.now()).toISOString(),
    };
    this.current = applyTransition(this.current, kind, result, this.opts.probes);
    if (this.current.failed !== undefined) this.halt();
    else if (kind === 'startup' && flipped === 'success') this.startMain();
    try {
      this.opts.onTransition?.({ kind, result, verdict: this.current });
    } catch (err) {
      this.opts.log?.(`${kind} probe: recording the transition failed: ${(err as Error).message}`); // never fails the task
    }
    this.opts.onChange();
  }
}
