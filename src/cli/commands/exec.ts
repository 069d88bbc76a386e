/**
 * `flotilla exec TASK [-n NS] -- COMMAND [ARG...]`: runs a command inside a running task (no
 * terminal, no stdin), through the API server and the task's agent. Its stdout and stderr are
 * the CLI's; the CLI exits with the command's exit status (137 when it was killed, 127 when the
 * command does not exist in the container).
 */
import { StringDecoder } from 'node:string_decoder';
import type { Command } from 'commander';
import type { ExecRequest } from '../../api/frames.js';
import type { ExecOutcome, ExecSinks } from '../../client/streams.js';
import type { CliClient, CliContext } from '../context.js';
import { CommandExitError, UsageError } from '../errors.js';

/** What `exec` needs of the client beyond CliClient (ApiClient has it). */
export interface ExecClient {
  exec(task: { name: string; namespace?: string }, req: ExecRequest, sinks: ExecSinks, signal?: AbortSignal): Promise<ExecOutcome>;
}

/** The exec part of the client, or a clear error when this client has none. */
export function execClient(c: CliClient): ExecClient {
  const e = c as CliClient & Partial<ExecClient>;
  if (typeof e.exec !== 'function') throw new UsageError('this client cannot exec');
  return e as CliClient & ExecClient;
}

/** Registers `exec`. */
export function registerExec(program: Command, ctx: CliContext): void {
  program
    .command('exec')
    .description('run a command inside a running task')
    .argument('<task>', 'task name')
    .argument('<command...>', 'command and arguments (after --)')
    .option('-n, --namespace <ns>', 'namespace (default: default)')
    .option('--timeout <seconds>', 'kill the command after this many seconds', positiveNumber)
    .action(async (task: string, command: string[], opts: { namespace?: string; timeout?: number }) => {
      const client = execClient(await ctx.client());
      const out = new StringDecoder('utf8');
      const err = new StringDecoder('utf8');
      const req: ExecRequest = { command, ...(opts.timeout !== undefined ? { timeoutSeconds: opts.timeout } : {}) };
      const r = await client.exec({ name: task, ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}) }, req, {
        stdout: (b) => ctx.io.out(out.write(b)),
        stderr: (b) => ctx.io.err(err.write(b)),
      });
      ctx.io.out(out.end());
      ctx.io.err(err.end());
      if (r.timedOut === true) throw new CommandExitError(r.exitCode, `command killed after ${opts.timeout ?? '?'} s`);
      if (r.exitCode !== 0) throw new CommandExitError(r.exitCode);
    });
}

function positiveNumber(v: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new UsageError(`--timeout: expected a number of seconds > 0, found "${v}"`);
  return n;
}
