/**
 * The Node spec (what an admin may change: availability, role, taints) and the Node status an
 * agent reports (state, capacity, allocatable, heartbeat). Conform to kinds.ts.
 */
import { z } from 'zod';
import { MAX_NODE_AGE_LABEL, type NodeSpec, type NodeStatus } from '../kinds.js';
import { NODE_AGE_EXPECTED, parseNodeAgeMs } from '../node-age.js';
import type { ValidationIssue } from '../errors.js';
import { int, labelKey, quantity } from './common.js';
import { located, renderValue, type Where } from './issues.js';

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
  recycle: z.object({
    phase: z.enum(['waiting', 'provisioning', 'cordoned', 'draining']),
    since: z.string(),
    startedAt: z.string().optional(),
    reason: z.string(),
    message: z.string().optional(),
  }).strict().optional(),
}).passthrough();

/** Node labels the server reads (reverse uptime's max-node-age): refused when unreadable. */
export function nodeLabelIssues(labels: Readonly<Record<string, string>> | undefined, where: Where): ValidationIssue[] {
  const v = labels?.[MAX_NODE_AGE_LABEL];
  if (v === undefined || parseNodeAgeMs(v) !== undefined) return [];
  return [located(where, ['metadata', 'labels', MAX_NODE_AGE_LABEL], NODE_AGE_EXPECTED, renderValue(v))];
}

const specConforms: (o: z.output<typeof nodeSpecSchema>) => NodeSpec = (o) => o;
const statusConforms: (o: z.output<typeof nodeStatusSchema>) => NodeStatus = (o) => o;
void specConforms;
void statusConforms;
