/**
 * The Revocation spec (kinds.ts RevocationSpec): which certificate subject is revoked, for
 * certificates issued before which time, and why. Enforced by the API server
 * (src/server/auth/revocations.ts): requests and renewals with such a certificate get 401.
 */
import { z } from 'zod';
import type { RevocationSpec } from '../kinds.js';

/** `node:NAME` with NAME a DNS name (the CN of node certificates). */
const SUBJECT_RE = /^node:[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
/** RFC 3339 with a zone: 2026-12-04T03:55:00Z, 2026-12-04T03:55:00.123+01:00. */
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The Revocation spec schema. */
export const revocationSpecSchema = z.object({
  subject: z.string().regex(SUBJECT_RE, { message: 'a certificate subject node:NAME (NAME a lowercase DNS name)' }),
  issuedBefore: z.string().refine((s) => RFC3339_RE.test(s) && Number.isFinite(Date.parse(s)), { message: 'an RFC 3339 time with a zone, e.g. 2026-12-04T03:55:00Z' }),
  reason: z.string().min(1, { message: 'a non-empty reason' }).max(1024, { message: 'a reason of at most 1024 characters' }),
}).strict();

/** The name a Revocation of `subject` has by convention: `node:n1` -> `node.n1`. */
export function revocationNameOf(subject: string): string {
  return subject.replace(':', '.');
}

const conforms: (o: z.output<typeof revocationSpecSchema>) => RevocationSpec = (o) => o;
void conforms;
