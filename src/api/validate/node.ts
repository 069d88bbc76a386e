/**
 * The Node spec (what an admin may change: availability, role, taints) and the Node status an
 * agent reports (state, capacity, allocatable, heartbeat). Conform to kinds.ts.
 */
import { z } from 'zod';
import type { NodeSpec, NodeStatus } from '../kinds.js';
import { int, labelKey, quantity } from './common.js';

const taint = z.object({
  key: labelKey(),
  value: z.preprocess((v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v), z.string()).optional(),
  effect: z.enum(['NoSchedule', 'NoExecute', 'PreferNoSchedule']),
}).strict();

/** The Node spec schema. */
export const nodeSpecSchema = z.object({
  availability: z.enum(['active', 'pause', 'drain']).default('active'),
  role: z.enum(['worker', 'manager']).default('worker'),
  taints: z.array(taint).default([]),
  podCIDR: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'an IPv4 CIDR').optional(),
}).strict();

const nodeCondition = z.object({
  type: z.string().min(1),
  status: z.boolean(),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastTransitionTime: z.string().optional(),
}).strict();

const nodeResources = z.object({
  cpu: quantity(),
  memory: quantity(),
  pids: int(1).optional(),
}).passthrough();

/**
 * The Node status schema. Passthrough: components may report extra facts before kinds.ts
 * names them; the known fields are still checked.
 */
export const nodeStatusSchema = z.object({
  state: z.enum(['ready', 'down', 'unknown']),
  conditions: z.array(nodeCondition).optional(),
  capacity: nodeResources,
  allocatable: nodeResources,
  heartbeat: z.string().optional(),
  address: z.string().optional(),
  podCIDR: z.string().optional(),
  message: z.string().optional(),
  agentVersion: z.string().optional(),
  volumesDir: z.string().optional(),
}).passthrough();

const specConforms: (o: z.output<typeof nodeSpecSchema>) => NodeSpec = (o) => o;
const statusConforms: (o: z.output<typeof nodeStatusSchema>) => NodeStatus = (o) => o;
void specConforms;
void statusConforms;
