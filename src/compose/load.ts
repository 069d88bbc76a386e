/**
 * Reads a Compose file the way compose-go does, up to the model:
 *
 *   text ──> YAML (one document, LineCounter) ──> interpolate ${VAR} from the environment
 *        ──> the official compose-spec JSON schema (ajv) ──> ComposeProject + lineOf(path)
 *
 * Every problem (YAML syntax, a required variable unset, a field the specification does not
 * have, a wrong type) becomes an issue naming the file, the line and the compose field path;
 * all of them are thrown together as one ValidationError. The schema is a committed copy
 * (schema/README.md says where from): nothing is downloaded at run time.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type Ajv from 'ajv';
import { createRequire } from 'node:module';
import { LineCounter, isScalar, parseDocument, visit } from 'yaml';
import { ValidationError, type ValidationIssue } from '../api/errors.js';
import { lineOfPath } from '../api/manifest.js';
import { pathString, renderValue, valueAt } from '../api/validate/issues.js';
import type { Path } from './context.js';
import { InterpolationError, interpolateTree } from './interpolate.js';
import type { ComposeProject } from './model.js';

/** A parsed, interpolated, schema-valid compose file. */
export interface LoadedCompose {
  project: ComposeProject;
  /** Line of a compose field path in the file, when it is there. */
  lineOf(path: Path): number | undefined;
}

let validator: Ajv.ValidateFunction | undefined;

/** The compiled compose-spec schema (compiled once per process). */
function composeValidator(): Ajv.ValidateFunction {
  if (validator !== undefined) return validator;
  const here = import.meta.dirname;
  // From src/compose/ (tsx) the schema sits beside this file; from dist/src/compose/ it is read from the sources.
  const file = [path.join(here, 'schema/compose-spec.json'), path.join(here, '../../../src/compose/schema/compose-spec.json')].find((f) => existsSync(f));
  if (file === undefined) throw new Error(`compose-spec.json not found beside ${here}`);
  const schema = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  // The file names the draft-07 meta-schema by its https URL, which ajv 6 knows as http: the schema is not re-validated.
  // ajv is required here, not imported at the top: only `stack` needs it, and every process
  // that runs the CLI (`flotilla up` too) would otherwise keep it loaded (idle memory, issue 14).
  const AjvClass = createRequire(import.meta.url)('ajv') as typeof Ajv;
  const ajv = new AjvClass({ allErrors: true, jsonPointers: true, validateSchema: false, unknownFormats: 'ignore' });
  validator = ajv.compile(schema);
  return validator;
}

/** Parses, interpolates and validates `text` (the contents of `file`); throws ValidationError. */
export function loadCompose(text: string, file: string, env: Readonly<Record<string, string | undefined>>): LoadedCompose {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  const lineOf = (p: Path): number | undefined => lineOfPath(doc, lc, p);
  const at = (p: Path, expected: string, found?: string): ValidationIssue => {
    const i: ValidationIssue = { file, path: pathString(p), expected };
    if (found !== undefined) i.found = found;
    const line = lineOf(p);
    if (line !== undefined) i.line = line;
    return i;
  };
  if (doc.errors.length > 0) {
    throw new ValidationError(doc.errors.map((e) => {
      const i: ValidationIssue = { file, path: '', expected: 'valid YAML', found: (e.message.split('\n')[0] ?? e.message).trim() };
      const line = e.linePos?.[0].line;
      if (line !== undefined) i.line = line;
      return i;
    }));
  }
  // `mode: 0440` is octal in Compose (Go's YAML reads it so); YAML 1.2 would read 440.
  visit(doc, { Scalar(_key, node) {
    if (isScalar(node) && typeof node.value === 'number' && typeof node.source === 'string' && /^0[0-7]+$/.test(node.source)) node.value = parseInt(node.source, 8);
  } });
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ValidationError([at([], 'a Compose file: a mapping with services', renderValue(raw))]);
  }
  let data: unknown;
  try {
    data = interpolateTree(raw, env);
  } catch (err) {
    if (!(err instanceof InterpolationError)) throw err;
    throw new ValidationError([at(err.path, err.reason, 'it unset')]);
  }
  const validate = composeValidator();
  if (validate(data) !== true) throw new ValidationError(schemaIssues(validate.errors ?? [], data, at));
  return { project: data as ComposeProject, lineOf };
}

/** JSON schema types as the messages say them. */
const TYPE_WORDS: Record<string, string> = { array: 'a list', object: 'a mapping', integer: 'an integer', string: 'a string', number: 'a number', boolean: 'true or false', null: 'null' };

/** Compose field path of an ajv JSON pointer (`/services/web/ports/0`). */
function pointerPath(pointer: string, data: unknown): Path {
  const parts = pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const out: Path = [];
  for (const p of parts) {
    out.push(Array.isArray(valueAt(data, out)) && /^\d+$/.test(p) ? Number(p) : p);
  }
  return out;
}

/** One issue per field from ajv's errors: the most telling error of each path; `oneOf` summaries only where nothing deeper explains them. */
function schemaIssues(errors: Ajv.ErrorObject[], data: unknown, at: (p: Path, expected: string, found?: string) => ValidationIssue): ValidationIssue[] {
  const out = new Map<string, ValidationIssue>();
  const pointers = errors.map((e) => e.dataPath);
  for (const e of errors) {
    const base = pointerPath(e.dataPath, data);
    const params = e.params as Record<string, unknown>;
    let issue: ValidationIssue;
    if (e.keyword === 'additionalProperties') {
      const name = String(params.additionalProperty);
      issue = at([...base, name], `a field of the Compose specification (${name} is not one${base.length > 0 ? ` under ${pathString(base)}` : ''})`);
    } else if (e.keyword === 'required') {
      issue = at([...base, String(params.missingProperty)], 'a value (required by the Compose specification)', 'nothing');
    } else if (e.keyword === 'oneOf' || e.keyword === 'anyOf') {
      if (pointers.some((p) => p !== e.dataPath && p.startsWith(e.dataPath))) continue;
      issue = at(base, 'one of the forms the Compose specification allows here', renderValue(valueAt(data, base)));
    } else if (e.keyword === 'type') {
      issue = at(base, String(params.type).split(',').map((t) => TYPE_WORDS[t] ?? `a ${t}`).join(' or '), renderValue(valueAt(data, base)));
    } else if (e.keyword === 'enum') {
      issue = at(base, `one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`, renderValue(valueAt(data, base)));
    } else {
      issue = at(base, `a value that ${(e.message ?? 'matches the schema').replace(/^should /, '')}`, renderValue(valueAt(data, base)));
    }
    const key = issue.path;
    const prev = out.get(key);
    // Of a oneOf's alternatives, keep the first message for a field: several say the same thing twice.
    if (prev === undefined) out.set(key, issue);
  }
  return [...out.values()].sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
}
