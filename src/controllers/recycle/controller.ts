/**
 * The reverse-uptime loop (STYLE.md 4): key `Node//<name>`, one worker, so "one node recycling
 * at a time" is decided on a cache that shows every earlier decision (one Expectations key for
 * all writes). sync runs compute.ts, applies its writes with expected revisions, starts the
 * provisioner hook in the background (its end enqueues the node again) and writes the Events.
 * Woken by: node changes (labels, annotations, spec, recycle state), tasks changing on a
 * recycling node, service readiness changes, new nodes and recycles ending (for the nodes
 * waiting their turn), and the timers compute.ts asks for (a node's due time, the hook and drain bounds).
 */
import { AlreadyExistsError, NotFoundError } from '../../api/errors.js';
import type { EventObject, NodeObject, Revocation, Service, Task } from '../../api/kinds.js';
import { keyString } from '../../api/object.js';
import type { Store } from '../../store/store.js';
import { applyActions, Expectations } from '../framework/apply.js';
import type { Clock } from '../framework/clock.js';
import { Controller, type SyncResult } from '../framework/controller.js';
import { BY_NODE, type ClusterInformers } from '../informers.js';
import { computeRecycle, DEFAULT_DRAIN_TIMEOUT_MS, DEFAULT_PROVISIONER_TIMEOUT_MS, isRecycling, revocationName, type HookState, type RecycleEvent } from './compute.js';
import type { NodeProvisioner } from './provisioner.js';

/** What the recycle loop needs. */
export interface RecycleControllerDeps {
  store: Store;
  informers: ClusterInformers;
  clock: Clock;
  log: (msg: string) => void;
  /** `--max-node-age` in ms (undefined or 0: off; node labels still apply). */
  maxNodeAgeMs?: number;
  /** `--node-provisioner` (commandProvisioner), or a fake. */
  provisioner?: NodeProvisioner;
  /** Bound on waiting for the hook (default 5 min; commandProvisioner kills it at its own timeout). */
  provisionerTimeoutMs?: number;
  /** Bound on the drain before the node is removed anyway (default 10 min). */
  drainTimeoutMs?: number;
}

const ALL = 'all';
const nodeKey = (name: string): string => `Node//${name}`;
const nameOfKey = (key: string): string => key.slice('Node//'.length);

/** What the loop reacts to in a node (not its heartbeat). */
const nodeFacts = (n: NodeObject): string => JSON.stringify([n.metadata.labels, n.metadata.annotations, n.spec, n.status?.recycle]);

/** Services with a task desired running on the node whose ready tasks are fewer than their replicas. */
function shortServices(tasks: readonly Task[], services: (key: string) => Service | undefined): string[] {
  const out = new Set<string>();
  for (const t of tasks) {
    if (t.spec.desiredState !== 'running') continue;
    const svc = services(`Service/${t.metadata.namespace}/${t.spec.service}`);
    if (svc === undefined || svc.spec.mode !== 'replicated') continue;
    const ready = svc.status?.readyReplicas ?? 0;
    if (ready < svc.spec.replicas) out.add(`${t.metadata.namespace}/${t.spec.service} (${ready}/${svc.spec.replicas} ready)`);
  }
  return [...out].sort();
}

/**
 * Which nodes are recycling and which could take moved tasks (ready, active, not in a recycle),
 * kept from informer events so a sync does not scan every node (hollow clusters have 10,000).
 */
class NodeIndex {
  private readonly recycling = new Set<string>();
  private readonly schedulable = new Set<string>();

  set(n: NodeObject): void {
    const name = n.metadata.name;
    if (isRecycling(n)) this.recycling.add(name);
    else this.recycling.delete(name);
    if (n.status?.state === 'ready' && n.spec.availability === 'active' && n.status.recycle === undefined) this.schedulable.add(name);
    else this.schedulable.delete(name);
  }

  delete(name: string): void {
    this.recycling.delete(name);
    this.schedulable.delete(name);
  }

  /** A recycling node other than `name`, if any. */
  recyclingOtherThan(name: string): string | undefined {
    for (const n of this.recycling) if (n !== name) return n;
    return undefined;
  }

  schedulableOtherThan(name: string): number {
    return this.schedulable.size - (this.schedulable.has(name) ? 1 : 0);
  }
}

/** Builds the recycle loop and hooks it to the informers. */
export function createRecycleController(deps: RecycleControllerDeps): Controller {
  const inf = deps.informers;
  const exp = new Expectations({ Node: inf.nodes, ...(inf.leases !== undefined ? { Lease: inf.leases } : {}) });
  const hooks = new Map<string, HookState>(); // by node uid: one hook per recycle of one incarnation
  const waiting = new Set<string>();
  const index = new NodeIndex();
  let c: Controller | undefined;

  const runHook = (node: NodeObject): void => {
    const p = deps.provisioner;
    if (p === undefined) return;
    const uid = node.metadata.uid;
    hooks.set(uid, { done: false });
    deps.log(`recycle: ${node.metadata.name}: calling the provisioner`);
    void p.provision({ name: node.metadata.name, labels: node.metadata.labels ?? {} }).then((r) => {
      hooks.set(uid, { done: true, ...r });
      c?.enqueue(nodeKey(node.metadata.name));
    });
  };

  const sync = async (key: string): Promise<SyncResult> => {
    await exp.wait(ALL, 5_000);
    const name = nameOfKey(key);
    const node = inf.nodes.get(key);
    if (node === undefined) {
      waiting.delete(name);
      return {};
    }
    const others = index.recyclingOtherThan(name);
    const otherSchedulable = index.schedulableOtherThan(name);
    const tasks = inf.tasks.byIndex(BY_NODE, name);
    const draining = node.status?.recycle?.phase === 'draining';
    const revocation = draining ? (await deps.store.get({ kind: 'Revocation', namespace: '', name: revocationName(name) })) as Revocation | undefined : undefined;
    const plan = computeRecycle({
      node,
      tasks,
      nowMs: deps.clock.now(),
      clusterMaxAgeMs: deps.maxNodeAgeMs,
      otherRecycling: others,
      shortServices: shortServices(tasks, (k) => inf.services.get(k)),
      provisioner: deps.provisioner !== undefined,
      otherSchedulable,
      hook: hooks.get(node.metadata.uid),
      provisionerTimeoutMs: deps.provisionerTimeoutMs ?? DEFAULT_PROVISIONER_TIMEOUT_MS,
      drainTimeoutMs: deps.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS,
      revocation,
      lease: inf.leases?.get(`Lease//${name}`),
    });
    if (plan.actions.length > 0) {
      deps.log(`recycle: ${name}: ${plan.actions.map((a) => a.reason).join(', ')}`);
      exp.record(ALL, await applyActions(deps.store, plan.actions));
    }
    const written = plan.actions.reduce<NodeObject>((n, a) => (a.type === 'update' && a.object.kind === 'Node' ? a.object as NodeObject : n), node);
    const phase = written.status?.recycle?.phase;
    if (phase === 'waiting') waiting.add(name);
    else waiting.delete(name);
    if (plan.startHook === true) runHook(node);
    for (const e of plan.events) await writeEvent(deps, node, e);
    if (plan.events.some((e) => e.reason === 'NodeRemoved')) hooks.delete(node.metadata.uid);
    return { requeueAfterMs: plan.requeueAfterMs };
  };

  const ctl = new Controller({ name: 'recycle', sync, workers: 1, clock: deps.clock, log: deps.log });
  c = ctl;
  const wakeWaiting = (): void => { for (const n of waiting) ctl.enqueue(nodeKey(n)); };
  ctl.onStop(inf.nodes.addHandler({
    onAdd: (n) => {
      index.set(n);
      ctl.enqueue(nodeKey(n.metadata.name));
      wakeWaiting(); // a new node is somewhere to move tasks to
    },
    onUpdate: (old, n) => {
      index.set(n);
      if (nodeFacts(old) !== nodeFacts(n)) ctl.enqueue(nodeKey(n.metadata.name));
      if (isRecycling(old) && !isRecycling(n)) wakeWaiting();
    },
    onDelete: (n) => {
      index.delete(n.metadata.name);
      ctl.enqueue(nodeKey(n.metadata.name));
      if (isRecycling(n)) wakeWaiting();
    },
  }));
  const taskChanged = (t: Task): void => {
    if (t.spec.node === '') return;
    const n = inf.nodes.get(nodeKey(t.spec.node));
    if (n !== undefined && isRecycling(n)) ctl.enqueue(nodeKey(t.spec.node));
  };
  ctl.onStop(inf.tasks.addHandler({ onAdd: taskChanged, onUpdate: (_o, t) => taskChanged(t), onDelete: taskChanged }));
  ctl.onStop(inf.services.addHandler({
    onUpdate: (old, s) => { if (old.status?.readyReplicas !== s.status?.readyReplicas || old.spec.replicas !== s.spec.replicas) wakeWaiting(); },
    onDelete: wakeWaiting,
  }));
  ctl.onStop(() => deps.provisioner?.stop());
  return ctl;
}

/** One Event per step of one node incarnation's recycle (deterministic name: a retry never repeats it). */
async function writeEvent(deps: RecycleControllerDeps, node: NodeObject, e: RecycleEvent): Promise<void> {
  const now = new Date(deps.clock.now()).toISOString();
  const uid8 = node.metadata.uid.slice(0, 8);
  const event: EventObject = {
    kind: 'Event',
    metadata: { name: `${node.metadata.name}.${e.reason.toLowerCase()}.${uid8}`, namespace: 'default', uid: `${node.metadata.uid}-${e.reason}`, labels: {}, revision: 0, generation: 1, creationTimestamp: now },
    spec: {
      involved: keyString({ kind: 'Node', namespace: '', name: node.metadata.name }), type: e.type, reason: e.reason, source: 'controller/recycle', count: 1,
      message: e.message, firstTimestamp: now, lastTimestamp: now,
    },
  };
  try {
    await deps.store.create(event);
    deps.log(`recycle: ${node.metadata.name}: ${e.reason}: ${e.message}`);
  } catch (err) {
    if (!(err instanceof AlreadyExistsError) && !(err instanceof NotFoundError)) throw err;
  }
}
