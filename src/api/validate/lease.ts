/**
 * The Lease spec (a node's heartbeat, kinds.ts LeaseSpec): who holds it, when it was renewed.
 * Small on purpose: it is validated on every renewal.
 */
import { z } from 'zod';
import type { LeaseSpec } from '../kinds.js';
import { dnsSubdomain } from './common.js';

/** The Lease spec schema. */
export const leaseSpecSchema = z.object({
  holder: dnsSubdomain(),
  renewTime: z.string().refine((s) => Number.isFinite(Date.parse(s)), { message: 'an RFC 3339 time' }),
  durationSeconds: z.number().int().min(1).max(86_400).optional(),
}).strict();

const conforms: (o: z.output<typeof leaseSpecSchema>) => LeaseSpec = (o) => o;
void conforms;
