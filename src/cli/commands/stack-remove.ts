/**
 * Deletes a set of stack objects in the order the cluster accepts: services first, then (once
 * no task of theirs is meant to run any more, so no volume is in use) secrets, configs and
 * volumes. Used by `stack rm` and by `stack deploy --prune`. A volume still in use (409) is
 * tried again until `timeoutMs`.
 */
import { ConflictError, NotFoundError } from '../../api/errors.js';
import { keyOf, type ApiObject } from '../../api/object.js';
import type { TaskSpec } from '../../api/kinds.js';
import { sleep } from '../../lifecycle.js';
import type { CliClient, CliIO } from '../context.js';

/** How often the stack commands look again while they wait. */
export const POLL_MS = 500;

/** Deletes `objects`, printing `kind/name deleted` for each. */
export async function removeStackObjects(client: CliClient, io: CliIO, objects: ApiObject[], timeoutMs: number): Promise<void> {
  const services = objects.filter((o) => o.kind === 'Service');
  const rest = objects.filter((o) => o.kind !== 'Service').sort((a, b) => Number(a.kind === 'Volume') - Number(b.kind === 'Volume'));
  for (const o of services) await deleteOne(client, io, o);
  const deadline = Date.now() + timeoutMs;
  if (services.length > 0 && rest.length > 0) await tasksStopped(client, services, deadline);
  for (const o of rest) {
    for (;;) {
      try {
        await deleteOne(client, io, o);
        break;
      } catch (err) {
        if (!(err instanceof ConflictError) || Date.now() > deadline) throw err;
        await sleep(POLL_MS);
      }
    }
  }
}

async function deleteOne(client: CliClient, io: CliIO, o: ApiObject): Promise<void> {
  try {
    await client.delete(keyOf(o));
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  io.out(`${o.kind.toLowerCase()}/${o.metadata.name} deleted\n`);
}

/** Waits (until the deadline) for no task of `services` to be meant running. */
async function tasksStopped(client: CliClient, services: ApiObject[], deadline: number): Promise<void> {
  const names = new Set(services.map((s) => `${s.metadata.namespace}/${s.metadata.name}`));
  const namespaces = [...new Set(services.map((s) => s.metadata.namespace))];
  while (Date.now() <= deadline) {
    let live = 0;
    for (const namespace of namespaces) {
      const { items } = await client.list('Task', { namespace });
      live += items.filter((t) => names.has(`${t.metadata.namespace}/${(t.spec as TaskSpec).service}`) && (t.spec as TaskSpec).desiredState === 'running').length;
    }
    if (live === 0) return;
    await sleep(POLL_MS);
  }
}
