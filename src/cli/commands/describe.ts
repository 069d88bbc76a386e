/**
 * `flotilla describe KIND NAME`: the object in a readable form, with its service's tasks and
 * the events about it (Events whose spec.involved is `Kind/namespace/name`).
 */
import type { Command } from 'commander';
import type { ApiObject, ObjectKey } from '../../api/object.js';
import { keyString } from '../../api/object.js';
import { objectKey, parseKind } from '../args.js';
import type { CliClient, CliContext } from '../context.js';
import { describeObject, type Related } from '../format/describe.js';
import { notFound } from './get.js';
import type { Service, Task } from '../../api/kinds.js';
import { policyTasks } from '../../agent/netpol/select.js';

/** Registers `describe`. */
export function registerDescribe(program: Command, ctx: CliContext): void {
  program
    .command('describe')
    .description('show one object in detail, with related tasks and events')
    .argument('<kind>', 'kind, singular or plural')
    .argument('<name>', 'object name')
    .option('-n, --namespace <ns>', 'namespace (default: default)')
    .action(async (kindArg: string, name: string, opts: { namespace?: string }) => {
      const kind = parseKind(kindArg);
      const key = objectKey(kind, name, opts.namespace);
      const client = await ctx.client();
      const obj = await client.get(key);
      if (obj === undefined) throw notFound(kind, name, key.namespace);
      const related = await relatedTo(client, obj);
      ctx.io.out(describeObject(obj, related, ctx.now()));
    });
}

/** Fetches the tasks of a service and the events about any object. */
export async function relatedTo(client: CliClient, obj: ApiObject): Promise<Related> {
  const key: ObjectKey = { kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name };
  const involved = keyString(key);
  const nsOpt = key.namespace !== '' ? { namespace: key.namespace } : {};
  const events = (await client.list('Event', nsOpt)).items.filter((e) => (e.spec as { involved?: string } | undefined)?.involved === involved);
  if (obj.kind === 'NetworkPolicy') {
    const [tasks, services] = await Promise.all([client.list('Task', {}), client.list('Service', {})]);
    return { events, policyTasks: policyTasks(tasks.items as Task[], services.items as Service[]) };
  }
  if (obj.kind !== 'Service') return { events };
  const tasks = (await client.list('Task', nsOpt)).items.filter((t) => (t.spec as { service?: string } | undefined)?.service === key.name);
  return { tasks, events };
}
