/**
 * `flotilla scale service NAME --replicas N`: read, set spec.replicas, update with the read
 * revision as the expected one; on a conflict (someone wrote in between) read again and retry
 * once. Global services have no replica count and are refused.
 */
import type { Command } from 'commander';
import { ConflictError } from '../../api/errors.js';
import type { ServiceSpec } from '../../api/kinds.js';
import type { ObjectKey } from '../../api/object.js';
import { nonNegativeInt, objectKey, parseKind } from '../args.js';
import type { CliClient, CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { notFound } from './get.js';

/** Registers `scale`. */
export function registerScale(program: Command, ctx: CliContext): void {
  program
    .command('scale')
    .description('set the number of replicas of a replicated service')
    .argument('<kind>', 'service')
    .argument('<name>', 'service name')
    .requiredOption('--replicas <n>', 'desired number of replicas (an integer >= 0)', nonNegativeInt)
    .option('-n, --namespace <ns>', 'namespace (default: default)')
    .action(async (kindArg: string, name: string, opts: { replicas: number; namespace?: string }) => {
      if (parseKind(kindArg) !== 'Service') throw new UsageError(`scale works on services only, found "${kindArg}"`);
      const key = objectKey('Service', name, opts.namespace);
      const client = await ctx.client();
      try {
        await scaleOnce(client, key, opts.replicas);
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        await scaleOnce(client, key, opts.replicas);
      }
      ctx.io.out(`service/${name} scaled to ${opts.replicas}\n`);
    });
}

/** One read-modify-write with the read revision as the expected one. */
export async function scaleOnce(client: CliClient, key: ObjectKey, replicas: number): Promise<void> {
  const svc = await client.get(key);
  if (svc === undefined) throw notFound('Service', key.name, key.namespace);
  const spec = svc.spec as ServiceSpec;
  if (spec.mode === 'global') {
    throw new UsageError(`service/${key.name} is global (one task on every eligible node): it has no replica count to scale`);
  }
  if (spec.autoscale !== undefined) {
    throw new UsageError(`service/${key.name} is autoscaled (min ${spec.autoscale.min}, max ${spec.autoscale.max}): change autoscale.min and autoscale.max instead of scaling it`);
  }
  if (spec.replicas === replicas) return;
  await client.update({ ...svc, spec: { ...spec, replicas } }, svc.metadata.revision);
}
