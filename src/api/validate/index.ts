/**
 * Validation of objects as users (and components) send them: the envelope (apiVersion, kind,
 * metadata), then the kind's spec schema with its defaults. Every issue of every field is
 * collected into one ValidationError, each with file, document, line and field path.
 *
 *   raw ──> envelope ──> kind known? ──> metadata schema ──> spec schema ──> ApiObject
 *              │             │ no: "one of Node, Service, ..."        │
 *              └─────────────┴──────── issues ────────────────────────┴──> ValidationError
 */
import { z } from 'zod';
import { KINDS, isKind, type ApiObject, type Kind } from '../object.js';
import { ValidationError, type ValidationIssue } from '../errors.js';
import { configSpecSchema, secretSpecSchema } from './data.js';
import { eventSpecSchema } from './event.js';
import { ingressSpecSchema } from './ingress.js';
import { distance, expectedErrorMap, located, renderValue, toIssues, type Where } from './issues.js';
import { completeMetadata, metadataSchema } from './metadata.js';
import { leaseSpecSchema } from './lease.js';
import { networkPolicySpecSchema } from './netpol.js';
import { nodeLabelIssues, nodeSpecSchema } from './node.js';
import { serviceSpecSchema } from './service.js';
import { grantSpecSchema, roleSpecSchema, userSpecSchema } from './rbac.js';
import { revocationSpecSchema } from './revocation.js';
import { statusSchemaOf } from './status.js';
import { taskSpecSchema } from './task.js';
import { trustPolicySpecSchema } from './trust.js';
import { volumeSpecSchema } from './volume.js';

export type { Where } from './issues.js';
export { specEqual } from './equal.js';
export { isImageReference, serviceSpecSchema } from './service.js';
export { nodeSpecSchema, nodeStatusSchema } from './node.js';
export { leaseSpecSchema } from './lease.js';
export { networkPolicySpecSchema, isIpv4Cidr } from './netpol.js';
export { volumeSpecSchema, volumeStatusSchema, VOLUME_DRIVERS } from './volume.js';
export { taskSpecSchema, taskStatusSchema } from './task.js';
export { ingressSpecSchema, type IngressSpec, type IngressBackend } from './ingress.js';
export { grantSpecSchema, roleSpecSchema, userSpecSchema, BUILTIN_ROLE_NAMES, RULE_VERBS, type GrantSpec, type RoleSpec, type RoleRule, type UserSpec } from './rbac.js';
export { isDnsLabel, isLabelKey, DNS_LABEL_RULE } from './common.js';
export { revocationSpecSchema, revocationNameOf } from './revocation.js';

/** The API version every object may state; absent means the same. */
export const API_VERSION = 'flotilla/v1';

/** Kinds whose spec is not modelled yet: any mapping is accepted (metadata is still checked). */
const OPEN_SPEC = z.record(z.unknown());

/** The spec schema of each kind (input as users write it, output with defaults applied). */
export const SPEC_SCHEMAS: Record<Kind, z.ZodTypeAny> = {
  Service: serviceSpecSchema,
  Node: nodeSpecSchema,
  Task: taskSpecSchema,
  Secret: secretSpecSchema,
  Config: configSpecSchema,
  Event: eventSpecSchema,
  Volume: volumeSpecSchema,
  NetworkPolicy: networkPolicySpecSchema,
  Role: roleSpecSchema,
  Grant: grantSpecSchema,
  User: userSpecSchema,
  Ingress: ingressSpecSchema,
  JoinToken: OPEN_SPEC,
  Lease: leaseSpecSchema,
  TrustPolicy: trustPolicySpecSchema,
  Revocation: revocationSpecSchema,
};

const envelope = z.object({
  apiVersion: z.literal(API_VERSION).optional(),
  kind: z.unknown(),
  metadata: z.unknown(),
  spec: z.unknown(),
  status: z.unknown(),
}).strict();

/** Runs a schema over `raw`, collecting issues under `prefix`; returns the output or undefined. */
function run<T extends z.ZodTypeAny>(schema: T, raw: unknown, where: Where, prefix: (string | number)[], issues: ValidationIssue[]): z.output<T> | undefined {
  const r = schema.safeParse(raw, { errorMap: expectedErrorMap });
  if (r.success) return r.data as z.output<T>;
  issues.push(...toIssues(r.error, raw, schema, where, prefix));
  return undefined;
}

function kindIssue(kind: unknown, where: Where): ValidationIssue {
  const near = typeof kind === 'string' ? KINDS.find((k) => distance(k, kind.replace(/s$/, '')) <= 2) : undefined;
  const hint = near !== undefined ? ` (did you mean ${near}?)` : '';
  return located(where, ['kind'], `one of ${KINDS.join(', ')}${hint}`, kind === undefined ? 'nothing (kind is required)' : renderValue(kind));
}

/** Orders issues as they appear in the file (stable; issues without a line keep their place at the end). */
function byLine(issues: ValidationIssue[]): ValidationIssue[] {
  return issues.map((i, n) => ({ i, n })).sort((a, b) => (a.i.line ?? Infinity) - (b.i.line ?? Infinity) || a.n - b.n).map((x) => x.i);
}

/**
 * Validates an object of any kind as a user sent it, applies defaults and returns it typed:
 * metadata complete (namespace defaulted, server-owned fields zero unless given), `status`
 * dropped. Throws ValidationError listing every issue found.
 */
export function validateObject(raw: unknown, where: Where = {}): ApiObject {
  const issues: ValidationIssue[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ValidationError([located(where, [], 'an object: a mapping with kind, metadata and spec', renderValue(raw))]);
  }
  run(envelope, raw, where, [], issues);
  const o = raw as Record<string, unknown>;
  const kind = typeof o.kind === 'string' && isKind(o.kind) ? o.kind : undefined;
  if (kind === undefined) issues.push(kindIssue(o.kind, where));
  const meta = run(metadataSchema(kind), o.metadata, where, ['metadata'], issues);
  let spec: unknown;
  if (kind !== undefined) spec = run(SPEC_SCHEMAS[kind], o.spec ?? {}, where, ['spec'], issues);
  if (kind === 'Node' && meta !== undefined) issues.push(...nodeLabelIssues(meta.labels, where));
  if (issues.length > 0 || kind === undefined || meta === undefined) throw new ValidationError(byLine(issues));
  return { kind, metadata: completeMetadata(kind, meta), spec };
}

/**
 * Validates and defaults only the spec of `kind` (for server-side patches such as `scale`).
 * Throws ValidationError with paths under `spec.`.
 */
export function validateSpec(kind: Kind, raw: unknown, where: Where = {}): unknown {
  const issues: ValidationIssue[] = [];
  const spec: unknown = run(SPEC_SCHEMAS[kind], raw ?? {}, where, ['spec'], issues);
  if (issues.length > 0) throw new ValidationError(issues);
  return spec;
}

/**
 * Validates a status write from an agent or controller: Task and Node status as kinds.ts
 * shapes them (plus Service status); other kinds take any mapping. Returns it with defaults.
 */
export function validateStatus(kind: Kind, raw: unknown): unknown {
  const issues: ValidationIssue[] = [];
  const status: unknown = run(statusSchemaOf(kind), raw, {}, ['status'], issues);
  if (issues.length > 0) throw new ValidationError(issues);
  return status;
}
