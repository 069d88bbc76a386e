/**
 * Which revision each unit of a service should run, read from the service's rollout status
 * (docs/decisions/rollouts.md, "Task counts"). Pure: the service controller's compute asks this
 * once per decision, then converges units; the rollout controller moves the rollout along.
 *
 *   no revision recorded for the spec yet ──► wait (the rollout controller records it first)
 *   no rollout / complete / rolled-back   ──► steady: every unit on the spec's revision
 *   rolling, progressing or paused        ──► rolling: the first `updated` units on the new one
 *   blue-green or canary, active          ──► groups: units per (revision, slot)
 */
import type { Service, ServiceSpec } from '../../api/kinds.js';
import { canaryWeightAt, historyEntry, keepsPrevious, revisionOfSpec, rolloutActive } from '../../api/rollout.js';

/** A revision with the spec its tasks are made from. */
export interface RevisionTemplate {
  /** 0: not recorded yet (the task gets no revision). */
  revision: number;
  template: ServiceSpec;
}

/** See the file comment. */
export type RevisionPlan =
  | { kind: 'wait' }
  | { kind: 'steady'; target: RevisionTemplate }
  | { kind: 'rolling'; stable: RevisionTemplate; next: RevisionTemplate; updated: number; startFirst: boolean }
  | { kind: 'groups'; groups: Array<RevisionTemplate & { count: number }>; wakeAtMs?: number };

/** The template of a revision: the spec itself for the spec's revision, else the history's. */
function templateOf(svc: Service, revision: number): RevisionTemplate | undefined {
  const own = revisionOfSpec(svc);
  if (own?.revision === revision) return { revision, template: svc.spec };
  const h = historyEntry(svc, revision);
  return h === undefined ? undefined : { revision, template: h.template };
}

/** Units of the new revision for a canary at `weight` percent of `replicas`: at least one. */
export function canaryCount(replicas: number, weight: number): number {
  if (replicas <= 0) return 0;
  return Math.min(replicas, Math.max(1, Math.ceil((replicas * weight) / 100)));
}

/** See the file comment. */
export function revisionPlan(svc: Service, nowMs: number): RevisionPlan {
  const own = revisionOfSpec(svc);
  // Nothing recorded yet (a new service): tasks carry no revision and are compared by spec.
  if (own === undefined && (svc.status?.history?.length ?? 0) === 0) return { kind: 'steady', target: { revision: 0, template: svc.spec } };
  if (own === undefined) return { kind: 'wait' };
  const target: RevisionTemplate = { revision: own.revision, template: svc.spec };
  const r = svc.status?.rollout;
  const stableRev = svc.status?.revision;
  if (r === undefined || stableRev === undefined) return { kind: 'steady', target };
  const n = svc.spec.replicas;
  if (rolloutActive(r) && r.revision === own.revision && r.from !== own.revision) {
    const stable = templateOf(svc, r.from);
    if (stable === undefined) return { kind: 'steady', target };
    if (r.strategy === 'rolling') {
      return { kind: 'rolling', stable, next: target, updated: r.updated ?? 0, startFirst: svc.spec.update.order === 'start-first' };
    }
    if (svc.spec.mode === 'global') return { kind: 'steady', target };
    if (r.strategy === 'blue-green') return { kind: 'groups', groups: [{ ...stable, count: n }, { ...target, count: n }] };
    const weight = r.weight ?? canaryWeightAt(svc.spec.update.steps, r.step ?? 0);
    return { kind: 'groups', groups: [{ ...stable, count: n }, { ...target, count: canaryCount(n, weight) }] };
  }
  if (keepsPrevious(r, nowMs) && svc.spec.mode !== 'global' && r.from !== own.revision) {
    const previous = templateOf(svc, r.from);
    if (previous !== undefined) {
      return { kind: 'groups', groups: [{ ...target, count: n }, { ...previous, count: n }], wakeAtMs: Date.parse(r.scaleDownAt ?? '') };
    }
  }
  return { kind: 'steady', target };
}
