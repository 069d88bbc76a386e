/** The Event spec: written by components to explain what happened to an object. */
import { z } from 'zod';
import type { EventSpec } from '../kinds.js';
import { int } from './common.js';

/** The Event spec schema. */
export const eventSpecSchema = z.object({
  involved: z.string(),
  type: z.enum(['Normal', 'Warning']).default('Normal'),
  reason: z.string(),
  message: z.string().default(''),
  source: z.string().default(''),
  count: int(1).default(1),
  firstTimestamp: z.string().default(''),
  lastTimestamp: z.string().default(''),
}).strict();

const conforms: (o: z.output<typeof eventSpecSchema>) => EventSpec = (o) => o;
void conforms;
