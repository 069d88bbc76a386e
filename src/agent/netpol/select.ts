/**
 * Which tasks a NetworkPolicy selects and which addresses each of its peers stands for: the
 * pure core shared by the agent's rule set (compute.ts) and `flotilla describe networkpolicy`.
 *
 *   Tasks + Services ──policyTasks()──► PolicyTask[] (live tasks with an address, labels merged)
 *   policy.selector ──selects()──► the tasks it applies to (its own namespace only)
 *   peer ──peerMatch()──► tasks of a service / with labels / of a namespace, or a CIDR
 */
import type { NetworkPolicy, NetworkPolicyPeer, Service, Task } from '../../api/kinds.js';

/** A task as policies see it: where it is, what it is, its labels (service's, then its own). */
export interface PolicyTask {
  name: string;
  namespace: string;
  service: string;
  node: string;
  ip: string;
  labels: Record<string, string>;
}

/** States in which a task holds no address any more (its IP may go to another task). */
const GONE = new Set(['complete', 'failed', 'shutdown', 'rejected', 'orphaned']);

/**
 * The tasks policies can name: with an address and not finished. Labels are the service's
 * labels overlaid with the task's own (a task label wins).
 */
export function policyTasks(tasks: readonly Task[], services: readonly Service[]): PolicyTask[] {
  const svcLabels = new Map(services.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s.metadata.labels]));
  const out: PolicyTask[] = [];
  for (const t of tasks) {
    const ip = t.status?.ip;
    if (ip === undefined || ip === '' || GONE.has(t.status?.state ?? '')) continue;
    const labels = { ...(svcLabels.get(`${t.metadata.namespace}/${t.spec.service}`) ?? {}), ...t.metadata.labels };
    out.push({ name: t.metadata.name, namespace: t.metadata.namespace, service: t.spec.service, node: t.spec.node, ip, labels });
  }
  return out.sort((a, b) => a.ip.localeCompare(b.ip) || a.name.localeCompare(b.name));
}

/** True when every label of `want` is on `labels`. */
export function labelsMatch(labels: Record<string, string>, want: Record<string, string>): boolean {
  return matcher(want)(labels);
}

/** A test of `labels` against `want`, with want's entries read once (it runs per task per policy). */
function matcher(want: Record<string, string>): (labels: Record<string, string>) => boolean {
  const entries = Object.entries(want);
  return (labels) => {
    for (const [k, v] of entries) if (labels[k] !== v) return false;
    return true;
  };
}

/** True when the policy applies to the task: same namespace, its service listed (if any), its labels (if any). */
export function selects(p: NetworkPolicy, t: PolicyTask): boolean {
  if (t.namespace !== p.metadata.namespace) return false;
  const { services, labels } = p.spec.selector;
  if (services !== undefined && services.length > 0 && !services.includes(t.service)) return false;
  return labels === undefined || labelsMatch(t.labels, labels);
}

/** What a peer stands for: tasks (by a predicate) or a CIDR. */
export type PeerMatch = { kind: 'tasks'; match: (t: PolicyTask) => boolean; text: string } | { kind: 'cidr'; cidr: string; text: string };

/** The meaning of one peer of a rule of a policy in namespace `ns`. */
export function peerMatch(ns: string, peer: NetworkPolicyPeer): PeerMatch {
  if (peer.cidr !== undefined) return { kind: 'cidr', cidr: peer.cidr, text: `cidr ${peer.cidr}` };
  const inNs = peer.namespace ?? ns;
  const where = peer.namespace !== undefined ? ` in namespace ${peer.namespace}` : '';
  if (peer.service !== undefined) {
    const svc = peer.service;
    return { kind: 'tasks', match: (t) => t.namespace === inNs && t.service === svc, text: `service ${svc}${where}` };
  }
  if (peer.labels !== undefined) {
    const test = matcher(peer.labels);
    const shown = Object.entries(peer.labels).map(([k, v]) => `${k}=${v}`).join(',');
    return { kind: 'tasks', match: (t) => t.namespace === inNs && test(t.labels), text: `labels ${shown}${where}` };
  }
  return { kind: 'tasks', match: (t) => t.namespace === inNs, text: `namespace ${inNs}` };
}
