/**
 * Status writes from agents and controllers. Status schemas are passthrough: known fields are
 * checked, extra facts kept, so a component can report more before kinds.ts names it.
 */
import { z } from 'zod';
import type { Kind } from '../object.js';
import type { ServiceStatus } from '../kinds.js';
import { int } from './common.js';
import { nodeStatusSchema } from './node.js';
import { taskStatusSchema } from './task.js';
import { volumeStatusSchema } from './volume.js';

/** The Service status schema (written by the service controller). */
export const serviceStatusSchema = z.object({
  replicas: int(0).optional(),
  readyReplicas: int(0).optional(),
  vip: z.string().optional(),
  observedGeneration: int(0).optional(),
}).passthrough();

const conforms: (o: z.output<typeof serviceStatusSchema>) => ServiceStatus = (o) => o;
void conforms;

/** Status schema per kind; kinds without one take any mapping. */
export function statusSchemaOf(kind: Kind): z.ZodTypeAny {
  switch (kind) {
    case 'Task': return taskStatusSchema;
    case 'Node': return nodeStatusSchema;
    case 'Service': return serviceStatusSchema;
    case 'Volume': return volumeStatusSchema;
    default: return z.record(z.unknown());
  }
}
