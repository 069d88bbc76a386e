/**
 * `flotilla logs TASK | service/NAME [--follow] [--tail N] [-n NS]`: the output of a task, or of
 * every task of a service with each line prefixed `[TASK] `, read through the API server from
 * the agents. Lines the container wrote to stdout go to stdout, stderr lines to stderr (as
 * `docker logs` does). A failure inside the stream (a node unreachable) is printed and makes
 * the exit status 1 once the rest is printed.
 */
import type { Command } from 'commander';
import { errorFromJSON } from '../../api/errors.js';
import { isErrorFrame, type LogFrame, type LogQuery } from '../../api/frames.js';
import type { LogTarget } from '../../client/streams.js';
import { nonNegativeInt } from '../args.js';
import type { CliClient, CliContext } from '../context.js';
import { MultiError, UsageError } from '../errors.js';

/** What `logs` needs of the client beyond CliClient (ApiClient has it). */
export interface LogsClient {
  logs(target: LogTarget, q: LogQuery, signal?: AbortSignal): AsyncIterable<LogFrame>;
}

/** `TASK`, `task/TASK` or `service/NAME` (also `services/`, `svc/`). */
export function parseLogTarget(text: string, namespace?: string): LogTarget {
  const i = text.indexOf('/');
  const ns = namespace !== undefined ? { namespace } : {};
  if (i < 0) return { kind: 'task', name: text, ...ns };
  const kind = text.slice(0, i).toLowerCase();
  const name = text.slice(i + 1);
  if (name === '' || name.includes('/')) throw new UsageError(`logs ${text}: expected TASK or service/NAME`);
  if (kind === 'task' || kind === 'tasks') return { kind: 'task', name, ...ns };
  if (kind === 'service' || kind === 'services' || kind === 'svc') return { kind: 'service', name, ...ns };
  throw new UsageError(`logs ${text}: expected TASK or service/NAME, found kind "${kind}"`);
}

/** The streaming part of the client, or a clear error when this client has none. */
export function logsClient(c: CliClient): LogsClient {
  const l = c as CliClient & Partial<LogsClient>;
  if (typeof l.logs !== 'function') throw new UsageError('this client cannot stream logs');
  return l as CliClient & LogsClient;
}

/** Registers `logs`. */
export function registerLogs(program: Command, ctx: CliContext): void {
  program
    .command('logs')
    .description('print the output of a task, or of every task of service/NAME')
    .argument('<target>', 'TASK or service/NAME')
    .option('-n, --namespace <ns>', 'namespace (default: default)')
    .option('-f, --follow', 'keep printing new output until the container ends')
    .option('--tail <n>', 'only the last N lines (per task)', nonNegativeInt)
    .action(async (text: string, opts: { namespace?: string; follow?: boolean; tail?: number }) => {
      const target = parseLogTarget(text, opts.namespace);
      const client = logsClient(await ctx.client());
      const q: LogQuery = { follow: opts.follow === true, ...(opts.tail !== undefined ? { tail: opts.tail } : {}) };
      const failures: Error[] = [];
      for await (const f of client.logs(target, q)) {
        const failure = printFrame(ctx, f, target.kind === 'service');
        if (failure !== undefined) failures.push(failure);
      }
      if (failures.length === 1) throw failures[0];
      if (failures.length > 1) throw new MultiError(failures);
    });
}

/** Prints one frame; returns the error an error frame carries. */
export function printFrame(ctx: CliContext, f: LogFrame, prefixed: boolean): Error | undefined {
  if (isErrorFrame(f)) {
    const err = errorFromJSON(f.error);
    if (f.task !== undefined) err.message = `task ${f.task}: ${err.message}`;
    return err;
  }
  const text = `${prefixed && f.task !== undefined ? `[${f.task}] ` : ''}${f.line}\n`;
  if (f.stream === 'stderr') ctx.io.err(text);
  else ctx.io.out(text);
  return undefined;
}
