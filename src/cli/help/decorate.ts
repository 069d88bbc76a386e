/**
 * One walk over the finished command tree (program.ts calls it once) that adds what every
 * command shares: the "Examples:" section of its help (from examples.ts) and usage errors on
 * one line that say where ("unknown command 'stauts' for 'flotilla rollout' (did you mean
 * status?)"), whatever command file registered it.
 */
import type { Command } from 'commander';
import { EXAMPLES } from './examples.js';

/** A command of the tree with its path (`rollout status`). */
export interface CommandAt {
  path: string;
  command: Command;
}

/** True for commands registered with `{ hidden: true }` (not in help, not completed). */
export function isHidden(c: Command): boolean {
  // Commander keeps the flag private; the typings have no accessor for it.
  return (c as unknown as { _hidden?: boolean })._hidden === true;
}

/** Every visible command below `root`, depth first, with its path. */
export function commandsOf(root: Command, prefix: string[] = []): CommandAt[] {
  return root.commands.filter((c) => !isHidden(c)).flatMap((c) => {
    const path = [...prefix, c.name()];
    return [{ path: path.join(' '), command: c }, ...commandsOf(c, path)];
  });
}

/** The paths that have no entry in EXAMPLES (help.test.ts lists them). */
export function pathsWithoutExamples(root: Command): string[] {
  return commandsOf(root).map((c) => c.path).filter((p) => EXAMPLES[p] === undefined);
}

/** Commander's message for `where` in one line: its "(Did you mean x?)" line joined on. */
export function oneLineUsageError(message: string, where: string): string {
  const text = message.trimEnd().split('\n').map((l) => l.trim()).filter((l) => l !== '');
  let first = text[0] ?? 'error: wrong usage';
  if (where !== '' && /^error: unknown command '[^']*'$/.test(first)) first += ` for 'flotilla ${where}'`;
  const rest = text.slice(1).map((l) => l.replace(/^\(Did you mean (.*)\)$/, '(did you mean $1)'));
  return `${[first, ...rest].join(' ')}\n`;
}

/** Adds examples and one-line usage errors to every command of the tree. */
export function decorateCommands(root: Command): void {
  const wire = (c: Command, where: string): void => {
    const out = c.configureOutput();
    c.configureOutput({ ...out, outputError: (s, write) => write(oneLineUsageError(s, where)) });
  };
  wire(root, '');
  for (const { path, command } of commandsOf(root)) {
    wire(command, path);
    const lines = EXAMPLES[path];
    if (lines !== undefined) command.addHelpText('after', `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
  }
}
