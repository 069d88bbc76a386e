/**
 * What a task's prober has concluded, and the pure rules that turn single probe results into
 * transitions (STYLE.md 5). A TaskProber keeps one ProbeVerdict per task in memory and replaces
 * it only on a transition; planTask compares it with the Task's status and writes what differs,
 * so the store sees one write per transition, never one per probe period.
 */
import type { Probe, ProbeResult, ServiceSpec, TaskStatus } from '../../api/kinds.js';

/** The three probes a service may have, in the order they run. */
export type ProbeKind = 'startup' | 'readiness' | 'liveness';

/** Every probe kind (startup first: the others wait for it). */
export const PROBE_KINDS: readonly ProbeKind[] = ['startup', 'readiness', 'liveness'];

/** A service's probes (`spec.probes`). */
export type ProbeSpecs = ServiceSpec['probes'];

/** The last written result of each probe. */
export type ProbeResults = Partial<Record<ProbeKind, ProbeResult>>;

/** The prober's current conclusion about one task. */
export interface ProbeVerdict {
  /** The startup probe passed (true at once without one): readiness and liveness run. */
  started: boolean;
  /** What `status.ready` should say. */
  ready: boolean;
  /** RFC 3339 time `ready` became true (absent while not ready). */
  readySince?: string;
  /** The transitions so far: what `status.probes` should say. */
  probes: ProbeResults;
  /** Set once startup or liveness failed for good: report the task failed with this message. */
  failed?: string;
}

/** What one probe run saw: the only text that may reach a status or an Event (secrets rule). */
export interface CheckOutcome {
  ok: boolean;
  /** "HTTP 503", "connect ECONNREFUSED 10.88.1.5:8080", "timeout after 1s", "exit code 1: ...". */
  message: string;
}

/** Consecutive results of one probe since its last transition. */
export interface ProbeCounter {
  /** The last transition (undefined: none yet). */
  result?: 'success' | 'failure';
  successes: number;
  failures: number;
}

/** The thresholds a counter needs. */
export type Thresholds = Pick<Probe, 'successThreshold' | 'failureThreshold'>;

/**
 * Counts one result. `flipped` is set when this result makes a transition: successThreshold
 * successes in a row (from failure or nothing yet), or failureThreshold failures in a row.
 */
export function countResult(c: ProbeCounter, t: Thresholds, ok: boolean): { counter: ProbeCounter; flipped?: 'success' | 'failure' } {
  const counter: ProbeCounter = ok
    ? { result: c.result, successes: c.successes + 1, failures: 0 }
    : { result: c.result, successes: 0, failures: c.failures + 1 };
  if (ok && c.result !== 'success' && counter.successes >= t.successThreshold) return { counter: { ...counter, result: 'success' }, flipped: 'success' };
  if (!ok && c.result !== 'failure' && counter.failures >= t.failureThreshold) return { counter: { ...counter, result: 'failure' }, flipped: 'failure' };
  return { counter };
}

/** What one transition does to the verdict. */
export function applyTransition(v: ProbeVerdict, kind: ProbeKind, result: ProbeResult, specs: ProbeSpecs): ProbeVerdict {
  const next: ProbeVerdict = { ...v, probes: { ...v.probes, [kind]: result } };
  const success = result.result === 'success';
  switch (kind) {
    case 'startup':
      if (!success) return notReady({ ...next, failed: `startup probe failed: ${result.message}` });
      next.started = true;
      return specs.readiness === undefined ? { ...next, ready: true, readySince: result.time } : next;
    case 'readiness':
      return success ? { ...next, ready: true, readySince: result.time } : notReady(next);
    case 'liveness':
      return success ? next : notReady({ ...next, failed: `liveness probe failed: ${result.message}` });
  }
}

function notReady(v: ProbeVerdict): ProbeVerdict {
  const { readySince: _gone, ...rest } = v;
  return { ...rest, ready: false };
}

/**
 * The verdict and counters a prober starts from. A fresh task has no results; a task adopted
 * after an agent restart keeps what its status says (startup passed, ready since), so the
 * restart neither reruns a passed startup probe nor takes a ready task out of its service.
 */
export function seedVerdict(specs: ProbeSpecs, status: TaskStatus | undefined, nowIso: string): { verdict: ProbeVerdict; counters: Record<ProbeKind, ProbeCounter> } {
  const stored = status?.probes ?? {};
  const probes: ProbeResults = {};
  for (const k of PROBE_KINDS) {
    const r = stored[k];
    if (specs[k] !== undefined && r !== undefined) probes[k] = r;
  }
  const started = specs.startup === undefined || probes.startup?.result === 'success';
  const wasReady = status?.state === 'running' && status.ready;
  const ready = started && (specs.readiness === undefined || wasReady);
  const verdict: ProbeVerdict = { started, ready, probes };
  if (ready) verdict.readySince = wasReady && status.readySince !== undefined ? status.readySince : nowIso;
  const counter = (r: 'success' | 'failure' | undefined): ProbeCounter => ({ result: r, successes: 0, failures: 0 });
  return {
    verdict,
    counters: {
      startup: counter(started && specs.startup !== undefined ? 'success' : undefined),
      readiness: counter(ready ? 'success' : probes.readiness?.result === 'failure' ? 'failure' : undefined),
      liveness: counter(probes.liveness?.result),
    },
  };
}

/** Two results say the same (no write needed). */
export function sameResult(a: ProbeResult | undefined, b: ProbeResult | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.result === b.result && a.message === b.message && a.consecutive === b.consecutive && a.time === b.time;
}
