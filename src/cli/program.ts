/**
 * Builds the `flotilla` command tree and runs one invocation: parse, run the action, close the
 * client, and turn any failure into its exit status and one stderr line per problem. main.ts
 * calls this with the real process; tests call it with fakes.
 */
import { Command, CommanderError } from 'commander';
import { CliContext, type CliDeps } from './context.js';
import { errorLines, exitCodeOf } from './errors.js';
import { registerAccess } from './commands/access.js';
import { registerApply } from './commands/apply.js';
import { COMPLETE_COMMAND, registerCompletion, runComplete } from './commands/completion.js';
import { registerCertificates } from './commands/ca.js';
import { registerDelete } from './commands/delete.js';
import { registerDescribe } from './commands/describe.js';
import { registerEvents } from './commands/events.js';
import { registerExec } from './commands/exec.js';
import { registerGet } from './commands/get.js';
import { registerLaterCommands } from './commands/later.js';
import { registerLogs } from './commands/logs.js';
import { registerNode } from './commands/node.js';
import { registerProcessCommands } from './commands/process.js';
import { registerRegistryCommands } from './commands/registry.js';
import { registerRollout } from './commands/rollout.js';
import { registerScale } from './commands/scale.js';
import { registerServer } from './commands/server.js';
import { registerTop } from './commands/top.js';
import { registerExplain } from './commands/explain.js';
import { registerVersion } from './commands/version.js';
import { decorateCommands } from './help/decorate.js';
import { registerStack } from './commands/stack.js';

/** The whole command tree, bound to one context. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('flotilla')
    .description('Flotilla: run containers on a cluster of machines')
    .option('--config <file>', 'client config (default: $FLOTILLA_CONFIG, then /var/lib/flotilla/admin.json)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.io.out(s),
      writeErr: (s) => ctx.io.err(s),
      outputError: (s, write) => write(s),
    })
    .showSuggestionAfterError(true);
  program.hook('preAction', () => {
    ctx.configPath = program.opts<{ config?: string }>().config;
  });
  registerServer(program, ctx);
  registerProcessCommands(program, ctx);
  registerApply(program, ctx);
  registerGet(program, ctx);
  registerDescribe(program, ctx);
  registerDelete(program, ctx);
  registerScale(program, ctx);
  registerRollout(program, ctx);
  registerLogs(program, ctx);
  registerExec(program, ctx);
  registerEvents(program, ctx);
  registerTop(program, ctx);
  registerNode(program, ctx);
  registerCertificates(program, ctx);
  registerAccess(program, ctx);
  registerStack(program, ctx);
  registerLaterCommands(program, ctx);
  registerCompletion(program, ctx);
  registerExplain(program, ctx);
  registerVersion(program, ctx);
  registerRegistryCommands(program, ctx);
  decorateCommands(program);
  return program;
}

/** Runs one invocation (argv without `node` and the script) and returns its exit status. */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  const ctx = new CliContext(deps);
  const program = buildProgram(ctx);
  try {
    if (argv[0] === COMPLETE_COMMAND) return await runComplete(program, ctx, argv.slice(1));
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    // Commander has already printed its own one-line message (or the help text).
    if (!(err instanceof CommanderError)) {
      for (const line of errorLines(err)) deps.io.err(`${line}\n`);
      if (deps.env.FLOTILLA_DEBUG === '1' && err instanceof Error) deps.io.err(`${err.stack ?? ''}\n`);
    }
    return exitCodeOf(err);
  } finally {
    await ctx.close();
  }
}
