/**
 * Commands of the CONTRACT whose work is not written yet, registered with their arguments so
 * that help and usage errors are right already. Each one fails with "not supported yet"
 * (exit 2) from this one place until its issue fills it in.
 */
import type { Command } from 'commander';
import { collect } from '../args.js';
import type { CliContext } from '../context.js';
import { NotImplementedError } from '../errors.js';

function notYet(what: string): () => Promise<void> {
  return () => Promise.reject(new NotImplementedError(what));
}

/** Registers secret. */
export function registerLaterCommands(program: Command, _ctx: CliContext): void {
  const secret = program.command('secret').description('manage secrets');
  secret
    .command('create')
    .description('create a secret from a file or a literal value')
    .argument('<name>', 'secret name')
    .option('--from-file <file>', 'read the value from a file (repeatable)', collect, [])
    .option('--from-literal <value>', 'the value itself (repeatable)', collect, [])
    .option('-n, --namespace <ns>', 'namespace (default: default)')
    .action(notYet('flotilla secret create'));
}
