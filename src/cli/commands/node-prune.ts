/**
 * `flotilla node prune NAME`: image garbage collection on one node now (the agent also runs it
 * by itself above its high-water mark). Goes through the API to the node's agent endpoint
 * (src/server/proxy/node-prune.ts) and prints what was removed and freed.
 */
import type { Command } from 'commander';
import { formatPrune, type PruneResult } from '../../agent/image/collector.js';
import type { CliClient, CliContext } from '../context.js';
import { UsageError } from '../errors.js';

/** What `node prune` needs of the client beyond CliClient (ApiClient has it). */
export interface NodePruneClient {
  pruneNode(name: string): Promise<PruneResult & { node: string }>;
}

/** Registers `node prune` under the `node` command. */
export function registerNodePrune(node: Command, ctx: CliContext): void {
  node
    .command('prune')
    .description('remove the images, layers and task root filesystems no task on the node uses, now')
    .argument('<name>', 'node name')
    .action(async (name: string) => {
      const c = (await ctx.client()) as CliClient & Partial<NodePruneClient>;
      if (typeof c.pruneNode !== 'function') throw new UsageError('this client cannot prune nodes');
      const r = await c.pruneNode(name);
      ctx.io.out(`node/${name}: ${formatPrune(r)}\n`);
    });
}
