/**
 * `flotilla completion bash|zsh` prints the shell script; `flotilla __complete WORD...` (called
 * by that script, not by users, so not in the tree or in help) prints the candidates for the
 * last word, one a line (completion/complete.ts). Object names come from the API with a short
 * deadline; any failure there only means no names are offered.
 */
import { Argument, type Command } from 'commander';
import { CLUSTER_SCOPED, type Kind } from '../../api/object.js';
import { completionLines, completions, type NameLister } from '../completion/complete.js';
import { completionScript } from '../completion/scripts.js';
import type { CliContext } from '../context.js';

/** The word the scripts call; runCli hands it over before commander parses anything. */
export const COMPLETE_COMMAND = '__complete';

/** How long a TAB may wait for object names. */
const NAMES_DEADLINE_MS = 3000;

/** Registers `completion`. */
export function registerCompletion(program: Command, ctx: CliContext): void {
  program
    .command('completion')
    .description('print the shell completion script for bash or zsh')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(['bash', 'zsh']))
    .action((shell: 'bash' | 'zsh') => ctx.io.out(completionScript(shell)));
}

/** Lists names through the client the context opens, quietly giving [] when that fails. */
function apiNames(ctx: CliContext): NameLister {
  return async (kind: Kind, namespace: string | undefined, configPath: string | undefined) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const client = await ctx.deps.openClient(configPath ?? ctx.configPath);
      try {
        const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('deadline')), NAMES_DEADLINE_MS)));
        const { items } = await Promise.race([client.list(kind, CLUSTER_SCOPED.has(kind) || namespace === undefined ? {} : { namespace }), deadline]);
        return [...new Set(items.map((o) => o.metadata.name))].sort();
      } finally {
        await client.close().catch(() => undefined);
      }
    } catch {
      return [];
    } finally {
      clearTimeout(timer);
    }
  };
}

/** Runs `__complete WORDS...`: prints the candidates; always exit 0. */
export async function runComplete(program: Command, ctx: CliContext, words: string[]): Promise<number> {
  try {
    ctx.io.out(completionLines(await completions(program, words.length > 0 ? words : [''], apiNames(ctx))));
  } catch {
    // A completion never fails loudly: the shell falls back to file names.
  }
  return 0;
}
