/**
 * The service controller's decision (STYLE.md 5): from a service, its tasks and the nodes,
 * the writes that bring the tasks toward the service. Pure and synchronous; time and
 * randomness come in through the input. The loop around it is controller.ts.
 *
 * A "unit" is where one task should run: a slot 1..replicas (replicated) or a node (global).
 * Per unit: no task -> create; an ended task -> restart policy with backoff; a task of an
 * older service generation -> replace (update.parallelism at a time); a unit the service no
 * longer wants -> desired shutdown. "Older generation" means the spec of what runs changed
 * (isOutdated): scaling alone bumps the generation too but replaces nothing. Replaced tasks stay as history with desired shutdown.
 */
import { matchConstraint, parseConstraint, type Constraint } from '../../api/constraint.js';
import { MOVING_ANNOTATION, TASK_STATES, type NodeObject, type Service, type ServiceSpec, type ServiceStatus, type Task } from '../../api/kinds.js';
import { noNewTasksReason } from '../../api/node-conditions.js';
import { specEqual } from '../../api/validate/equal.js';
import { tolerates } from '../../scheduler/filters.js';
import type { Action } from '../framework/apply.js';
import { taskRevision } from '../../api/rollout.js';
import { TaskPlan } from './plan.js';
import { revisionPlan, type RevisionPlan, type RevisionTemplate } from './revisions.js';
import { crashLoopOf } from './crash-loop.js';
import { restartDecision } from './restart.js';
import { isDesiredRunning, isForeign, isTerminal, newestFirst, newTask, withDesiredShutdown, withState, type TaskIdentitySource } from './tasks.js';

/** Everything one decision looks at. */
export interface ServiceSyncInput {
  namespace: string;
  name: string;
  /** Undefined when the service was deleted. */
  service: Service | undefined;
  /** The service's tasks (label/index `service`), history included. */
  tasks: readonly Task[];
  /** Every node: global services make a unit per node. Replicated services may pass [] with `hasNode`. */
  nodes: readonly NodeObject[];
  /**
   * Whether a node exists (a cache lookup). When given, tasks on missing nodes are found with it
   * instead of a set built from `nodes`: a sync of a replicated service then costs O(its tasks),
   * not O(nodes).
   */
  hasNode?: (name: string) => boolean;
  nowMs: number;
  identity: TaskIdentitySource;
}

/** The decision: writes to make, and when to look again (restart backoff). */
export interface ServicePlan {
  actions: Action[];
  requeueAfterMs?: number;
}

interface Unit {
  slot: number;
  node: string;
  /** A task should run here (create or restart one). */
  wanted: boolean;
  /** A task already here may stay (e.g. a paused node keeps its global task). */
  mayKeep: boolean;
}

/**
 * Decides the writes for one service; see the file comment. O(tasks of the service) (plus
 * O(nodes) for a global service): the active tasks are grouped by unit once, and each unit
 * only looks at its own group (units are disjoint, and a unit's changes touch only its tasks).
 */
export function computeServiceActions(input: ServiceSyncInput): ServicePlan {
  const plan = new TaskPlan(input.tasks);
  const now = input.nowMs;
  orphanTasksOfMissingNodes(plan, input.hasNode ?? nodeSet(input.nodes), now);
  const svc = input.service;
  for (const t of plan.tasks()) {
    if (!isDesiredRunning(t)) continue;
    if (svc === undefined) plan.change(withDesiredShutdown(t, now, 'service deleted'), 'service deleted');
    else if (isForeign(t, svc)) plan.change(withDesiredShutdown(t, now, 'service was re-created'), 'task of a deleted incarnation');
  }
  if (svc !== undefined) {
    const rp = revisionPlan(svc, now);
    const active = activeTasksOf(svc, plan.tasks());
    if (rp.kind === 'groups') reconcileGroups(plan, svc, rp, active, input);
    else if (rp.kind === 'rolling') reconcileRolling(plan, svc, rp, active, input);
    else if (rp.kind === 'steady') reconcileSteady(plan, svc, rp.target, active, input);
    statusAction(plan, svc, now);
  }
  return { actions: plan.actions(), requeueAfterMs: plan.requeueAfterMs(now) };
}

function nodeSet(nodes: readonly NodeObject[]): (name: string) => boolean {
  const names = new Set(nodes.map((n) => n.metadata.name));
  return (name) => names.has(name);
}

/** Every unit on one revision; tasks of other revisions replaced `update.parallelism` at a time. */
function reconcileSteady(plan: TaskPlan, svc: Service, target: RevisionTemplate, active: readonly Task[], input: ServiceSyncInput): void {
  const outdated = outdatedCheck(svc, target.revision);
  const byUnit = groupByUnit(active);
  const units = unitsOf(svc, input, active);
  const old: Array<{ unit: Unit; task: Task }> = [];
  for (const unit of units) {
    const task = reconcileUnit(plan, svc, unit, byUnit.get(unitKey(unit.slot, unit.node)) ?? [], input, target);
    if (task !== undefined && outdated(task)) old.push({ unit, task });
  }
  replaceOutdated(plan, svc, old, input, outdated, target);
}

function unitsOf(svc: Service, input: ServiceSyncInput, active: readonly Task[]): Unit[] {
  return svc.spec.mode === 'global' ? globalUnits(svc, input.nodes, active) : replicatedUnits(svc, active);
}

/**
 * A rolling update: the first `updated` units (those already on the new revision first, then
 * in order) run the new revision; the others keep what they run. stop-first: the old task
 * stops as the new one is made; start-first: the old one stops once the new one is ready.
 */
function reconcileRolling(plan: TaskPlan, svc: Service, rp: Extract<RevisionPlan, { kind: 'rolling' }>, active: readonly Task[], input: ServiceSyncInput): void {
  const byUnit = groupByUnit(active);
  const units = unitsOf(svc, input, active);
  const rev = (t: Task): number => taskRevision(t, svc);
  const onNext = (u: Unit): boolean => (byUnit.get(unitKey(u.slot, u.node)) ?? []).some((t) => rev(t) === rp.next.revision);
  const candidates = units.filter((u) => u.mayKeep && (u.wanted || onNext(u)));
  const ordered = [...candidates.filter(onNext), ...candidates.filter((u) => !onNext(u))];
  const selected = new Set(ordered.slice(0, Math.max(0, rp.updated)).map((u) => unitKey(u.slot, u.node)));
  const now = input.nowMs;
  for (const unit of units) {
    const tasks = byUnit.get(unitKey(unit.slot, unit.node)) ?? [];
    if (!unit.mayKeep || !selected.has(unitKey(unit.slot, unit.node))) {
      reconcileUnit(plan, svc, unit, tasks, input, rp.stable);
      continue;
    }
    const mine = tasks.filter((t) => rev(t) === rp.next.revision);
    const others = tasks.filter((t) => rev(t) !== rp.next.revision);
    const why = `rolling update to revision ${rp.next.revision}`;
    let serving = false;
    if (mine.length > 0) {
      reconcileUnit(plan, svc, unit, mine, input, rp.next);
      const keep = pickKeeper(mine);
      serving = keep !== undefined && keep.status?.state === 'running' && keep.status.ready;
    } else if (unit.wanted) {
      plan.create(newTask({ service: svc, slot: unit.slot, node: unit.node, nowMs: now, identity: input.identity, restarts: 0, template: rp.next.template, revision: rp.next.revision }), why);
    }
    if (serving || !rp.startFirst) for (const t of others) plan.change(withDesiredShutdown(t, now, `replaced: ${why}`), why);
  }
}

/** Blue-green and canary: each revision of the plan has its own units (revision, slot). */
function reconcileGroups(plan: TaskPlan, svc: Service, rp: Extract<RevisionPlan, { kind: 'groups' }>, active: readonly Task[], input: ServiceSyncInput): void {
  const byRevision = new Map<number, Task[]>();
  for (const t of active) {
    const r = taskRevision(t, svc);
    byRevision.set(r, [...(byRevision.get(r) ?? []), t]);
  }
  for (const [r, tasks] of byRevision) {
    if (rp.groups.some((g) => g.revision === r)) continue;
    for (const t of tasks) plan.change(withDesiredShutdown(t, input.nowMs, `revision ${r} is no longer wanted`), 'old revision');
  }
  for (const g of rp.groups) {
    const tasks = byRevision.get(g.revision) ?? [];
    const byUnit = groupByUnit(tasks);
    const fake: Service = { ...svc, spec: { ...svc.spec, replicas: g.count } };
    for (const unit of replicatedUnits(fake, tasks)) reconcileUnit(plan, fake, unit, byUnit.get(unitKey(unit.slot, unit.node)) ?? [], input, g);
  }
  if (rp.wakeAtMs !== undefined && Number.isFinite(rp.wakeAtMs)) plan.wakeAt(rp.wakeAtMs);
}

/** Tasks held by a node that no longer exists can never report again: mark them orphaned. */
function orphanTasksOfMissingNodes(plan: TaskPlan, hasNode: (name: string) => boolean, now: number): void {
  for (const t of plan.tasks()) {
    if (t.spec.node === '' || isTerminal(t) || hasNode(t.spec.node)) continue;
    plan.change(withState(t, 'orphaned', now, `node ${t.spec.node} no longer exists`), 'node gone');
  }
}

/** The key of a unit: its slot (replicated), or its node (global, slot 0). */
function unitKey(slot: number, node: string): string {
  return slot === 0 ? `0/${node}` : String(slot);
}

/** Active tasks grouped by unit key, newest first within a unit. */
function groupByUnit(active: readonly Task[]): Map<string, Task[]> {
  const out = new Map<string, Task[]>();
  for (const t of active) {
    const k = unitKey(t.spec.slot, t.spec.node);
    const list = out.get(k);
    if (list === undefined) out.set(k, [t]);
    else list.push(t);
  }
  for (const list of out.values()) if (list.length > 1) list.sort(newestFirst);
  return out;
}

/** Tasks holding their unit; a task moving off its node (MOVING_ANNOTATION) no longer does, so it gets a replacement. */
function activeTasksOf(svc: Service, tasks: readonly Task[]): Task[] {
  return tasks.filter((t) => isDesiredRunning(t) && !isForeign(t, svc) && t.metadata.annotations?.[MOVING_ANNOTATION] === undefined);
}

/** True when the service tolerates every taint of the node with one of these effects. */
function toleratesTaints(svc: Service, n: NodeObject, effects: ReadonlyArray<string>): boolean {
  const tolerations = svc.spec.placement?.tolerations ?? [];
  return (n.spec.taints ?? []).every((taint) => !effects.includes(taint.effect) || tolerations.some((t) => tolerates(t, taint)));
}

function replicatedUnits(svc: Service, active: readonly Task[]): Unit[] {
  const slots = new Set<number>();
  for (let s = 1; s <= svc.spec.replicas; s++) slots.add(s);
  for (const t of active) slots.add(t.spec.slot);
  return [...slots].sort((a, b) => a - b).map((slot) => {
    const inRange = slot >= 1 && slot <= svc.spec.replicas;
    return { slot, node: '', wanted: inRange, mayKeep: inRange };
  });
}

/** Parsed constraints; an unparsable one matches no node (validation should have caught it). */
export function parseConstraints(exprs: readonly string[]): Constraint[] | undefined {
  try {
    return exprs.map(parseConstraint);
  } catch {
    return undefined;
  }
}

/** True when the node satisfies every constraint. */
export function nodeMatches(node: NodeObject, constraints: Constraint[] | undefined): boolean {
  if (constraints === undefined) return false;
  const facts = { name: node.metadata.name, role: node.spec.role, labels: node.metadata.labels ?? {} };
  return constraints.every((c) => matchConstraint(c, facts));
}

function globalUnits(svc: Service, nodes: readonly NodeObject[], active: readonly Task[]): Unit[] {
  const constraints = parseConstraints(svc.spec.placement?.constraints ?? []);
  const units = new Map<string, Unit>();
  for (const n of nodes) {
    const matches = nodeMatches(n, constraints);
    const wanted = matches && n.status?.state === 'ready' && noNewTasksReason(n) === undefined && n.spec.availability === 'active' && toleratesTaints(svc, n, ['NoSchedule', 'NoExecute']);
    const mayKeep = matches && n.spec.availability !== 'drain' && toleratesTaints(svc, n, ['NoExecute']);
    units.set(n.metadata.name, { slot: 0, node: n.metadata.name, wanted, mayKeep });
  }
  for (const t of active) {
    if (!units.has(t.spec.node)) units.set(t.spec.node, { slot: 0, node: t.spec.node, wanted: false, mayKeep: false });
  }
  return [...units.values()].sort((a, b) => a.node.localeCompare(b.node));
}

/** Converges one unit from its active tasks (newest first), making new tasks from `tmpl`; returns the live task it keeps. */
function reconcileUnit(plan: TaskPlan, svc: Service, unit: Unit, active: readonly Task[], input: ServiceSyncInput, tmpl: RevisionTemplate): Task | undefined {
  const now = input.nowMs;
  if (!unit.mayKeep) {
    const why = unit.slot > 0 ? `scaled down to ${svc.spec.replicas}` : `node ${unit.node} is not eligible`;
    for (const t of active) plan.change(withDesiredShutdown(t, now, why), why);
    return undefined;
  }
  const keep = pickKeeper(active, (t) => taskRevision(t, svc) === tmpl.revision);
  for (const t of active) if (t !== keep) plan.change(withDesiredShutdown(t, now, 'duplicate in its slot'), 'duplicate');
  if (keep === undefined) {
    if (unit.wanted) plan.create(newTask({ service: svc, slot: unit.slot, node: unit.node, nowMs: now, identity: input.identity, restarts: 0, template: tmpl.template, revision: tmpl.revision }), 'unit without task');
    return undefined;
  }
  if (isTerminal(keep)) {
    if (!unit.wanted) return undefined;
    const d = restartDecision(keep, svc.spec.restart, now);
    if (d.kind === 'wait') plan.wakeAt(d.untilMs);
    if (d.kind === 'replace') replace(plan, svc, unit, keep, input, d.restarts, `restart after ${keep.status?.state ?? 'end'}`, tmpl);
    return undefined;
  }
  return keep;
}

/**
 * True when the task was made from an older spec that differs in what the task runs: a new
 * generation that only changed replicas, update or restart policy does not replace tasks.
 */
export function isOutdated(t: Task, svc: Service): boolean {
  if (t.spec.serviceGeneration === svc.metadata.generation) return false;
  const runs = (spec: ServiceSpec | undefined): unknown => (spec === undefined ? undefined : { ...spec, replicas: 0, update: undefined, restart: undefined });
  return !specEqual(runs(t.spec.template), runs(svc.spec));
}

/**
 * Whether a task runs another revision than `target`. Tasks made before revisions existed
 * compare specs (isOutdated), remembered per task generation: one deep comparison per generation.
 */
function outdatedCheck(svc: Service, target: number): (t: Task) => boolean {
  const byGeneration = new Map<number, boolean>();
  return (t) => {
    if (t.spec.revision !== undefined && target > 0) return t.spec.revision !== target;
    if (t.spec.serviceGeneration === svc.metadata.generation) return false;
    let v = byGeneration.get(t.spec.serviceGeneration);
    if (v === undefined) byGeneration.set(t.spec.serviceGeneration, (v = isOutdated(t, svc)));
    return v;
  };
}

/** Of several tasks in one unit, those `preferred` first (when live), then the furthest along (running beats pending), then the newest. */
function pickKeeper(newestFirstTasks: readonly Task[], preferred?: (t: Task) => boolean): Task | undefined {
  if (newestFirstTasks.length <= 1) return newestFirstTasks[0];
  const alive = newestFirstTasks.filter((t) => !isTerminal(t));
  const favoured = preferred === undefined ? [] : alive.filter(preferred);
  const live = favoured.length > 0 ? favoured : alive;
  const rank = (t: Task): number => TASK_STATES.indexOf(t.status?.state ?? 'new');
  return live.reduce<Task | undefined>((best, t) => (best === undefined || rank(t) > rank(best) ? t : best), undefined) ?? newestFirstTasks[0];
}

function replace(plan: TaskPlan, svc: Service, unit: Unit, old: Task, input: ServiceSyncInput, restarts: number, why: string, tmpl: RevisionTemplate): void {
  plan.change(withDesiredShutdown(old, input.nowMs, `replaced: ${why}`), why);
  plan.create(newTask({ service: svc, slot: unit.slot, node: unit.node, nowMs: input.nowMs, identity: input.identity, restarts, template: tmpl.template, revision: tmpl.revision }), why);
}

/** Replaces tasks of older generations, at most update.parallelism in flight (0: all at once). */
function replaceOutdated(plan: TaskPlan, svc: Service, outdated: Array<{ unit: Unit; task: Task }>, input: ServiceSyncInput, isOld: (t: Task) => boolean, tmpl: RevisionTemplate): void {
  if (outdated.length === 0) return;
  const parallelism = svc.spec.update?.parallelism ?? 1;
  const inFlight = plan.tasks().filter((t) =>
    isDesiredRunning(t) && !isTerminal(t) && !isForeign(t, svc) && !isOld(t) && t.status?.state !== 'running').length;
  let allowed = parallelism <= 0 ? outdated.length : Math.max(0, parallelism - inFlight);
  for (const { unit, task } of outdated) {
    if (allowed <= 0) break;
    if (!unit.wanted) continue;
    replace(plan, svc, unit, task, input, 0, `service spec changed (revision ${tmpl.revision})`, tmpl);
    allowed--;
  }
}

/** Writes replicas / readyReplicas / observedGeneration / crashLoop when they changed. */
function statusAction(plan: TaskPlan, svc: Service, nowMs: number): void {
  const active = activeTasksOf(svc, plan.tasks());
  const loop = crashLoopOf(svc, plan.tasks(), nowMs);
  if (loop.wakeAtMs !== undefined) plan.wakeAt(loop.wakeAtMs);
  const { crashLoop: _old, ...rest } = svc.status ?? {};
  void _old;
  const next: ServiceStatus = {
    ...rest,
    replicas: active.length,
    readyReplicas: active.filter((t) => t.status?.state === 'running' && t.status.ready).length,
    observedGeneration: svc.metadata.generation,
    ...(loop.status !== undefined ? { crashLoop: loop.status } : {}),
  };
  const cur = svc.status ?? {};
  if (cur.replicas === next.replicas && cur.readyReplicas === next.readyReplicas && cur.observedGeneration === next.observedGeneration &&
    JSON.stringify(cur.crashLoop) === JSON.stringify(next.crashLoop)) return;
  plan.also({ type: 'update', object: { ...svc, status: next }, expectedRevision: svc.metadata.revision, reason: 'service status' });
}
