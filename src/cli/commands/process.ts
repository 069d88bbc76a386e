/**
 * `flotilla up`, `flotilla agent` and `flotilla token create`, registered with their CONTRACT
 * flags. The flags are parsed into typed options here; the work is delegated to the adapter
 * functions at the top of this file, which are the only place to wire runUp (src/agent/up.ts),
 * runAgent (src/agent/run.ts) and token creation (the API client) in.
 */
import { Option, type Command } from 'commander';
import { join } from 'node:path';
import { collect, nonNegativeInt, parseLabelPairs } from '../args.js';
import type { CliContext } from '../context.js';
import { NotImplementedError } from '../errors.js';
import { DEFAULT_DATA_DIR, DEFAULT_LISTEN } from './server.js';

/** Options of `flotilla up`. */
export interface UpOptions {
  dataDir: string;
  listen: string;
}

/** Options of `flotilla agent`. */
export interface AgentOptions {
  server: string;
  token: string;
  dataDir: string;
  name?: string;
  labels: Record<string, string>;
  /** Hollow nodes to register instead of running real tasks. */
  simulate?: number;
}

/** Options of `flotilla token create`. */
export interface TokenCreateOptions {
  role: 'worker' | 'manager';
}

// ---- Adapters: replace these bodies to wire the real implementations in. ----

/** Runs server and agent in one process until SIGINT/SIGTERM (prints a `ready` line). */
export function upCommand(_opts: UpOptions, _ctx: CliContext): Promise<void> {
  return Promise.reject(new NotImplementedError('flotilla up'));
}

/** Runs a node agent until SIGINT/SIGTERM. */
export function agentCommand(_opts: AgentOptions, _ctx: CliContext): Promise<void> {
  return Promise.reject(new NotImplementedError('flotilla agent'));
}

/** Creates a join token through the API and prints it. */
export function tokenCreateCommand(_opts: TokenCreateOptions, _ctx: CliContext): Promise<void> {
  return Promise.reject(new NotImplementedError('flotilla token create'));
}

// ---- Registration ----

/** Registers `up`, `agent` and `token create`. */
export function registerProcessCommands(program: Command, ctx: CliContext): void {
  program
    .command('up')
    .description('run a single-node cluster (server and agent, embedded store) in the foreground')
    .option('--data-dir <dir>', 'state directory', DEFAULT_DATA_DIR)
    .option('--listen <host:port>', 'API address', DEFAULT_LISTEN)
    .action((opts: UpOptions) => upCommand(opts, ctx));

  program
    .command('agent')
    .description('run a node agent that joins a cluster (foreground)')
    .requiredOption('--server <url>', 'API server URL')
    .requiredOption('--token <token>', 'join token')
    .option('--data-dir <dir>', 'state directory', join(DEFAULT_DATA_DIR, 'agent'))
    .option('--name <name>', 'node name (default: the host name)')
    .option('--label <k=v>', 'node label (repeatable)', collect, [])
    .option('--simulate <n>', 'register N hollow nodes that run fake tasks', nonNegativeInt)
    .action((opts: { server: string; token: string; dataDir: string; name?: string; label: string[]; simulate?: number }) =>
      agentCommand(
        {
          server: opts.server,
          token: opts.token,
          dataDir: opts.dataDir,
          labels: parseLabelPairs(opts.label, '--label'),
          ...(opts.name !== undefined ? { name: opts.name } : {}),
          ...(opts.simulate !== undefined ? { simulate: opts.simulate } : {}),
        },
        ctx,
      ),
    );

  const token = program.command('token').description('manage join tokens');
  token
    .command('create')
    .description('create a join token for a worker or a manager')
    .addOption(new Option('--role <role>', 'role of the joining node').choices(['worker', 'manager']).default('worker'))
    .action((opts: TokenCreateOptions) => tokenCreateCommand(opts, ctx));
}
