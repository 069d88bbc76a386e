/**
 * `flotilla rollout status|history|undo [--to-revision N]|pause|resume|promote|restart
 * service NAME [-n NS]` (also `service/NAME`). status and history read the Service; the other
 * actions are one request each (POST .../rollout), applied by the server to the service as
 * stored, so a 409 says which state the rollout was really in.
 *
 *   status   ──► rollout-status.ts (poll, one line per change, exit 1 on rollback)
 *   history  ──► table of status.history, `*` on the revision the name serves
 *   pause|resume|promote|restart|undo ──► client.rolloutAction ──► `service/web paused`
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Service, ServiceRevision } from '../../api/kinds.js';
import type { ApiObject, ObjectKey } from '../../api/object.js';
import type { RolloutAction, RolloutActionRequest } from '../../api/rollout-actions.js';
import { revisionOfSpec } from '../../api/rollout.js';
import { objectKey, parseKind } from '../args.js';
import type { CliClient, CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { formatAge, orDash, renderTable } from '../format/table.js';
import { notFound } from './get.js';
import { parseDuration, watchRollout } from './rollout-status.js';

/** What the rollout actions need of the client beyond CliClient (ApiClient has it). */
export interface RolloutClient {
  rolloutAction(service: { name: string; namespace?: string }, req: RolloutActionRequest): Promise<ApiObject>;
}

/** The rollout part of the client, or a clear error when this client has none. */
export function rolloutClient(c: CliClient): RolloutClient {
  const r = c as CliClient & Partial<RolloutClient>;
  if (typeof r.rolloutAction !== 'function') throw new UsageError('this client cannot act on rollouts');
  return r as CliClient & RolloutClient;
}

/** `service NAME` or `service/NAME` (any spelling of the kind) to the service's key. */
export function parseServiceTarget(kindOrRef: string, name: string | undefined, namespace: string | undefined): ObjectKey {
  let kindText = kindOrRef;
  let serviceName = name;
  if (name === undefined) {
    const i = kindOrRef.indexOf('/');
    if (i < 0) throw new UsageError(`rollout ${kindOrRef}: expected service NAME or service/NAME`);
    kindText = kindOrRef.slice(0, i);
    serviceName = kindOrRef.slice(i + 1);
  } else if (kindOrRef.includes('/')) {
    throw new UsageError(`rollout ${kindOrRef} ${name}: expected service NAME or service/NAME, not both`);
  }
  if (serviceName === undefined || serviceName === '' || serviceName.includes('/')) throw new UsageError(`rollout ${kindOrRef}: expected service NAME or service/NAME`);
  if (parseKind(kindText) !== 'Service') throw new UsageError(`rollout works on services only, found "${kindText}"`);
  return objectKey('Service', serviceName, namespace);
}

/** Commander parser for `--to-revision`: an integer >= 1. */
function revisionNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`expected a revision number >= 1, found "${value}"`);
  return n;
}

/** Commander parser for the hidden `--poll-ms`. */
function pollMs(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`expected an integer >= 1, found "${value}"`);
  return n;
}

interface TargetOptions {
  namespace?: string;
}

/** Adds `<kind> [name]` and `-n` to a rollout subcommand. */
function withTarget(c: Command): Command {
  return c
    .argument('<kind>', 'service, or service/NAME')
    .argument('[name]', 'service name')
    .option('-n, --namespace <ns>', 'namespace (default: default)');
}

const ACTION_DONE: Record<Exclude<RolloutAction, 'undo'>, [description: string, done: string]> = {
  pause: ['pause the rollout in progress', 'paused'],
  resume: ['resume a paused rollout', 'resumed'],
  promote: ['promote a blue-green or canary rollout waiting for promotion', 'promoted'],
  restart: ['replace every task with a new one of the same spec (a new revision)', 'restarted'],
};

/** Registers `rollout` and its subcommands. */
export function registerRollout(program: Command, ctx: CliContext): void {
  const rollout = program.command('rollout').description('watch or steer the rollout of a service');
  withTarget(rollout.command('status').description('print the progress of the rollout and wait until it ends'))
    .addOption(new Option('--timeout <duration>', 'give up after this long (30s, 10m, 1h; 0: never)').argParser(parseDuration).default(600_000, '10m'))
    .option('--no-wait', 'print the state once and exit')
    .addOption(new Option('--poll-ms <ms>', 'milliseconds between reads').argParser(pollMs).default(500).hideHelp())
    .action(async (kind: string, name: string | undefined, opts: TargetOptions & { timeout: number; wait: boolean; pollMs: number }) => {
      const key = parseServiceTarget(kind, name, opts.namespace);
      await watchRollout(ctx, await ctx.client(), key, { wait: opts.wait, timeoutMs: opts.timeout, pollMs: opts.pollMs });
    });
  withTarget(rollout.command('history').description('list the revisions of a service'))
    .action(async (kind: string, name: string | undefined, opts: TargetOptions) => {
      const key = parseServiceTarget(kind, name, opts.namespace);
      const svc = await (await ctx.client()).get(key);
      if (svc === undefined) throw notFound('Service', key.name, key.namespace);
      const history = (svc as Service).status?.history ?? [];
      if (history.length === 0) ctx.io.err(`service ${key.name} has no revisions yet\n`);
      else ctx.io.out(renderHistory(svc as Service, ctx.now()));
    });
  withTarget(rollout.command('undo').description('go back to the previous revision, or to --to-revision N'))
    .option('--to-revision <n>', 'the revision to go back to (see rollout history)', revisionNumber)
    .action(async (kind: string, name: string | undefined, opts: TargetOptions & { toRevision?: number }) => {
      const key = parseServiceTarget(kind, name, opts.namespace);
      const req: RolloutActionRequest = { action: 'undo', ...(opts.toRevision !== undefined ? { toRevision: opts.toRevision } : {}) };
      const written = await act(ctx, key, req);
      const rev = revisionOfSpec(written)?.revision ?? opts.toRevision;
      ctx.io.out(`service/${key.name} undone${rev !== undefined ? ` to revision ${rev}` : ''}\n`);
    });
  for (const [action, [description, done]] of Object.entries(ACTION_DONE)) {
    withTarget(rollout.command(action).description(description)).action(async (kind: string, name: string | undefined, opts: TargetOptions) => {
      const key = parseServiceTarget(kind, name, opts.namespace);
      await act(ctx, key, { action: action as RolloutAction });
      ctx.io.out(`service/${key.name} ${done}\n`);
    });
  }
}

async function act(ctx: CliContext, key: ObjectKey, req: RolloutActionRequest): Promise<Service> {
  const client = rolloutClient(await ctx.client());
  return (await client.rolloutAction({ name: key.name, namespace: key.namespace }, req)) as Service;
}

/** The history table: REVISION (`*` on status.revision), IMAGE, CAUSE, CREATED; oldest first. */
export function renderHistory(svc: Service, now: Date): string {
  const history = [...(svc.status?.history ?? [])].sort((a, b) => a.revision - b.revision);
  const rows = history.map((h: ServiceRevision) => [
    `${h.revision}${h.revision === svc.status?.revision ? '*' : ''}`,
    orDash(h.image || h.template?.image),
    orDash(h.cause),
    h.createdAt ? `${formatAge(h.createdAt, now)} ago` : '-',
  ]);
  return renderTable(['REVISION', 'IMAGE', 'CAUSE', 'CREATED'], rows);
}
