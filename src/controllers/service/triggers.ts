/**
 * Which changes can alter a decision of the service controller or of the reaper, so that their
 * loops are not woken for the others. A task reports preparing, starting, running and status
 * messages through its life, and a node heartbeats: at 100,000 tasks, re-deciding a service of
 * 1,000 tasks for each of those events is most of the server's work, and changes nothing.
 *
 *   task added / deleted ──────────────────────────────► both loops
 *   task updated: desired state, slot, annotations,
 *     terminal or running or ready changed, ended again,
 *     moved to a node that does not exist ─────────────► service loop
 *   task updated: desired state, node, terminal changed ► reaper
 *   node updated: labels, spec, state ────────────────► global services
 *   anything else (preparing -> starting, messages, heartbeats) ─► nobody
 *
 * Pure; the table tests are in test/controllers/service-triggers.test.ts. Keep in step with
 * what compute.ts and reaper.ts read: a fact they read that is not here can go stale.
 */
import type { NodeObject, Task } from '../../api/kinds.js';
import { isTerminal } from './tasks.js';

const isRunning = (t: Task): boolean => t.status?.state === 'running';
const isReady = (t: Task): boolean => t.status?.ready === true;

function sameAnnotations(a: Task, b: Task): boolean {
  const x = a.metadata.annotations ?? {};
  const y = b.metadata.annotations ?? {};
  const kx = Object.keys(x);
  if (kx.length !== Object.keys(y).length) return false;
  return kx.every((k) => x[k] === y[k]);
}

/**
 * True when an update of a task may change its service's decision (compute.ts): units held
 * (desired state, slot, the moving and service-uid annotations), restarts (ended, and when),
 * updates in flight (running or not), the status (running and ready), and tasks on nodes that
 * do not exist (`nodeExists` is a cache lookup). States between pending and running are not
 * looked at once a unit holds a single task, which the sync of its creation made sure of.
 */
export function serviceCaresAboutTaskUpdate(old: Task, t: Task, nodeExists: (name: string) => boolean): boolean {
  if (old.spec.desiredState !== t.spec.desiredState || old.spec.slot !== t.spec.slot) return true;
  if (old.spec.serviceGeneration !== t.spec.serviceGeneration || !sameAnnotations(old, t)) return true;
  if (isTerminal(old) !== isTerminal(t) || isRunning(old) !== isRunning(t) || isReady(old) !== isReady(t)) return true;
  if (isTerminal(t) && (old.status?.state !== t.status?.state || old.status?.timestamp !== t.status?.timestamp)) return true;
  return old.spec.node !== t.spec.node && t.spec.node !== '' && !nodeExists(t.spec.node);
}

/** True when an update of a task may change the reaper's decision (reaper.ts): history is ended, desired-shutdown tasks by unit. */
export function reaperCaresAboutTaskUpdate(old: Task, t: Task): boolean {
  return old.spec.desiredState !== t.spec.desiredState || isTerminal(old) !== isTerminal(t) || old.spec.node !== t.spec.node ||
    (isTerminal(t) && old.status?.timestamp !== t.status?.timestamp);
}

/** What the service controller reads of a node for global services: labels, spec (availability, role, taints) and state. */
export function nodeFactsChanged(old: NodeObject, n: NodeObject): boolean {
  if (old.status?.state !== n.status?.state) return true;
  return JSON.stringify([old.metadata.labels, old.spec]) !== JSON.stringify([n.metadata.labels, n.spec]);
}
