/**
 * `healthcheck` into probes. Swarm routes to a task only once it is healthy and replaces a task
 * that turns unhealthy, so one healthcheck becomes two probes running the same command: a
 * readiness probe (traffic) and a liveness probe (replacement). `start_period` becomes a
 * startup probe (the others wait for its first success), probing every `start_interval`.
 * Docker's defaults apply: interval 30s, timeout 30s, retries 3, start_interval 5s.
 */
import type { MapContext, Path } from './context.js';
import type { ComposeHealthcheck } from './model.js';
import { boolean, integer, wholeSeconds } from './units.js';

/** A probe as the API takes it. */
export interface ProbeOut {
  exec: { command: string[] };
  periodSeconds: number;
  timeoutSeconds: number;
  failureThreshold: number;
  successThreshold?: number;
}

/** The probes of one healthcheck (empty when it is disabled or absent). */
export function mapHealthcheck(ctx: MapContext, base: Path, hc: ComposeHealthcheck | undefined): { readiness?: ProbeOut; liveness?: ProbeOut; startup?: ProbeOut } {
  if (hc === undefined) return {};
  const path = [...base, 'healthcheck'];
  if (hc.disable !== undefined && boolean(ctx, [...path, 'disable'], hc.disable) === true) return {};
  const command = testCommand(ctx, [...path, 'test'], hc.test);
  if (command === undefined) return {};
  const period = hc.interval !== undefined ? wholeSeconds(ctx, [...path, 'interval'], hc.interval, 1) : 30;
  const timeout = hc.timeout !== undefined ? wholeSeconds(ctx, [...path, 'timeout'], hc.timeout, 1) : 30;
  const retries = hc.retries !== undefined ? integer(ctx, [...path, 'retries'], hc.retries, 1) : 3;
  if (period === undefined || timeout === undefined || retries === undefined) return {};
  const probe: ProbeOut = { exec: { command }, periodSeconds: period, timeoutSeconds: timeout, failureThreshold: retries };
  const out: { readiness?: ProbeOut; liveness?: ProbeOut; startup?: ProbeOut } = { readiness: probe, liveness: { ...probe, exec: { command: [...command] } } };
  const start = hc.start_period !== undefined ? wholeSeconds(ctx, [...path, 'start_period'], hc.start_period) : 0;
  if (start !== undefined && start > 0) {
    const every = hc.start_interval !== undefined ? wholeSeconds(ctx, [...path, 'start_interval'], hc.start_interval, 1) ?? 5 : Math.min(5, period);
    out.startup = { exec: { command: [...command] }, periodSeconds: every, timeoutSeconds: timeout, failureThreshold: Math.ceil(start / every) + retries };
  } else if (hc.start_interval !== undefined) {
    ctx.warn([...path, 'start_interval'], 'only used with start_period: left out');
  }
  return out;
}

/** The command a healthcheck `test` runs, or undefined for NONE (or a bad test, with an issue). */
function testCommand(ctx: MapContext, path: Path, test: string | string[] | undefined): string[] | undefined {
  if (test === undefined) {
    ctx.warn(path, 'no test: the image\'s own HEALTHCHECK is not read by Flotilla, so the service has no probe');
    return undefined;
  }
  if (typeof test === 'string') return test === '' ? undefined : ['/bin/sh', '-c', test];
  const [kind, ...rest] = test;
  if (kind === 'NONE') return undefined;
  if (kind === 'CMD' && rest.length > 0) return rest;
  if (kind === 'CMD-SHELL' && rest.length > 0) return ['/bin/sh', '-c', rest.join(' ')];
  ctx.issue(path, 'a test like ["CMD", "curl", "-f", "http://localhost"], ["CMD-SHELL", "..."], ["NONE"] or a shell string', test);
  return undefined;
}
