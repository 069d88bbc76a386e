/**
 * The node lifecycle loop (STYLE.md 4): key `Node/<name>`. Heartbeats (a node's Lease renewals,
 * and its Node `status.heartbeat`) are tracked by the time the server saw them change (its own
 * clock, so agents' clock skew does not matter), and a sweep every `sweepMs` enqueues nodes
 * whose heartbeat is older than the grace period; a heartbeat seen for a down node, other node
 * changes (labels, availability, taints, state) and task changes on troubled nodes enqueue the
 * node directly. sync runs compute.ts and applies its writes with expected revisions; for a
 * deleted node, it deletes its Lease once that has expired too.
 */
import { keyOf } from '../../api/object.js';
import { MOVING_ANNOTATION, TERMINAL_TASK_STATES, type Lease, type NodeObject, type Task } from '../../api/kinds.js';
import type { Store } from '../../store/store.js';
import { applyActions, Expectations } from '../framework/apply.js';
import type { Clock, TimerHandle } from '../framework/clock.js';
import { Controller, type SyncResult } from '../framework/controller.js';
import { BY_NODE, BY_SERVICE, serviceIndexValue, type ClusterInformers } from '../informers.js';
import { computeNodeActions, DEFAULT_MOVE_TIMEOUT_MS, DEFAULT_NODE_GRACE_MS } from './compute.js';

/** What the node lifecycle loop needs. */
export interface NodeControllerDeps {
  store: Store;
  informers: ClusterInformers;
  clock: Clock;
  log: (msg: string) => void;
  /** Heartbeat age after which a node is down (default 6 s). */
  gracePeriodMs?: number;
  /** How long a moving task waits for its replacement to run (default 60 s). */
  moveTimeoutMs?: number;
  /** How often heartbeats are checked (default min(1 s, grace / 4)). */
  sweepMs?: number;
}

const nodeKey = (name: string): string => `Node//${name}`;
const nameOfKey = (key: string): string => key.slice('Node//'.length);
const isMoving = (t: Task): boolean =>
  t.metadata.annotations?.[MOVING_ANNOTATION] !== undefined && t.spec.desiredState === 'running' && !TERMINAL_TASK_STATES.has(t.status?.state ?? 'new');

/** What the loop reacts to in a node: everything but the heartbeat (and revision). */
function nodeFacts(n: NodeObject): string {
  return JSON.stringify([n.metadata.labels, n.spec, n.status?.state]);
}

/** Where a heartbeat comes from: the Node's status.heartbeat, or its Lease's renewTime. */
type BeatSource = 'node' | 'lease';

interface Beats {
  node: string | undefined;
  lease: string | undefined;
  /** Server time either source last changed (or was first seen). */
  atMs: number;
  /** Server time a source was last seen *changing* (a beat that happened while we watched). */
  liveMs: number | undefined;
}

/** Per node, the server time its heartbeat (either source) last changed. */
export class HeartbeatTracker {
  private readonly seen = new Map<string, Beats>();

  /** Records a source's value; true when it changed from a value seen before (a live beat). */
  observe(name: string, source: BeatSource, beat: string | undefined, nowMs: number): boolean {
    const cur = this.seen.get(name);
    if (cur === undefined) {
      if (beat !== undefined) this.seen.set(name, { node: undefined, lease: undefined, [source]: beat, atMs: nowMs, liveMs: undefined });
      return false;
    }
    const before = cur[source];
    if (before === beat) return false;
    cur[source] = beat;
    if (beat === undefined) {
      // The source went away (Node or Lease deleted): no beat; forget the node once both are gone.
      if (cur.node === undefined && cur.lease === undefined) this.seen.delete(name);
      return false;
    }
    cur.atMs = nowMs;
    if (before === undefined) return false; // first sight (a list after a restart, a new Lease)
    cur.liveMs = nowMs;
    return true;
  }

  /** When a heartbeat was last seen to change; undefined for a node that never sent one. */
  lastMs(name: string): number | undefined {
    const s = this.seen.get(name);
    return s === undefined || (s.node === undefined && s.lease === undefined) ? undefined : s.atMs;
  }

  /** When a heartbeat was last seen happening (see Beats.liveMs). */
  liveMs(name: string): number | undefined {
    return this.seen.get(name)?.liveMs;
  }

  /** Names of nodes whose heartbeat is older than `graceMs`. */
  expired(nowMs: number, graceMs: number): string[] {
    const out: string[] = [];
    for (const [name, s] of this.seen) if ((s.node !== undefined || s.lease !== undefined) && nowMs - s.atMs > graceMs) out.push(name);
    return out;
  }
}

/** Per service (`namespace/service`), the nodes holding its moving tasks: rechecked when a replacement runs. */
class MovingIndex {
  private readonly bySvc = new Map<string, Map<string, number>>();

  change(t: Task, d: 1 | -1): void {
    if (!isMoving(t)) return;
    const svc = serviceIndexValue(t.metadata.namespace, t.spec.service);
    let m = this.bySvc.get(svc);
    if (m === undefined) this.bySvc.set(svc, (m = new Map()));
    const v = (m.get(t.spec.node) ?? 0) + d;
    if (v <= 0) m.delete(t.spec.node);
    else m.set(t.spec.node, v);
    if (m.size === 0) this.bySvc.delete(svc);
  }

  nodesOf(t: Task): Iterable<string> {
    return this.bySvc.get(serviceIndexValue(t.metadata.namespace, t.spec.service))?.keys() ?? [];
  }
}

/** A lookup of a service's slot, grouping the service's tasks once (per sync). */
function slotLookup(inf: ClusterInformers): (ns: string, svc: string, slot: number) => readonly Task[] {
  const slots = new Map<string, Map<number, Task[]>>();
  return (ns, svc, slot) => {
    const k = serviceIndexValue(ns, svc);
    let bySlot = slots.get(k);
    if (bySlot === undefined) {
      slots.set(k, (bySlot = new Map()));
      for (const t of inf.tasks.byIndex(BY_SERVICE, k)) bySlot.set(t.spec.slot, [...(bySlot.get(t.spec.slot) ?? []), t]);
    }
    return bySlot.get(slot) ?? [];
  };
}

/** Builds the node lifecycle loop and hooks it to the informers. */
export function createNodeController(deps: NodeControllerDeps): Controller {
  const inf = deps.informers;
  const grace = deps.gracePeriodMs ?? DEFAULT_NODE_GRACE_MS;
  const exp = new Expectations({ Task: inf.tasks, Node: inf.nodes, ...(inf.leases !== undefined ? { Lease: inf.leases } : {}) });
  const beats = new HeartbeatTracker();
  const sync = async (key: string): Promise<SyncResult> => {
    await exp.wait(key, 5_000);
    const name = nameOfKey(key);
    const node = inf.nodes.get(`Node//${name}`);
    if (node === undefined) return dropLease(deps, exp, key, beats, grace);
    const plan = computeNodeActions({
      node,
      tasks: inf.tasks.byIndex(BY_NODE, name),
      lastHeartbeatMs: beats.lastMs(name),
      heartbeatResumedMs: beats.liveMs(name),
      nowMs: deps.clock.now(),
      gracePeriodMs: grace,
      moveTimeoutMs: deps.moveTimeoutMs ?? DEFAULT_MOVE_TIMEOUT_MS,
      serviceOf: (ns, svc) => inf.services.get(`Service/${ns}/${svc}`),
      slotTasks: slotLookup(inf),
    });
    if (plan.actions.length > 0) {
      deps.log(`node: ${name}: ${plan.actions.map((a) => `${a.type === 'delete' ? a.key.name : a.object.metadata.name} (${a.reason})`).join(', ')}`);
      exp.record(key, await applyActions(deps.store, plan.actions));
    }
    return { requeueAfterMs: plan.requeueAfterMs };
  };
  const c = new Controller({ name: 'node', sync, workers: 2, clock: deps.clock, log: deps.log });
  hookInformers(c, inf, beats, deps.clock);
  c.onStop(startSweep(deps.clock, deps.sweepMs ?? Math.max(50, Math.min(1_000, grace / 4)), () => {
    for (const name of beats.expired(deps.clock.now(), grace)) {
      if (inf.nodes.get(`Node//${name}`)?.status?.state !== 'down') c.enqueue(nodeKey(name));
    }
  }));
  return c;
}

/** The Lease of a deleted node, once expired too (a live agent re-registers its Node: leave it then). */
async function dropLease(deps: NodeControllerDeps, exp: Expectations, key: string, beats: HeartbeatTracker, graceMs: number): Promise<SyncResult> {
  const name = nameOfKey(key);
  const lease = deps.informers.leases?.get(`Lease//${name}`);
  if (lease === undefined) return {};
  const last = beats.lastMs(name);
  const age = last === undefined ? Infinity : deps.clock.now() - last;
  if (age <= graceMs) return { requeueAfterMs: graceMs - age + 1 };
  deps.log(`node: ${name}: deleting the Lease of a deleted node`);
  exp.record(key, await applyActions(deps.store, [{ type: 'delete', key: keyOf(lease), expectedRevision: lease.metadata.revision, reason: 'node deleted' }]));
  return {};
}

/** Informer handlers: record heartbeats, enqueue nodes whose facts or troubled tasks changed. */
function hookInformers(c: Controller, inf: ClusterInformers, beats: HeartbeatTracker, clock: Clock): void {
  // A beat seen for a down node: look again (compute.ts makes it ready).
  const beat = (name: string, source: BeatSource, value: string | undefined): void => {
    if (beats.observe(name, source, value, clock.now()) && inf.nodes.get(`Node//${name}`)?.status?.state === 'down') c.enqueue(nodeKey(name));
  };
  c.onStop(inf.nodes.addHandler({
    onAdd: (n) => {
      beat(n.metadata.name, 'node', n.status?.heartbeat);
      c.enqueue(nodeKey(n.metadata.name));
    },
    onUpdate: (old, n) => {
      beat(n.metadata.name, 'node', n.status?.heartbeat);
      if (nodeFacts(old) !== nodeFacts(n)) c.enqueue(nodeKey(n.metadata.name));
    },
    onDelete: (n) => {
      beats.observe(n.metadata.name, 'node', undefined, clock.now());
      c.enqueue(nodeKey(n.metadata.name));
    },
  }));
  if (inf.leases !== undefined) {
    const leased = (l: Lease): void => beat(l.metadata.name, 'lease', l.spec.renewTime);
    c.onStop(inf.leases.addHandler({ onAdd: leased, onUpdate: (_o, l) => leased(l), onDelete: (l) => beats.observe(l.metadata.name, 'lease', undefined, clock.now()) }));
  }
  const moving = new MovingIndex();
  const taskChanged = (old: Task | undefined, t: Task): void => {
    if (old !== undefined) moving.change(old, -1);
    moving.change(t, 1);
    if (t.spec.node !== '' && needsWatching(inf.nodes.get(`Node//${t.spec.node}`), t)) c.enqueue(nodeKey(t.spec.node));
    // A replacement started running: recheck the nodes holding moving tasks of its service.
    if (t.status?.state === 'running' && old?.status?.state !== 'running') for (const n of moving.nodesOf(t)) c.enqueue(nodeKey(n));
  };
  c.onStop(inf.tasks.addHandler({
    onAdd: (t) => taskChanged(undefined, t),
    onUpdate: (old, t) => taskChanged(old, t),
    onDelete: (t) => moving.change(t, -1),
  }));
}

/** True when a task change on this node may need the loop: a troubled node, or a moving task. */
function needsWatching(n: NodeObject | undefined, t: Task): boolean {
  if (n === undefined) return false;
  if (isMoving(t) || n.status?.state === 'down' || n.spec.availability === 'drain') return true;
  return (n.spec.taints ?? []).some((x) => x.effect === 'NoExecute');
}

/** Calls `tick` every `everyMs` on the injected clock until the returned function is called. */
function startSweep(clock: Clock, everyMs: number, tick: () => void): () => void {
  let timer: TimerHandle | undefined;
  let stopped = false;
  const arm = (): void => {
    timer = clock.setTimeout(() => {
      if (stopped) return;
      tick();
      arm();
    }, everyMs);
  };
  arm();
  return () => {
    stopped = true;
    timer?.clear();
  };
}
