/**
 * fast-check generators of bad input for the fuzz tests: manifest-shaped objects with wrong
 * types, unicode and huge names, deep nesting, random YAML text; and the check every answer to
 * bad input must pass (a 4xx that says what and where, never a 5xx).
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { KINDS } from '../../src/api/object.js';
import { PLURAL } from '../../src/api/kind-names.js';
import type { ValidationIssue } from '../../src/api/errors.js';

/** Strings users should not send: unicode, control characters, very long, YAML/JSON syntax. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', 'web', 'Web', 'a'.repeat(64), 'ünïcödé', '名前', '🚢', 'a/b', '..', '-x', 'x-', '\u0000', '\u202e', '${x}', '{{x}}', 'null', 'true', '0x1F', '1e400', '- a', 'a: b', '&a', '*a', '!!binary', '---', '\ud800'),
  fc.integer({ min: 1_000, max: 100_000 }).map((n) => 'n'.repeat(n)),
);

/** Any JSON value, with nasty strings as keys and leaves. */
export const nastyValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    nastyString,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(nastyString, tie('v'), { maxKeys: 4 }),
  ),
})).v;

/** `depth` levels of `{a: {a: ...}}` or `[[...]]`: nesting far beyond any real manifest. */
export const deepValue: fc.Arbitrary<unknown> = fc.tuple(fc.integer({ min: 50, max: 1_000 }), fc.boolean()).map(([depth, asArray]) => {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = asArray ? [v] : { a: v };
  return v;
});

const kindField = fc.oneof(fc.constantFrom(...KINDS), nastyString, nastyValue);

/** Objects shaped like manifests whose fields have wrong types and values. */
export const manifestLike: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.record({
    apiVersion: fc.oneof(fc.constant('flotilla/v1'), nastyString),
    kind: kindField,
    metadata: fc.oneof(
      fc.record({ name: nastyString, namespace: nastyString, labels: fc.dictionary(nastyString, nastyValue, { maxKeys: 3 }), annotations: fc.dictionary(nastyString, nastyValue, { maxKeys: 3 }) }, { requiredKeys: [] }),
      nastyValue,
    ),
    spec: fc.oneof(nastyValue, fc.record({ image: nastyString, replicas: nastyValue, ports: nastyValue, resources: nastyValue, data: nastyValue, command: nastyValue }, { requiredKeys: [] })),
    status: nastyValue,
  }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: nastyValue },
  { weight: 1, arbitrary: deepValue },
);

/** YAML text: manifests rendered (sometimes cut or spliced with junk), or junk outright. */
export const yamlText: fc.Arbitrary<string> = fc.oneof(
  fc.array(manifestLike, { minLength: 1, maxLength: 3 }).map((docs) => docs.map((d) => safeStringify(d)).join('---\n')),
  fc.tuple(manifestLike, fc.nat(), nastyString).map(([d, at, junk]) => {
    const t = safeStringify(d);
    const i = at % (t.length + 1);
    return t.slice(0, i) + junk + t.slice(i);
  }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.integer({ min: 100, max: 5_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
  fc.integer({ min: 100, max: 500 }).map((n) => Array.from({ length: n }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')),
  fc.constantFrom('a: &a [*a]', 'a: &x 1\nb: *y', 'kind: Service\nkind: Service', '%YAML 9.9\n---\n', '? [a]\n: b', 'a: !!js/function "x"', '\t- x', 'kind: [', `x: ${'&a '.repeat(50)}1`),
);

function safeStringify(v: unknown): string {
  try {
    return stringify(v);
  } catch {
    return JSON.stringify(v) ?? 'null';
  }
}

/** JSON text nested far deeper than a value could be built and stringified here: `{"kind":"Config","spec":{"a":{"a":...}}}`. */
export const deepJsonText: fc.Arbitrary<string> = fc.tuple(fc.integer({ min: 1_000, max: 200_000 }), fc.boolean()).map(([n, asArray]) =>
  `{"kind":"Config","metadata":{"name":"deep"},"spec":{"data":${asArray ? `${'['.repeat(n)}1${']'.repeat(n)}` : `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`}}}`);

/** A URL path segment: a nasty string percent-encoded (a lone surrogate as its raw bytes), or broken escapes. */
export const nameSegment: fc.Arbitrary<string> = fc.oneof(
  nastyString.map((s) => encodeSegment(s.slice(0, 300)) || 'x'),
  fc.constantFrom('%', '%zz', '%E0%A4%A', '%C0%AF', '%00', '%2F', '..', '%2e%2e', '%ff%fe'),
);

function encodeSegment(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  }
}

/** A collection path: a real kind's plural, or junk. */
export const collection: fc.Arbitrary<string> = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...KINDS.map((k) => PLURAL[k])) }, { weight: 1, arbitrary: nameSegment });

/** Why an issue does not say where and what (undefined when it does). */
export function issueProblem(i: ValidationIssue): string | undefined {
  if (typeof i.path !== 'string') return `issue without a path: ${JSON.stringify(i).slice(0, 200)}`;
  if (typeof i.expected !== 'string' || i.expected === '') return `issue without "expected": ${JSON.stringify(i).slice(0, 200)}`;
  return undefined;
}

/** Status codes bad input may get: refusals, and success for input that happens to be valid. */
export const ALLOWED_STATUSES = new Set([200, 201, 400, 403, 404, 405, 409, 413, 422]);

/**
 * Why an answer to bad input is wrong (undefined when it is fine): any 5xx, any status outside
 * ALLOWED_STATUSES, a 4xx body that is not `{code, status, message}`, a 422 without issues that
 * each name a field path and what was expected there.
 */
export function answerProblem(status: number, json: unknown, text: string): string | undefined {
  if (!ALLOWED_STATUSES.has(status)) return `status ${status}: ${text.slice(0, 300)}`;
  if (status < 400) return undefined;
  const body = json as { code?: unknown; status?: unknown; message?: unknown; issues?: ValidationIssue[] } | undefined;
  if (body === undefined || typeof body.code !== 'string' || body.status !== status || typeof body.message !== 'string' || body.message === '') return `${status} without the error shape: ${text.slice(0, 300)}`;
  if (status === 422) {
    if (!Array.isArray(body.issues) || body.issues.length === 0) return `422 without issues: ${text.slice(0, 300)}`;
    for (const i of body.issues) {
      const p = issueProblem(i);
      if (p !== undefined) return p;
    }
  }
  return undefined;
}
