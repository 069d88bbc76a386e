/**
 * What a `stack deploy` does against what the cluster holds (pure, no I/O):
 *
 *   stack objects + the objects of those kinds already in the stack's namespace
 *     ──> conflicts: an object of that name that another stack (or nobody's) owns: refused
 *     ──> apply:     every object of the file, new services that wait for others at 0 replicas
 *     ──> starts:    those services in depends_on order, each with what it waits for
 *     ──> stale:     objects of the stack that the file no longer has (deleted with --prune)
 */
import { keyOf, keyString, type ApiObject, type Kind } from '../api/object.js';
import type { ServiceSpec, ServiceStatus } from '../api/kinds.js';
import { STACK_LABEL } from './names.js';
import type { ComposeStack, StackDependency } from './stack.js';

/** The kinds a stack is made of (what `stack rm` looks for). */
export const STACK_KINDS: readonly Kind[] = ['Service', 'Secret', 'Config', 'Volume'];

/** A new service held at 0 replicas until what it depends on is up. */
export interface HeldStart {
  service: string;
  replicas: number;
  waitFor: StackDependency[];
}

export interface DeployPlan {
  apply: ApiObject[];
  starts: HeldStart[];
  stale: ApiObject[];
  conflicts: string[];
}

/** Plans one deploy; `existing` holds the objects of STACK_KINDS in the stack's namespace. */
export function planDeploy(stack: ComposeStack, existing: ApiObject[]): DeployPlan {
  const byKey = new Map(existing.map((o) => [keyString(keyOf(o)), o]));
  const wanted = new Set(stack.objects.map((o) => keyString(keyOf(o))));
  const conflicts: string[] = [];
  for (const o of stack.objects) {
    const cur = byKey.get(keyString(keyOf(o)));
    const owner = cur?.metadata.labels[STACK_LABEL];
    if (cur !== undefined && owner !== stack.stack) {
      conflicts.push(`${o.kind.toLowerCase()} ${o.metadata.name} already exists in namespace ${o.metadata.namespace} and is ${owner === undefined ? 'not part of a stack' : `part of stack ${owner}`}: not replaced`);
    }
  }
  const services = new Map(stack.objects.filter((o) => o.kind === 'Service').map((o) => [o.metadata.name, o]));
  const starts: HeldStart[] = [];
  const apply = stack.objects.map((o) => {
    if (o.kind !== 'Service' || byKey.has(keyString(keyOf(o)))) return o;
    const spec = o.spec as ServiceSpec;
    const waitFor = stack.dependencies.filter((d) => d.service === o.metadata.name && services.has(d.on));
    if (waitFor.length === 0 || spec.mode !== 'replicated' || spec.replicas === 0) return o;
    starts.push({ service: o.metadata.name, replicas: spec.replicas, waitFor });
    return { ...o, spec: { ...spec, replicas: 0 } };
  });
  const stale = existing.filter((o) => o.metadata.labels[STACK_LABEL] === stack.stack && !wanted.has(keyString(keyOf(o))));
  return { apply, starts: startOrder(starts), stale, conflicts };
}

/** Held starts sorted so that a service comes after the held services it waits for. */
function startOrder(starts: HeldStart[]): HeldStart[] {
  const out: HeldStart[] = [];
  const placed = new Set<string>();
  const held = new Set(starts.map((s) => s.service));
  const left = [...starts];
  while (left.length > 0) {
    const i = left.findIndex((s) => s.waitFor.every((d) => !held.has(d.on) || placed.has(d.on)));
    // depends_on cycles are refused earlier; take the first one left should one slip through.
    const [next] = left.splice(i < 0 ? 0 : i, 1) as [HeldStart];
    out.push(next);
    placed.add(next.service);
  }
  return out;
}

/**
 * True once a dependency is up as its condition asks: one task running and ready (started; a task
 * without a readiness probe is ready once running), or every desired task ready (healthy).
 */
export function dependencyMet(service: ApiObject | undefined, condition: StackDependency['condition']): boolean {
  if (service === undefined) return false;
  const spec = service.spec as ServiceSpec;
  const status = (service.status ?? {}) as ServiceStatus;
  const want = spec.mode === 'global' ? 1 : spec.replicas;
  if (want === 0) return true;
  const ready = status.readyReplicas ?? 0;
  return condition === 'service_healthy' ? ready >= want : ready >= 1;
}
