/**
 * Turns zod's issues into ValidationIssues a person can act on:
 * `spec.replicas: expected an integer >= 0, found -1`, `spec.replcas: expected a known field
 * of spec (did you mean "replicas"?), found unknown field "replcas"`.
 */
import { z } from 'zod';
import type { ValidationIssue } from '../errors.js';
import { LABEL_KEY_RULE } from './common.js';

/** Where issues are located: file, document and a path-to-line lookup. */
export interface Where {
  file?: string;
  document?: number;
  /** Line of the field at `path` in the source, when known. */
  lineOf?: (path: (string | number)[]) => number | undefined;
}

type Path = (string | number)[];

/** Renders a path as users write it: `spec.ports[0].port`. */
export function pathString(path: Path): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s;
}

/** Renders a found value short: strings quoted, objects as compact JSON, cut at 60 characters. */
export function renderValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : cut(`a list ${JSON.stringify(v)}`);
  if (typeof v === 'object') return cut(`a mapping ${JSON.stringify(v)}`);
  return cut(JSON.stringify(v) ?? String(v));
}

function cut(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** The value at `path` inside `root`, or undefined. */
export function valueAt(root: unknown, path: Path): unknown {
  let cur: unknown = root;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

const TYPE_PHRASE: Record<string, string> = {
  string: 'a string', number: 'a number', integer: 'an integer', boolean: 'true or false',
  array: 'a list', object: 'a mapping', null: 'null', bigint: 'an integer',
};

/** Expected-phrases for issues whose schema gave no message of its own. */
function phrase(issue: z.ZodIssueOptionalMessage): string | undefined {
  switch (issue.code) {
    case z.ZodIssueCode.invalid_type:
      // An enum's expected type reads `'a' | 'b'`.
      if (String(issue.expected).includes(' | ')) return `one of ${String(issue.expected).replace(/'/g, '').split(' | ').join(', ')}`;
      return TYPE_PHRASE[issue.expected] ?? String(issue.expected);
    case z.ZodIssueCode.invalid_enum_value:
      return `one of ${issue.options.map(String).join(', ')}`;
    case z.ZodIssueCode.invalid_literal:
      return JSON.stringify(issue.expected);
    case z.ZodIssueCode.too_small:
      if (issue.type === 'string') return issue.minimum === 1 ? 'a non-empty string' : `a string of at least ${issue.minimum} characters`;
      if (issue.type === 'array') return `a list of at least ${issue.minimum} items`;
      return `a value >= ${issue.minimum}`;
    case z.ZodIssueCode.too_big:
      if (issue.type === 'string') return `a string of at most ${issue.maximum} characters`;
      if (issue.type === 'array') return `a list of at most ${issue.maximum} items`;
      return `a value <= ${issue.maximum}`;
    default:
      return undefined;
  }
}

/**
 * The error map passed to every parse: keeps messages a schema set itself, and otherwise
 * words zod's default as the expected thing.
 */
export const expectedErrorMap: z.ZodErrorMap = (issue, ctx) => {
  const zodDefault = z.defaultErrorMap(issue, ctx).message;
  if (ctx.defaultError !== zodDefault) return { message: ctx.defaultError };
  return { message: phrase(issue) ?? ctx.defaultError };
};

/** Edit distance (case-insensitive), for "did you mean" on unknown fields and kinds. */
export function distance(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0] as number;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j] as number;
      d[j] = Math.min((d[j] as number) + 1, (d[j - 1] as number) + 1, prev + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length] as number;
}

/** Peels wrappers (default, optional, effects, ...) off a schema to reach its shape. */
function unwrap(s: z.ZodTypeAny): z.ZodTypeAny {
  for (;;) {
    if (s instanceof z.ZodDefault) s = s._def.innerType;
    else if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap();
    else if (s instanceof z.ZodEffects) s = s.innerType();
    else if (s instanceof z.ZodLazy) s = s.schema;
    else return s;
  }
}

/** The object schema at `path` inside `schema`, to list the fields it knows. */
function objectAt(schema: z.ZodTypeAny, path: Path): z.AnyZodObject | undefined {
  let s = unwrap(schema);
  for (const p of path) {
    if (s instanceof z.ZodObject) s = unwrap((s.shape as Record<string, z.ZodTypeAny>)[String(p)] ?? z.never());
    else if (s instanceof z.ZodArray) s = unwrap(s.element);
    else if (s instanceof z.ZodRecord) s = unwrap(s.valueSchema);
    else return undefined;
  }
  return s instanceof z.ZodObject ? s : undefined;
}

/** "did you mean" text for an unknown key, from the fields the schema knows at that place. */
function suggestion(schema: z.ZodTypeAny, path: Path, key: string): string {
  const obj = objectAt(schema, path);
  if (obj === undefined) return '';
  const known = Object.keys(obj.shape as Record<string, unknown>);
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const prefix = key.length >= 3 && (k.toLowerCase().startsWith(key.toLowerCase()) || key.toLowerCase().startsWith(k.toLowerCase()));
    const d = prefix ? 1 : distance(key, k);
    if (d < bestD) { bestD = d; best = k; }
  }
  if (best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 3))) return ` (did you mean "${best}"?)`;
  return known.length > 0 && known.length <= 8 ? ` (one of ${known.join(', ')})` : '';
}

/**
 * Converts a ZodError into ValidationIssues. `prefix` is prepended to every path (a spec
 * schema's issues get `spec.`); `raw` is the input, for rendering what was found.
 */
export function toIssues(err: z.ZodError, raw: unknown, schema: z.ZodTypeAny, where: Where, prefix: Path = []): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const seen = new Set<string>();
  const push = (i: ValidationIssue): void => {
    const k = `${i.path}\u0000${i.expected}`;
    if (!seen.has(k)) out.push(i);
    seen.add(k);
  };
  for (const issue of err.issues) {
    if (issue.code === z.ZodIssueCode.unrecognized_keys) {
      for (const key of issue.keys) {
        const at = [...prefix, ...issue.path, key];
        const owner = pathString([...prefix, ...issue.path]) || 'the object';
        push(located(where, at, `a known field of ${owner}${suggestion(schema, issue.path, key)}`, `unknown field "${key}"`));
      }
      continue;
    }
    if (issue.code === z.ZodIssueCode.invalid_union) {
      // Report the alternative that got furthest: its issues are the useful ones.
      const best = [...issue.unionErrors].sort((a, b) => depth(b) - depth(a))[0];
      if (best !== undefined) { toIssues(best, raw, schema, where, prefix).forEach(push); continue; }
    }
    const at = [...prefix, ...issue.path];
    const value = valueAt(raw, issue.path);
    const isKeyIssue = issue.message.startsWith(LABEL_KEY_RULE.slice(0, 11)) || issue.message.startsWith('a data key');
    const found = isKeyIssue ? `key ${JSON.stringify(issue.path[issue.path.length - 1])}` : renderValue(value);
    const expected = value === undefined && issue.code === z.ZodIssueCode.invalid_type ? `${issue.message} (required)` : issue.message;
    push(located(where, at, expected, found));
  }
  return out;
}

function depth(e: z.ZodError): number {
  return Math.max(0, ...e.issues.map((i) => i.path.length + (i.code === z.ZodIssueCode.invalid_type ? 0 : 0.5)));
}

/** One issue with file, document and line filled in from `where`. */
export function located(where: Where, path: Path, expected: string, found?: string): ValidationIssue {
  const issue: ValidationIssue = { path: pathString(path), expected };
  if (found !== undefined) issue.found = found;
  if (where.file !== undefined) issue.file = where.file;
  if (where.document !== undefined) issue.document = where.document;
  const line = where.lineOf?.(path);
  if (line !== undefined) issue.line = line;
  return issue;
}
