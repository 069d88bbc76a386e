/**
 * Compose variable interpolation (compose-spec 12-interpolation.md): `$VAR`, `${VAR}`,
 * `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`,
 * `${VAR+alt}` and `$$` for a literal `$`, applied to every string value (not to keys) of the
 * parsed file before the schema sees it, as compose-go does. Defaults may nest `${...}`.
 */

/** Where a variable is missing although `:?` / `?` requires it: the field path and the message. */
export class InterpolationError extends Error {
  constructor(readonly path: (string | number)[], readonly reason: string) {
    super(reason);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Interpolates one string; throws InterpolationError (with `path`) for a required variable unset or bad syntax. */
export function interpolateString(text: string, env: Env, path: (string | number)[] = []): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c !== '$') {
      out += c;
      i += 1;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '{') {
      const end = closingBrace(text, i + 2);
      if (end < 0) throw new InterpolationError(path, `a closing "}" for the "\${" at character ${i + 1} of ${JSON.stringify(text)}`);
      out += expand(text.slice(i + 2, end), env, path);
      i = end + 1;
    } else {
      const m = NAME_RE.exec(text.slice(i + 1));
      if (m === null) {
        out += '$';
        i += 1;
      } else {
        out += env[m[0]] ?? '';
        i += 1 + m[0].length;
      }
    }
  }
  return out;
}

/** Index of the `}` closing a `${` whose body starts at `from` (nested `${...}` allowed), or -1. */
function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let j = from; j < text.length; j++) {
    if (text[j] === '$' && text[j + 1] === '{') {
      depth += 1;
      j += 1;
    } else if (text[j] === '}') {
      depth -= 1;
      if (depth === 0) return j;
    }
  }
  return -1;
}

/** The value of one `${...}` body. */
function expand(body: string, env: Env, path: (string | number)[]): string {
  const m = NAME_RE.exec(body);
  if (m === null) throw new InterpolationError(path, `a variable name in "\${${body}}"`);
  const name = m[0];
  const rest = body.slice(name.length);
  const value = env[name];
  if (rest === '') return value ?? '';
  const op = /^(:-|-|:\?|\?|:\+|\+)/.exec(rest)?.[0];
  if (op === undefined) throw new InterpolationError(path, `one of :- - :? ? :+ + after \${${name} in "\${${body}}"`);
  const arg = (): string => interpolateString(rest.slice(op.length), env, path);
  const unsetOrEmpty = value === undefined || value === '';
  switch (op) {
    case ':-': return unsetOrEmpty ? arg() : value;
    case '-': return value ?? arg();
    case ':?':
    case '?':
      if (op === ':?' ? unsetOrEmpty : value === undefined) throw new InterpolationError(path, `variable ${name} to be set${rest.length > op.length ? ` (${arg()})` : ''}`);
      return value ?? '';
    case ':+': return unsetOrEmpty ? '' : arg();
    default: return value === undefined ? '' : arg();
  }
}

/** Interpolates every string value of a parsed document (keys are left as written). */
export function interpolateTree(value: unknown, env: Env, path: (string | number)[] = []): unknown {
  if (typeof value === 'string') return interpolateString(value, env, path);
  if (Array.isArray(value)) return value.map((v, i) => interpolateTree(v, env, [...path, i]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateTree(v, env, [...path, k]);
    return out;
  }
  return value;
}
