/**
 * Task facts and factories shared by the service controller's pure functions: how a task is
 * named, built from a service, marked for shutdown, and when it ended. No I/O, no clock reads:
 * time and randomness come in as arguments.
 */
import type { Service, ServiceSpec, Task, TaskState } from '../../api/kinds.js';
import { TERMINAL_TASK_STATES } from '../../api/kinds.js';

/** Annotation: consecutive quick failures of the slot before this task was made (restart backoff). */
export const RESTARTS_ANNOTATION = 'flotilla.dev/restarts';
/** Annotation: uid of the service the task was made for; a re-created service does not adopt old tasks. */
export const SERVICE_UID_ANNOTATION = 'flotilla.dev/service-uid';

/** Randomness the controller injects into pure code: a 5-char suffix and a uid per new task. */
export interface TaskIdentitySource {
  next(): { suffix: string; uid: string };
}

/** True once a task will never run again. */
export function isTerminal(t: Task): boolean {
  return TERMINAL_TASK_STATES.has(t.status?.state ?? 'new');
}

/** True for tasks the service still wants running (counted against replicas). */
export function isDesiredRunning(t: Task): boolean {
  return t.spec.desiredState === 'running';
}

/** When the task reached its current state (ms); creation time when unknown. */
export function stateSince(t: Task): number {
  const ts = Date.parse(t.status?.timestamp ?? '');
  return Number.isFinite(ts) ? ts : createdAt(t);
}

/** Creation time in ms (0 when unparsable). */
export function createdAt(t: Task): number {
  const ts = Date.parse(t.metadata.creationTimestamp);
  return Number.isFinite(ts) ? ts : 0;
}

/** Newest first: by creation time, then by name for a stable order. */
export function newestFirst(a: Task, b: Task): number {
  return createdAt(b) - createdAt(a) || b.metadata.name.localeCompare(a.metadata.name);
}

/** Lowercase, DNS-label-safe form of a name part. */
function labelSafe(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '');
}

/** `<service>-<part>-<suffix>`, truncated from the left parts to stay a DNS label (<= 63). */
export function taskName(service: string, part: string, suffix: string): string {
  const tail = `-${suffix}`;
  let base = `${labelSafe(service)}-${labelSafe(part)}`;
  if (base.length + tail.length > 63) base = base.slice(0, 63 - tail.length).replace(/-+$/, '');
  return `${base}${tail}`;
}

/** What a new task is made for. */
export interface NewTaskArgs {
  service: Service;
  slot: number;
  /** "" to leave placement to the scheduler (state pending). */
  node: string;
  nowMs: number;
  identity: TaskIdentitySource;
  restarts: number;
  /** What the task runs (default: the service's spec) and its revision (default: none recorded). */
  template?: ServiceSpec;
  revision?: number;
}

/** Builds a new task from the service as it is now (tasks are immutable afterwards). */
export function newTask(a: NewTaskArgs): Task {
  const { service: svc, node } = a;
  const { suffix, uid } = a.identity.next();
  const part = svc.spec.mode === 'global' ? node : String(a.slot);
  const now = new Date(a.nowMs).toISOString();
  const annotations: Record<string, string> = { [SERVICE_UID_ANNOTATION]: svc.metadata.uid };
  if (a.restarts > 0) annotations[RESTARTS_ANNOTATION] = String(a.restarts);
  return {
    kind: 'Task',
    metadata: {
      name: taskName(svc.metadata.name, part, suffix),
      namespace: svc.metadata.namespace,
      uid,
      labels: { service: svc.metadata.name },
      annotations,
      revision: 0,
      generation: 1,
      creationTimestamp: now,
    },
    spec: {
      service: svc.metadata.name,
      serviceGeneration: svc.metadata.generation,
      slot: a.slot,
      node,
      image: (a.template ?? svc.spec).image,
      desiredState: 'running',
      template: a.template ?? svc.spec,
      ...(a.revision !== undefined && a.revision > 0 ? { revision: a.revision } : {}),
    },
    status: {
      state: node === '' ? 'pending' : 'assigned',
      desiredState: 'running',
      ready: false,
      timestamp: now,
      message: node === '' ? 'waiting for a node' : `assigned to node ${node}`,
    },
  };
}

/** Copy of `t` with desired state shutdown; a task no node holds is shut down right away. */
export function withDesiredShutdown(t: Task, nowMs: number, why: string): Task {
  const status = t.status ?? { state: 'new' as TaskState, desiredState: 'running' as const, ready: false, timestamp: new Date(nowMs).toISOString() };
  const next: Task = { ...t, spec: { ...t.spec, desiredState: 'shutdown' }, status: { ...status, desiredState: 'shutdown' } };
  if (t.spec.node === '' && !isTerminal(t)) return withState(next, 'shutdown', nowMs, `${why}; never assigned to a node`);
  return next;
}

/** Copy of `t` in a new state, timestamped now. */
export function withState(t: Task, state: TaskState, nowMs: number, message: string): Task {
  const status = t.status ?? { state, desiredState: t.spec.desiredState, ready: false, timestamp: '' };
  return { ...t, status: { ...status, state, ready: false, timestamp: new Date(nowMs).toISOString(), message } };
}

/** Consecutive-failure count recorded on a task (0 when absent or garbled). */
export function restartsOf(t: Task): number {
  const n = Number(t.metadata.annotations?.[RESTARTS_ANNOTATION] ?? '0');
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

/** True when the task was made for another incarnation of the service (deleted and re-created). */
export function isForeign(t: Task, svc: Service): boolean {
  const uid = t.metadata.annotations?.[SERVICE_UID_ANNOTATION];
  return uid !== undefined && uid !== svc.metadata.uid;
}
