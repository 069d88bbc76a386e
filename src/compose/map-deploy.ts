/**
 * `deploy` (and the service-level `restart` and `stop_grace_period`) into the Service spec:
 * mode and replicas, resources, placement, the update policy and the restart policy. What
 * Flotilla has no counterpart for is warned about, field by field.
 */
import type { MapContext, Path } from './context.js';
import type { ComposeDeploy, ComposeService, ComposeUpdateConfig } from './model.js';
import { byteQuantity, decimal, integer, wholeSeconds } from './units.js';

type Spec = Record<string, unknown>;

/** Sets mode, replicas, resources, placement, update, restart and stopGracePeriodSeconds on `spec`. */
export function mapDeploy(ctx: MapContext, base: Path, svc: ComposeService, spec: Spec): void {
  const d: ComposeDeploy = svc.deploy ?? {};
  const path = [...base, 'deploy'];
  const mode = d.mode ?? 'replicated';
  if (mode === 'global') spec.mode = 'global';
  else if (mode !== 'replicated') ctx.issue([...path, 'mode'], `replicated or global (${mode}: jobs are not supported yet)`, mode);
  if (d.replicas !== undefined) {
    if (mode === 'global') ctx.warn([...path, 'replicas'], 'ignored with mode: global (one task per eligible node)');
    else spec.replicas = integer(ctx, [...path, 'replicas'], d.replicas);
  }
  const resources = mapResources(ctx, [...path, 'resources'], d.resources);
  if (resources !== undefined) spec.resources = resources;
  const placement = mapPlacement(ctx, [...path, 'placement'], d.placement);
  if (placement !== undefined) spec.placement = placement;
  if (d.update_config !== undefined) spec.update = mapUpdate(ctx, [...path, 'update_config'], d.update_config);
  if (d.rollback_config !== undefined) ctx.warn([...path, 'rollback_config'], 'not supported: a rollback replaces tasks with the update policy (update_config)');
  if (d.endpoint_mode !== undefined && d.endpoint_mode !== 'vip') ctx.warn([...path, 'endpoint_mode'], `${String(d.endpoint_mode)} is not supported: the service name resolves to its virtual IP (tasks.NAME gives the task addresses)`);
  for (const field of Object.keys(d)) {
    if (!['mode', 'replicas', 'labels', 'resources', 'placement', 'update_config', 'rollback_config', 'restart_policy', 'endpoint_mode'].includes(field)) ctx.warn([...path, field], 'not supported by Flotilla: left out');
  }
  const restart = mapRestart(ctx, base, svc);
  if (restart !== undefined) spec.restart = restart;
  if (svc.stop_grace_period !== undefined) spec.stopGracePeriodSeconds = wholeSeconds(ctx, [...base, 'stop_grace_period'], svc.stop_grace_period);
}

function mapResources(ctx: MapContext, path: Path, r: ComposeDeploy['resources']): Spec | undefined {
  if (r === undefined) return undefined;
  const side = (key: 'limits' | 'reservations'): Spec => {
    const v = r[key];
    const out: Spec = {};
    if (v === undefined) return out;
    const p = [...path, key];
    if (v.cpus !== undefined) {
      const cpus = decimal(ctx, [...p, 'cpus'], v.cpus);
      if (cpus !== undefined) out.cpu = String(cpus);
    }
    if (v.memory !== undefined) out.memory = byteQuantity(ctx, [...p, 'memory'], v.memory);
    if (key === 'limits' && v.pids !== undefined) out.pids = integer(ctx, [...p, 'pids'], v.pids, 1);
    for (const field of Object.keys(v)) {
      if (!['cpus', 'memory', ...(key === 'limits' ? ['pids'] : [])].includes(field)) ctx.warn([...p, field], `not supported: Flotilla ${key === 'limits' ? 'limits' : 'reserves'} cpu, memory${key === 'limits' ? ' and pids' : ''} only`);
    }
    return out;
  };
  return { limits: side('limits'), requests: side('reservations') };
}

function mapPlacement(ctx: MapContext, path: Path, p: ComposeDeploy['placement']): Spec | undefined {
  if (p === undefined) return undefined;
  // Swarm's node.hostname is the node's name in Flotilla.
  const constraints = (p.constraints ?? []).map((c) => c.replace(/^\s*node\.hostname\b/, 'node.name'));
  const spread: string[] = [];
  (p.preferences ?? []).forEach((pref, i) => {
    if (pref.spread !== undefined) spread.push(pref.spread);
    else ctx.warn([...path, 'preferences', i], 'only spread preferences are supported: left out');
  });
  if (p.max_replicas_per_node !== undefined) ctx.warn([...path, 'max_replicas_per_node'], 'not supported yet: no per-node limit (spread over node labels instead)');
  return { constraints, spread };
}

function mapUpdate(ctx: MapContext, path: Path, u: ComposeUpdateConfig): Spec {
  const out: Spec = { strategy: 'rolling' };
  if (u.parallelism !== undefined) out.parallelism = integer(ctx, [...path, 'parallelism'], u.parallelism);
  if (u.delay !== undefined) out.delaySeconds = wholeSeconds(ctx, [...path, 'delay'], u.delay);
  if (u.monitor !== undefined) out.monitorSeconds = wholeSeconds(ctx, [...path, 'monitor'], u.monitor);
  if (u.max_failure_ratio !== undefined) out.maxFailureRatio = decimal(ctx, [...path, 'max_failure_ratio'], u.max_failure_ratio, 0, 1);
  if (u.failure_action !== undefined) {
    if (['continue', 'rollback', 'pause'].includes(u.failure_action)) out.failureAction = u.failure_action;
    else ctx.issue([...path, 'failure_action'], 'continue, rollback or pause', u.failure_action);
  }
  if (u.order !== undefined) {
    if (u.order === 'start-first' || u.order === 'stop-first') out.order = u.order;
    else ctx.issue([...path, 'order'], 'start-first or stop-first', u.order);
  }
  return out;
}

const RESTART_CONDITIONS: Record<string, string> = { none: 'none', no: 'none', 'on-failure': 'on-failure', any: 'any', always: 'any', 'unless-stopped': 'any' };

/** deploy.restart_policy, else the service's `restart` (no | always | on-failure[:N] | unless-stopped). */
function mapRestart(ctx: MapContext, base: Path, svc: ComposeService): Spec | undefined {
  const rp = svc.deploy?.restart_policy;
  if (rp === undefined) {
    if (svc.restart === undefined) return undefined;
    const [word, max] = svc.restart.split(':');
    const condition = RESTART_CONDITIONS[word ?? ''];
    if (condition === undefined) {
      ctx.issue([...base, 'restart'], 'no, always, on-failure[:N] or unless-stopped', svc.restart);
      return undefined;
    }
    if (max !== undefined) ctx.warn([...base, 'restart'], `the limit of ${max} restarts is not supported: Flotilla restarts with exponential backoff, without a limit`);
    return { condition };
  }
  const path = [...base, 'deploy', 'restart_policy'];
  const out: Spec = {};
  if (rp.condition !== undefined) out.condition = RESTART_CONDITIONS[rp.condition] ?? rp.condition;
  if (rp.delay !== undefined) {
    const delay = wholeSeconds(ctx, [...path, 'delay'], rp.delay);
    if (delay !== undefined) {
      out.delaySeconds = delay;
      out.maxDelaySeconds = Math.max(60, delay);
    }
  }
  if (rp.max_attempts !== undefined && String(rp.max_attempts) !== '0') ctx.warn([...path, 'max_attempts'], 'not supported: Flotilla restarts with exponential backoff, without a limit');
  if (rp.window !== undefined) ctx.warn([...path, 'window'], 'not supported: every exit counts as a failure for the backoff');
  return out;
}
