/**
 * `flotilla explain KIND[.field[.sub...]]`: a kind's or a field's schema, read from the zod
 * schemas the API validates with (explain/schema-fields.ts): type, required, default, allowed
 * values, what it means (explain/field-docs.ts) and its subfields. Lists and maps are entered
 * by the field name (`service.spec.ports.targetPort`). Works offline: it asks no server.
 */
import type { Command } from 'commander';
import { SPEC_SCHEMAS, API_VERSION } from '../../api/validate/index.js';
import { metadataSchema } from '../../api/validate/metadata.js';
import { statusSchemaOf } from '../../api/validate/status.js';
import type { Kind } from '../../api/object.js';
import { parseKind } from '../args.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { describeField } from '../explain/field-docs.js';
import { fieldOf, objectOf, type FieldInfo } from '../explain/schema-fields.js';
import { didYouMean } from '../suggest.js';

/** The field tree of a whole object of `kind`. */
export function kindFields(kind: Kind): FieldInfo {
  return objectOf({
    apiVersion: { type: 'string', required: false, enum: [API_VERSION] },
    kind: { type: 'string', required: true, enum: [kind] },
    metadata: { ...fieldOf(metadataSchema(kind)), required: true },
    // validateObject reads a missing spec as {}: required only when {} is not a valid spec.
    spec: { ...fieldOf(SPEC_SCHEMAS[kind]), required: !SPEC_SCHEMAS[kind].safeParse({}).success },
    status: { ...fieldOf(statusSchemaOf(kind)), required: false },
  });
}

/** Follows `path` (field names) down from the kind; a UsageError names the closest field. */
export function findField(kind: Kind, path: string[]): FieldInfo {
  let at = kindFields(kind);
  const walked: string[] = [kind.toLowerCase()];
  for (const name of path) {
    const next = at.fields?.get(name);
    if (next === undefined) {
      const names = [...(at.fields?.keys() ?? [])];
      const where = walked.join('.');
      if (names.length === 0) throw new UsageError(`explain ${[...walked, name].join('.')}: ${where} is <${at.type}> and has no fields`);
      const hint = didYouMean(name, names);
      throw new UsageError(`explain ${[...walked, name].join('.')}: no field "${name}" in ${where}${hint !== '' ? ` (${hint})` : ''}; fields: ${names.join(', ')}`);
    }
    at = next;
    walked.push(name);
  }
  return at;
}

function facts(f: FieldInfo): string[] {
  const out: string[] = [];
  if (f.enum !== undefined) out.push(`one of: ${f.enum.join(', ')}`);
  if (f.default !== undefined && !isEmptyObject(f.default)) out.push(`default: ${typeof f.default === 'string' ? f.default || '""' : JSON.stringify(f.default)}`);
  return out;
}

function isEmptyObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
}

function typeText(f: FieldInfo): string {
  return `<${f.type}>${f.required ? ' -required-' : ''}`;
}

/** The text explain prints for `kind` and `path`. */
export function explainText(kind: Kind, path: string[]): string {
  const f = findField(kind, path);
  const docPath = [kind, ...path].join('.');
  const lines = [`KIND:     ${kind}`];
  if (path.length > 0) lines.push(`FIELD:    ${path.join('.')} ${typeText(f)}`);
  lines.push('', 'DESCRIPTION:', `    ${f.description ?? describeField(docPath) ?? '(no description yet)'}`);
  for (const fact of facts(f)) lines.push(`    ${fact}`);
  if (f.fields !== undefined && f.fields.size > 0) {
    lines.push('', 'FIELDS:');
    for (const [name, child] of f.fields) {
      lines.push(`  ${name} ${typeText(child)}`);
      const text = child.description ?? describeField(`${docPath}.${name}`);
      if (text !== undefined) lines.push(`    ${text}`);
      const more = facts(child);
      if (more.length > 0) lines.push(`    ${more.join('; ')}`);
      lines.push('');
    }
    lines.pop();
  }
  return `${lines.join('\n')}\n`;
}

/** Registers `explain`. */
export function registerExplain(program: Command, ctx: CliContext): void {
  program
    .command('explain')
    .description('describe a kind or one of its fields: type, default, allowed values, meaning')
    .argument('<kind.field>', 'a kind, or a field path like service.spec.update.strategy')
    .action((target: string) => {
      const [kindArg, ...path] = target.split('.');
      if (kindArg === undefined || kindArg === '' || path.some((p) => p === '')) throw new UsageError(`explain ${target}: expected KIND or KIND.FIELD[.FIELD...], e.g. service.spec.replicas`);
      ctx.io.out(explainText(parseKind(kindArg), path));
    });
}
