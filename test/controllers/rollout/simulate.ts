/**
 * A deterministic, in-memory run of the service controller's and the rollout controller's pure
 * decisions with a pretend agent (fakes in a unit test; the e2e tests run the real thing): each
 * tick applies computeServiceActions, then computeRollout, then one agent round, then moves
 * the clock. Images listed in `neverReady` run but their readiness probe fails.
 */
import type { ApiObject } from '../../../src/api/object.js';
import type { Service, ServiceSpec, Task } from '../../../src/api/kinds.js';
import type { Action } from '../../../src/controllers/framework/apply.js';
import { pullWaitMessage } from '../../../src/api/pull-wait.js';
import { computeRollout } from '../../../src/controllers/rollout/compute.js';
import { computeServiceActions } from '../../../src/controllers/service/compute.js';
import { isTerminal } from '../../../src/controllers/service/tasks.js';
import { counterIdentity, service, T0 } from '../fixtures.js';

/** What the simulation observes after each tick. */
export interface Observation {
  nowMs: number;
  desiredRunning: number;
  readyRunning: number;
  byImage: Record<string, number>;
}

/** See the file comment. */
export class Simulation {
  svc: Service;
  tasks = new Map<string, Task>();
  nowMs = T0;
  readonly seen: Observation[] = [];
  private rev = 100;
  private readonly identity = counterIdentity();
  /** Images whose pull fails for a transient reason (registry down): their tasks stay preparing and retry. */
  readonly registryDown = new Set<string>();

  constructor(spec: Partial<ServiceSpec>, private readonly neverReady: ReadonlySet<string> = new Set(), private readonly tickMs = 500) {
    this.svc = service('web', spec);
  }

  /** Changes the spec as `apply` would (generation + 1). */
  applySpec(over: Partial<ServiceSpec>): void {
    this.svc = { ...this.svc, metadata: { ...this.svc.metadata, generation: this.svc.metadata.generation + 1, revision: ++this.rev }, spec: { ...this.svc.spec, ...over } };
  }

  /** Replaces the service object (an API rollout action's result). */
  setService(s: Service): void {
    this.svc = { ...s, metadata: { ...s.metadata, revision: ++this.rev } };
  }

  private write(a: Action): void {
    if (a.type === 'delete') return;
    const o: ApiObject = { ...a.object, metadata: { ...a.object.metadata, revision: ++this.rev } };
    if (o.kind === 'Service') this.svc = o as Service;
    else this.tasks.set(o.metadata.name, o as Task);
  }

  /** One tick: service controller, rollout controller, agent, clock. */
  tick(): void {
    const plan = computeServiceActions({ namespace: 'default', name: 'web', service: this.svc, tasks: [...this.tasks.values()], nodes: [], hasNode: () => true, nowMs: this.nowMs, identity: this.identity });
    for (const a of plan.actions) this.write(a);
    const d = computeRollout({ service: this.svc, tasks: [...this.tasks.values()], nowMs: this.nowMs });
    if (d.next !== undefined) this.write({ type: 'update', object: d.next, expectedRevision: 0, reason: d.reason });
    this.agentRound();
    this.observe();
    this.nowMs += this.tickMs;
  }

  /** Ticks until `done` or `maxTicks`; returns whether `done` held. */
  run(done: (s: Simulation) => boolean, maxTicks = 400): boolean {
    for (let i = 0; i < maxTicks; i++) {
      this.tick();
      if (done(this)) return true;
    }
    return false;
  }

  private agentRound(): void {
    const now = new Date(this.nowMs).toISOString();
    for (const t of [...this.tasks.values()]) {
      if (isTerminal(t)) continue;
      const status = t.status ?? { state: 'new' as const, desiredState: 'running' as const, ready: false, timestamp: now };
      if (t.spec.desiredState === 'shutdown') {
        this.tasks.set(t.metadata.name, { ...t, status: { ...status, state: 'shutdown', ready: false, timestamp: now } });
        continue;
      }
      if (status.state === 'running') continue;
      if (this.registryDown.has(t.spec.image)) {
        const message = pullWaitMessage(t.spec.image, `GET manifest ${t.spec.image}: registry registry.local unreachable: connect ECONNREFUSED`, 1, 1000);
        this.tasks.set(t.metadata.name, { ...t, spec: { ...t.spec, node: 'n1' }, status: { ...status, state: 'preparing', ready: false, timestamp: now, message } });
        continue;
      }
      const bad = this.neverReady.has(t.spec.image);
      const probes = bad ? { readiness: { result: 'failure' as const, message: 'HTTP 503', consecutive: 3, time: now } } : undefined;
      const next: Task = { ...t, spec: { ...t.spec, node: 'n1' }, status: { ...status, state: 'running', ready: !bad, timestamp: now, ...(bad ? { probes } : { readySince: now }) } };
      this.tasks.set(t.metadata.name, next);
    }
  }

  /** Tasks desired running. */
  live(): Task[] {
    return [...this.tasks.values()].filter((t) => t.spec.desiredState === 'running' && !isTerminal(t));
  }

  private observe(): void {
    const live = this.live();
    const byImage: Record<string, number> = {};
    for (const t of live) byImage[t.spec.image] = (byImage[t.spec.image] ?? 0) + 1;
    this.seen.push({ nowMs: this.nowMs, desiredRunning: live.length, readyRunning: live.filter((t) => t.status?.state === 'running' && t.status.ready).length, byImage });
  }
}
