/**
 * `flotilla get grants | users | roles` columns: who holds which role over what, never a token
 * hash (a User shows its groups only).
 */
import type { GrantSpec, RoleSpec, UserSpec } from '../../api/validate/index.js';
import type { ApiObject } from '../../api/object.js';
import type { Column } from './columns.js';
import { formatAge, formatLabels, orDash } from './table.js';

type Loose<T> = { [K in keyof T]?: T[K] };
const spec = <S>(o: ApiObject): Loose<S> => (o.spec ?? {}) as Loose<S>;
const name: Column = { header: 'NAME', cell: (o) => o.metadata.name };
const age: Column = { header: 'AGE', cell: (o, now) => formatAge(o.metadata.creationTimestamp, now) };

/** NAME SUBJECT ROLE NAMESPACE LABELS AGE. */
export const grantColumns: Column[] = [
  name,
  { header: 'SUBJECT', cell: (o) => orDash(spec<GrantSpec>(o).subject) },
  { header: 'ROLE', cell: (o) => orDash(spec<GrantSpec>(o).role) },
  { header: 'NAMESPACE', cell: (o) => orDash(spec<GrantSpec>(o).collection?.namespace) },
  { header: 'LABELS', cell: (o) => formatLabels(spec<GrantSpec>(o).collection?.labels ?? {}) },
  age,
];

/** NAME GROUPS AGE. */
export const userColumns: Column[] = [
  name,
  { header: 'GROUPS', cell: (o) => orDash((spec<UserSpec>(o).groups ?? []).join(',')) },
  age,
];

/** NAME RULES AGE, rules as `Service,Task:get,list`. */
export const roleColumns: Column[] = [
  name,
  { header: 'RULES', cell: (o) => orDash((spec<RoleSpec>(o).rules ?? []).map((r) => `${r.kinds.join(',')}:${r.verbs.join(',')}`).join(' ')) },
  age,
];
