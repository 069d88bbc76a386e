/**
 * Placement constraints, as Swarm users write them: `node.labels.ssd == true`,
 * `node.name != n1`, `node.role in (manager, worker)`, `node.labels.zone not in (w1, w2)`.
 *
 * Parsed once into a small typed AST so the scheduler can match without re-parsing and can
 * print the constraint back ("3 did not match node.labels.ssd == true").
 */

/** What the constraint looks at on a node. */
export type ConstraintField =
  | { kind: 'name' }
  | { kind: 'role' }
  | { kind: 'label'; key: string };

/** `==` and `!=` carry one value; `in` and `notin` a list. */
export type ConstraintOp = '==' | '!=' | 'in' | 'notin';

/** One parsed constraint expression. */
export interface Constraint {
  field: ConstraintField;
  op: ConstraintOp;
  values: string[];
}

/** The node facts a constraint is matched against. */
export interface ConstraintNode {
  name: string;
  role: string;
  labels: Record<string, string>;
}

// A label key: optional DNS-subdomain prefix and `/`, then a name of letters, digits, `-`, `_`, `.`.
const LABEL_KEY = /^(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?\/)?[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?$/;
// A value: anything but whitespace, commas, parentheses and operator characters; or quoted.
const BARE_VALUE = /^[^\s,()=!"']+$/;

const SHAPE = 'FIELD OP VALUE with FIELD one of node.name, node.role, node.labels.KEY and OP one of ==, !=, in (a, b), not in (a, b)';

function fail(s: string, what: string): Error {
  return new Error(`invalid constraint ${JSON.stringify(s)}: ${what} (expected ${SHAPE})`);
}

function parseField(text: string, s: string): ConstraintField {
  if (text === 'node.name' || text === 'node.hostname') return { kind: 'name' };
  if (text === 'node.role') return { kind: 'role' };
  if (text.startsWith('node.labels.')) {
    const key = text.slice('node.labels.'.length);
    if (!LABEL_KEY.test(key) || key.length > 253) throw fail(s, `${JSON.stringify(key)} is not a valid label key`);
    return { kind: 'label', key };
  }
  throw fail(s, `unknown field ${JSON.stringify(text)}`);
}

function parseValue(raw: string, s: string): string {
  const v = raw.trim();
  const quoted = /^"([^"]*)"$/.exec(v) ?? /^'([^']*)'$/.exec(v);
  if (quoted !== null) return quoted[1] as string;
  if (v === '') throw fail(s, 'missing value');
  if (!BARE_VALUE.test(v)) throw fail(s, `bad value ${JSON.stringify(v)} (quote values containing spaces or symbols)`);
  return v;
}

function parseList(raw: string, s: string): string[] {
  const t = raw.trim();
  if (!t.startsWith('(') || !t.endsWith(')')) throw fail(s, 'a list in parentheses after in / not in, like (a, b)');
  const inner = t.slice(1, -1).trim();
  if (inner === '') throw fail(s, 'an empty list');
  return inner.split(',').map((v) => parseValue(v, s));
}

/** Parses a constraint expression; throws a plain Error saying what was expected. */
export function parseConstraint(s: string): Constraint {
  if (typeof s !== 'string') throw fail(String(s), 'not a string');
  const text = s.trim();
  const m = /^(\S+?)\s*(==|!=)\s*(.*)$/.exec(text) ?? /^(\S+)\s+(not\s+in|in)\s*(\(.*)$/i.exec(text);
  if (m === null) {
    if (/^\S+\s*=[^=]/.test(text)) throw fail(s, 'use == (not =) to compare');
    if (/^\S+\s*$/.test(text)) throw fail(s, 'missing operator and value');
    throw fail(s, 'missing or unknown operator');
  }
  const field = parseField(m[1] as string, s);
  const opText = (m[2] as string).toLowerCase().replace(/\s+/g, ' ');
  const rest = m[3] as string;
  if (opText === '==' || opText === '!=') return { field, op: opText, values: [parseValue(rest, s)] };
  return { field, op: opText === 'in' ? 'in' : 'notin', values: parseList(rest, s) };
}

/**
 * True when `node` satisfies `c`. A node without the label never equals a value: `==` and `in`
 * fail, `!=` and `not in` pass (Swarm's semantics).
 */
export function matchConstraint(c: Constraint, node: ConstraintNode): boolean {
  let actual: string | undefined;
  switch (c.field.kind) {
    case 'name': actual = node.name; break;
    case 'role': actual = node.role; break;
    case 'label': actual = Object.prototype.hasOwnProperty.call(node.labels, c.field.key) ? node.labels[c.field.key] : undefined; break;
  }
  const found = actual !== undefined && c.values.includes(actual);
  return c.op === '==' || c.op === 'in' ? found : !found;
}

/** Renders a constraint back to its canonical text: `node.labels.ssd == true`. */
export function formatConstraint(c: Constraint): string {
  const field = c.field.kind === 'label' ? `node.labels.${c.field.key}` : `node.${c.field.kind}`;
  const quote = (v: string): string => (BARE_VALUE.test(v) ? v : JSON.stringify(v));
  if (c.op === '==' || c.op === '!=') return `${field} ${c.op} ${quote(c.values[0] ?? '')}`;
  return `${field} ${c.op === 'in' ? 'in' : 'not in'} (${c.values.map(quote).join(', ')})`;
}
