/**
 * Commands of the CONTRACT whose work is not written yet, registered with their arguments so
 * that help and usage errors are right already; each fails with "not supported yet" (exit 2)
 * from this one place until its issue fills it in. `secret` is done (secret.ts), `image` too (image.ts).
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registerImageCommands } from './image.js';
import { registerSecretCommands } from './secret.js';

/** Registers the commands that used to be stubs here (secret, image). */
export function registerLaterCommands(program: Command, ctx: CliContext): void {
  registerSecretCommands(program, ctx);
  registerImageCommands(program, ctx);
}
