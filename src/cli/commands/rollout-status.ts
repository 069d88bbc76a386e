/**
 * `flotilla rollout status`: what the rollout of a service is doing, in one line, and waiting
 * for its end. The rollout controller writes the progress (status.rollout.message); this file
 * only reads the Service, every `pollMs`, and prints a line whenever that line changes:
 *
 *   get ──► rolloutView(svc) ──► line changed? print
 *             none | complete ────────────────► exit 0
 *             rolled-back | failed ───────────► line on stderr, exit 1
 *             pending | progressing ──────────► wait (--no-wait: exit 0)
 *             paused | waiting-promotion ─────► hint once, wait (--no-wait: exit 0)
 *             timeout ────────────────────────► error, exit 1
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError } from 'commander';
import { isRetryable } from '../../api/errors.js';
import type { Service } from '../../api/kinds.js';
import type { ObjectKey } from '../../api/object.js';
import { revisionOfSpec } from '../../api/rollout.js';
import type { CliClient, CliContext } from '../context.js';
import { CommandExitError } from '../errors.js';
import { notFound } from './get.js';

/** Where a rollout stands, as `rollout status` sees it. */
export type RolloutPhase = 'none' | 'pending' | 'progressing' | 'paused' | 'waiting-promotion' | 'complete' | 'failed';

/** One reading of a service's rollout: its phase and the line to print. */
export interface RolloutView {
  phase: RolloutPhase;
  line: string;
}

/**
 * The rollout of `svc` in one line. A spec whose revision is not (yet) the one status.rollout
 * is about is `pending`: the controller has not picked the change up, so a finished rollout
 * of the previous spec does not count as done.
 */
export function rolloutView(svc: Service): RolloutView {
  const name = svc.metadata.name;
  const st = svc.status;
  const r = st?.rollout;
  const specRev = revisionOfSpec(svc)?.revision;
  const recorded = specRev !== undefined || (st?.history ?? []).length === 0;
  if (r === undefined && recorded) {
    const rev = st?.revision ?? specRev;
    return { phase: 'none', line: `service ${name}: no rollout yet (${rev !== undefined ? `revision ${rev}` : 'no revision recorded yet'})` };
  }
  if (r === undefined || specRev !== r.revision) {
    const to = specRev !== undefined ? ` to revision ${specRev}` : '';
    return { phase: 'pending', line: `Waiting for rollout of ${name}${to} to start` };
  }
  const ready = `${st?.readyReplicas ?? 0}/${st?.replicas ?? 0} tasks ready`;
  switch (r.state) {
    case 'complete': return { phase: 'complete', line: `rollout of ${name} to revision ${r.revision} complete: ${ready}` };
    case 'rolled-back': return { phase: 'failed', line: `rollout of ${name} to revision ${r.from} ${r.message.startsWith('rolled back') ? r.message : `rolled back: ${r.message}`}` };
    case 'failed': return { phase: 'failed', line: `rollout of ${name} to revision ${r.revision} failed: ${r.message}` };
    default: return { phase: r.state, line: `Waiting for rollout of ${name} to revision ${r.revision}: ${r.message !== '' ? r.message : ready} (${r.state})` };
  }
}

/** How `rollout status` waits. */
export interface WaitOptions {
  /** False: print the state once and exit (--no-wait). */
  wait: boolean;
  /** Give up after this long; 0 waits for ever. */
  timeoutMs: number;
  pollMs: number;
}

/** Prints the rollout's progress until it ends (see the module comment); throws to exit non-zero. */
export async function watchRollout(ctx: CliContext, client: CliClient, key: ObjectKey, opts: WaitOptions): Promise<void> {
  const deadline = opts.timeoutMs > 0 ? Date.now() + opts.timeoutMs : Infinity;
  let last: RolloutView | undefined;
  let hinted: RolloutPhase | undefined;
  for (;;) {
    const view = await readView(client, key, deadline, last);
    if (view !== undefined && view.line !== last?.line) {
      if (view.phase === 'failed') {
        ctx.io.err(`${view.line}\n`);
        throw new CommandExitError(1);
      }
      ctx.io.out(`${view.line}\n`);
      if ((view.phase === 'paused' || view.phase === 'waiting-promotion') && hinted !== view.phase) {
        ctx.io.out(`${hint(view.phase, key)}\n`);
        hinted = view.phase;
      }
    }
    last = view ?? last;
    if (last !== undefined && (last.phase === 'none' || last.phase === 'complete' || !opts.wait)) return;
    if (Date.now() + opts.pollMs > deadline) {
      throw new Error(`timed out after ${formatDuration(opts.timeoutMs)} waiting for the rollout of ${key.name}${last !== undefined ? ` (${last.line})` : ''}`);
    }
    await sleep(opts.pollMs);
  }
}

/** One reading; undefined when the server could not be reached this time (retried until the deadline). */
async function readView(client: CliClient, key: ObjectKey, deadline: number, last: RolloutView | undefined): Promise<RolloutView | undefined> {
  try {
    const svc = await client.get(key);
    if (svc === undefined) throw notFound('Service', key.name, key.namespace);
    return rolloutView(svc as Service);
  } catch (err) {
    if (!isRetryable(err) || last === undefined || Date.now() > deadline) throw err;
    return undefined;
  }
}

function hint(phase: 'paused' | 'waiting-promotion', key: ObjectKey): string {
  const ns = key.namespace !== 'default' ? ` -n ${key.namespace}` : '';
  return phase === 'paused'
    ? `paused: run flotilla rollout resume service ${key.name}${ns}`
    : `waiting for promotion: run flotilla rollout promote service ${key.name}${ns}`;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Commander parser for `--timeout`: `500ms`, `30s`, `10m`, `1h`, or plain seconds; 0 = no limit. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (m === null) throw new InvalidArgumentError(`expected a duration such as 30s, 10m or 1h, found "${text}"`);
  return Math.round(Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 1000));
}

/** `10m`, `90s`, `1500ms`: the shortest exact form. */
export function formatDuration(ms: number): string {
  for (const unit of ['h', 'm', 's'] as const) {
    const size = UNIT_MS[unit] ?? 1;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
