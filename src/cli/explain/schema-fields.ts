/**
 * Reads the zod schemas of src/api/validate/ as a tree of fields for `flotilla explain`: each
 * field's type, whether it is required, its default, its allowed values and its subfields.
 * Wrappers (optional, default, preprocess, refine, transform) are peeled off; a union of objects
 * (canary steps) offers the fields of every branch.
 */
import { z } from 'zod';

/** One field as explain shows it. */
export interface FieldInfo {
  /** `string`, `integer`, `[]object`, `map[string]string`, ... */
  type: string;
  required: boolean;
  default?: unknown;
  enum?: readonly string[];
  /** Subfields, for objects and lists/maps of objects. */
  fields?: ReadonlyMap<string, FieldInfo>;
  /** A .describe() text on the schema, if any. */
  description?: string;
}

interface Peeled {
  core: z.ZodTypeAny;
  optional: boolean;
  default?: unknown;
  hasDefault: boolean;
  description?: string;
}

/** Peels wrappers off a schema, remembering optionality, default and description. */
function peel(schema: z.ZodTypeAny): Peeled {
  let s = schema;
  const p: Peeled = { core: s, optional: false, hasDefault: false };
  for (;;) {
    p.description ??= s.description;
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) {
      p.optional = true;
      s = s.unwrap() as z.ZodTypeAny;
    } else if (s instanceof z.ZodDefault) {
      p.hasDefault = true;
      p.default = (s._def as { defaultValue: () => unknown }).defaultValue();
      s = s.removeDefault() as z.ZodTypeAny;
    } else if (s instanceof z.ZodEffects) {
      s = s.innerType() as z.ZodTypeAny;
    } else if (s instanceof z.ZodLazy) {
      s = s.schema as z.ZodTypeAny;
    } else break;
  }
  p.core = s;
  return p;
}

function objectFields(o: z.ZodObject<z.ZodRawShape>): Map<string, FieldInfo> {
  const out = new Map<string, FieldInfo>();
  for (const [name, child] of Object.entries(o.shape)) out.set(name, fieldOf(child as z.ZodTypeAny));
  return out;
}

/** Type name and subfields of a peeled core schema. */
function shapeOf(core: z.ZodTypeAny): Pick<FieldInfo, 'type' | 'enum' | 'fields'> {
  if (core instanceof z.ZodObject) return { type: 'object', fields: objectFields(core as z.ZodObject<z.ZodRawShape>) };
  if (core instanceof z.ZodArray) {
    const el = fieldOf(core.element as z.ZodTypeAny);
    return { type: `[]${el.type}`, ...(el.fields !== undefined ? { fields: el.fields } : {}), ...(el.enum !== undefined ? { enum: el.enum } : {}) };
  }
  if (core instanceof z.ZodRecord) {
    const v = fieldOf(core.valueSchema as z.ZodTypeAny);
    return { type: `map[string]${v.type}`, ...(v.fields !== undefined ? { fields: v.fields } : {}) };
  }
  if (core instanceof z.ZodEnum) return { type: 'string', enum: core.options as string[] };
  if (core instanceof z.ZodLiteral) return { type: typeof core.value === 'string' ? 'string' : typeof core.value, enum: [String(core.value)] };
  if (core instanceof z.ZodUnion) return unionShape(core.options as z.ZodTypeAny[]);
  if (core instanceof z.ZodString) return { type: 'string' };
  if (core instanceof z.ZodNumber) return { type: core.isInt ? 'integer' : 'number' };
  if (core instanceof z.ZodBoolean) return { type: 'boolean' };
  return { type: 'any' };
}

/** A union: one type if all branches agree, the fields of every object branch. */
function unionShape(options: z.ZodTypeAny[]): Pick<FieldInfo, 'type' | 'fields'> {
  const branches = options.map(fieldOf);
  const types = [...new Set(branches.map((b) => b.type))];
  const fields = new Map<string, FieldInfo>();
  for (const b of branches) for (const [k, f] of b.fields ?? []) if (!fields.has(k)) fields.set(k, { ...f, required: false });
  return { type: types.join(' or '), ...(fields.size > 0 ? { fields } : {}) };
}

/** The field a schema describes. */
export function fieldOf(schema: z.ZodTypeAny): FieldInfo {
  const p = peel(schema);
  const info: FieldInfo = { ...shapeOf(p.core), required: !p.optional && !p.hasDefault };
  if (p.hasDefault) info.default = p.default;
  if (p.description !== undefined) info.description = p.description;
  return info;
}

/** An object field from named children (the envelope of a kind: apiVersion, kind, metadata, ...). */
export function objectOf(children: Record<string, FieldInfo>): FieldInfo {
  return { type: 'object', required: true, fields: new Map(Object.entries(children)) };
}
