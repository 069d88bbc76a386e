/**
 * Task spec and status. Tasks are written by controllers, the scheduler and agents, not by
 * users, so the shape is checked lightly; the template is a full Service spec.
 */
import { z } from 'zod';
import { TASK_STATES, type TaskSpec, type TaskStatus } from '../kinds.js';
import { int } from './common.js';
import { serviceSpecSchema } from './service.js';

/** The Task spec schema. */
export const taskSpecSchema = z.object({
  service: z.string(),
  serviceGeneration: int(0).default(0),
  slot: int(0).default(0),
  node: z.string().default(''),
  image: z.string(),
  desiredState: z.enum(['running', 'shutdown']).default('running'),
  template: serviceSpecSchema,
  revision: int(0).optional(),
}).strict();

/** The Task status schema (passthrough: extra facts an agent reports are kept). */
export const taskStatusSchema = z.object({
  state: z.enum(TASK_STATES),
  desiredState: z.enum(['running', 'shutdown']).default('running'),
  ready: z.boolean().default(false),
  ip: z.string().optional(),
  pid: int(1).optional(),
  exitCode: z.number().int({ message: 'an integer' }).optional(),
  message: z.string().optional(),
  timestamp: z.string().default(''),
  containerId: z.string().optional(),
}).passthrough();

const specConforms: (o: z.output<typeof taskSpecSchema>) => TaskSpec = (o) => o;
const statusConforms: (o: z.output<typeof taskStatusSchema>) => TaskStatus = (o) => o;
void specConforms;
void statusConforms;
