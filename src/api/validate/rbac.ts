/**
 * Users, Roles and Grants (issue 9): who may do what where. Types live here with their schemas
 * (the RBAC authorizer in src/server/auth/rbac reads them from the store).
 *
 *   User  {groups: [G...], tokenSha256}          the token itself is only in the user's config
 *   Role  {rules: [{kinds: [K|*], verbs: [V|*]}]} cluster-scoped; built-in names are reserved
 *   Grant {subject: user:N|group:G, role, collection: {namespace: NS|*, labels?}}
 */
import { z } from 'zod';
import { KINDS } from '../object.js';
import { dnsLabel, labelKey, stringMap } from './common.js';

/** Verbs a Role rule may list ('*' is every verb). */
export const RULE_VERBS = ['get', 'list', 'watch', 'create', 'update', 'delete', 'logs', 'exec', 'scale'] as const;

/** Role names that exist without a Role object (src/server/auth/rbac/roles.ts). */
export const BUILTIN_ROLE_NAMES = ['view', 'edit', 'secrets', 'operator', 'admin'] as const;

/** The User spec: groups, and the SHA-256 (hex) of the user's bearer token. */
export const userSpecSchema = z.object({
  groups: z.array(dnsLabel()).default([]),
  tokenSha256: z.string().regex(/^[0-9a-f]{64}$/, { message: 'the hex SHA-256 of the token (64 hex digits)' }),
}).strict();
/** What a User object's spec holds. */
export type UserSpec = z.output<typeof userSpecSchema>;

const ruleSchema = z.object({
  kinds: z.array(z.enum(['*', ...KINDS])).min(1, { message: 'at least one kind (or "*")' }),
  verbs: z.array(z.enum(['*', ...RULE_VERBS])).min(1, { message: 'at least one verb (or "*")' }),
}).strict();
/** One rule of a role: these verbs on these kinds. */
export type RoleRule = z.output<typeof ruleSchema>;

/** The Role spec: a list of rules. */
export const roleSpecSchema = z.object({ rules: z.array(ruleSchema).min(1, { message: 'at least one rule' }) }).strict();
/** What a Role object's spec holds. */
export type RoleSpec = z.output<typeof roleSpecSchema>;

const SUBJECT_RE = /^(user|group):[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** The Grant spec: a subject gets a role over a collection (a namespace, optionally narrowed by labels). */
export const grantSpecSchema = z.object({
  subject: z.string().regex(SUBJECT_RE, { message: '"user:NAME" or "group:NAME" (NAME a DNS label)' }),
  role: dnsLabel(),
  collection: z.object({
    namespace: z.union([z.literal('*'), dnsLabel()], { message: 'a namespace (DNS label) or "*" (every namespace and cluster-scoped objects)' }),
    labels: stringMap(labelKey()).optional(),
  }).strict(),
}).strict();
/** What a Grant object's spec holds. */
export type GrantSpec = z.output<typeof grantSpecSchema>;
