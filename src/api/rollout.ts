/**
 * Revisions and traffic of a service during a rollout: the facts the service controller, the
 * rollout controller, the endpoints view (load balancer, DNS, ingress) and the API's rollout
 * actions must agree on, in one place. Pure functions of a Service (and its tasks).
 *
 * A revision is a task template: the service spec without `replicas`, `update` and `restart`
 * (changing those alone never replaces a task). status.history maps template hashes to
 * revision numbers; status.revision is the stable revision (what the service name serves);
 * status.rollout the rollout of status.rollout.revision, when one is on or was last.
 */
import { createHash } from 'node:crypto';
import type { RolloutStatus, Service, ServiceRevision, ServiceSpec, Task } from './kinds.js';

/** The spec with the fields that do not change what a task runs cleared. */
export function taskTemplateOf(spec: ServiceSpec): unknown {
  return { ...spec, replicas: 0, update: undefined, restart: undefined };
}

/** JSON with object keys sorted and `undefined` members left out: the same value, the same text. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x === undefined ? null : x)).join(',')}]`;
  const rec = v as Record<string, unknown>;
  const keys = Object.keys(rec).filter((k) => rec[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(rec[k])}`).join(',')}}`;
}

/** sha256 (hex, 16 chars) of the task template of `spec`. */
export function templateHash(spec: ServiceSpec): string {
  return createHash('sha256').update(canonicalJson(taskTemplateOf(spec))).digest('hex').slice(0, 16);
}

/** The history entry whose template is the spec's, if the rollout controller has recorded it. */
export function revisionOfSpec(svc: Service): ServiceRevision | undefined {
  const hash = templateHash(svc.spec);
  return svc.status?.history?.find((r) => r.hash === hash);
}

/** A revision of the history by number. */
export function historyEntry(svc: Service, revision: number): ServiceRevision | undefined {
  return svc.status?.history?.find((r) => r.revision === revision);
}

/** The revision a task runs: its own, or (tasks made before revisions existed) the stable one. */
export function taskRevision(t: Task, svc: Service): number {
  return t.spec.revision ?? svc.status?.revision ?? 0;
}

/** Rollout states in which the new revision is still being brought in. */
export function rolloutActive(r: RolloutStatus | undefined): r is RolloutStatus {
  return r !== undefined && (r.state === 'progressing' || r.state === 'paused' || r.state === 'waiting-promotion');
}

/**
 * Where a service's traffic goes:
 * - `all`: every ready task, whatever its revision (no rollout, or a rolling one mixing both);
 * - `blue-green`: the name serves `active` only, `NAME-preview` serves `preview`;
 * - `canary`: `weight` percent of new connections to `canary`, the rest to `stable`.
 */
export type TrafficPlan =
  | { kind: 'all' }
  | { kind: 'blue-green'; active: number; preview: number }
  | { kind: 'canary'; stable: number; canary: number; weight: number };

/** See TrafficPlan. */
export function trafficPlan(svc: Service, _nowMs: number = Date.now()): TrafficPlan {
  const r = svc.status?.rollout;
  const stable = svc.status?.revision;
  if (r === undefined || stable === undefined) return { kind: 'all' };
  // Blue-green never mixes revisions on the name, also once done: the other revision's tasks
  // may still be stopping (after scaleDownAt, or after a rollback).
  if (r.strategy === 'blue-green') return { kind: 'blue-green', active: stable, preview: r.revision };
  if (r.strategy === 'canary' && rolloutActive(r)) {
    return { kind: 'canary', stable, canary: r.revision, weight: Math.max(0, Math.min(100, r.weight ?? 0)) };
  }
  return { kind: 'all' };
}

/** Blue-green after promotion (or undo): the previous revision still runs until scaleDownAt. */
export function keepsPrevious(r: RolloutStatus, nowMs: number): boolean {
  if (r.strategy !== 'blue-green' || r.state !== 'complete' || r.scaleDownAt === undefined) return false;
  const at = Date.parse(r.scaleDownAt);
  return Number.isFinite(at) && nowMs < at;
}

/** Weight (percent) of the canary step `step` of `steps`: the last weight at or before it (0 before the first). */
export function canaryWeightAt(steps: ServiceSpec['update']['steps'], step: number): number {
  let w = 0;
  for (let i = 0; i <= step && i < steps.length; i++) {
    const s = steps[i];
    if (s !== undefined && 'weight' in s) w = s.weight;
  }
  return step >= steps.length ? 100 : w;
}

/** The name under which a blue-green service's preview is reachable (DNS, load balancer). */
export function previewName(service: string): string {
  return `${service}-preview`;
}
