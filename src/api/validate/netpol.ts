/**
 * The NetworkPolicy spec (kinds.ts NetworkPolicySpec): a selector of the tasks it applies to
 * (services and/or labels, not empty), then ingress and egress allow rules whose peers are
 * exactly one of service, labels, namespace or an IPv4 CIDR (a namespace may narrow a service
 * or labels peer). Enforced by every agent (src/agent/netpol); see docs/network-policies.md.
 */
import { z } from 'zod';
import type { NetworkPolicySpec } from '../kinds.js';
import { dnsLabel, labelKey, port, stringMap } from './common.js';

const CIDR_RULE = 'an IPv4 CIDR like 10.1.0.0/16 (four numbers 0-255, then /0 to /32)';
const PEER_RULE = 'exactly one of service, labels, namespace or cidr (namespace may also narrow service or labels)';

/** True for `a.b.c.d/len` with every part in range. */
export function isIpv4Cidr(s: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
  if (m === null) return false;
  const [a, b, c, d, len] = m.slice(1).map(Number) as [number, number, number, number, number];
  return [a, b, c, d].every((o) => o <= 255) && len <= 32;
}

const labels = (): ReturnType<typeof stringMap> => stringMap(labelKey());

const peer = z.object({
  service: dnsLabel().optional(),
  labels: labels().optional(),
  namespace: dnsLabel().optional(),
  cidr: z.string({ message: CIDR_RULE }).refine(isIpv4Cidr, { message: CIDR_RULE }).optional(),
}).strict().superRefine((p, ctx) => {
  const main = [p.service, p.labels, p.cidr].filter((v) => v !== undefined).length;
  const ok = (main === 1 && !(p.cidr !== undefined && p.namespace !== undefined)) || (main === 0 && p.namespace !== undefined);
  if (!ok) ctx.addIssue({ code: z.ZodIssueCode.custom, message: PEER_RULE });
  if (p.labels !== undefined && Object.keys(p.labels).length === 0) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['labels'], message: 'at least one label (an empty labels peer would match every task: say namespace instead)' });
});

const rule = z.object({
  from: z.array(peer).optional(),
  to: z.array(peer).optional(),
  ports: z.array(port()).optional(),
}).strict();

/** Ingress rules may only say `from`, egress rules only `to`. */
const rules = (direction: 'from' | 'to'): z.ZodEffects<z.ZodArray<typeof rule>> => z.array(rule).superRefine((rs, ctx) => {
  const other = direction === 'from' ? 'to' : 'from';
  rs.forEach((r, i) => {
    if (r[other] !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, other], message: `${direction} (an ${direction === 'from' ? 'ingress' : 'egress'} rule names its peers with ${direction}, not ${other})` });
  });
});

const selector = z.object({
  services: z.array(dnsLabel()).optional(),
  labels: labels().optional(),
}).strict().superRefine((s, ctx) => {
  if ((s.services?.length ?? 0) === 0 && Object.keys(s.labels ?? {}).length === 0) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'a selector with services (a list of service names) and/or labels, not empty' });
  }
});

/** The NetworkPolicy spec schema. */
export const networkPolicySpecSchema = z.object({
  selector,
  ingress: rules('from').optional(),
  egress: rules('to').optional(),
}).strict().transform((s): NetworkPolicySpec => s as NetworkPolicySpec);
