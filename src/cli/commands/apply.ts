/**
 * `flotilla apply -f FILE|-`: validate every document locally, then send them all in one
 * server-side transaction (all or nothing), and print what happened to each object.
 */
import type { Command } from 'commander';
import { displayName } from '../args.js';
import type { CliContext } from '../context.js';
import { readManifests } from '../manifests.js';

/** Registers `apply`. */
export function registerApply(program: Command, ctx: CliContext): void {
  program
    .command('apply')
    .description('create or update the objects of a multi-document YAML file (idempotent)')
    .requiredOption('-f, --filename <file>', 'YAML file, or - for stdin')
    .action(async (opts: { filename: string }) => {
      const objects = await readManifests(opts.filename, ctx);
      const client = await ctx.client();
      const results = await client.apply(objects);
      for (const r of results) ctx.io.out(`${displayName(r)} ${r.action}\n`);
    });
}
