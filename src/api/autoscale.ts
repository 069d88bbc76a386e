/**
 * Who owns `replicas` of an autoscaled service: the autoscaler. A user's update or apply of a
 * service that stays autoscaled keeps the stored replica count (within the new min..max), so
 * re-applying a manifest does not undo the autoscaler's work; turning autoscale on starts from
 * the given replicas clamped to min..max; turning it off gives the user's count back.
 */
import type { ServiceSpec } from './kinds.js';
import type { ApiObject } from './object.js';

/** `n` within the autoscale range. */
export function clampReplicas(n: number, a: { min: number; max: number }): number {
  return Math.min(a.max, Math.max(a.min, n));
}

/** The spec the user sent, with replicas as the autoscaler owns them (see the file comment). */
export function withAutoscaledReplicas(stored: ServiceSpec | undefined, given: ServiceSpec): ServiceSpec {
  const a = given.autoscale;
  if (a === undefined || given.mode !== 'replicated') return given;
  const from = stored?.autoscale !== undefined ? stored.replicas : given.replicas;
  const replicas = clampReplicas(from, a);
  return replicas === given.replicas ? given : { ...given, replicas };
}

/** The object `next` (a user's write over `stored`) with autoscaler-owned replicas kept. */
export function keepAutoscaledReplicas(stored: ApiObject, next: ApiObject): ApiObject {
  if (next.kind !== 'Service') return next;
  const spec = withAutoscaledReplicas(stored.spec as ServiceSpec, next.spec as ServiceSpec);
  return spec === next.spec ? next : { ...next, spec };
}
