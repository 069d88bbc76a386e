/**
 * Secret and Config specs: maps of data keys (future file names) to values. A Secret's `data`
 * holds base64; `stringData` takes plain text and is folded into `data` as base64, as
 * Kubernetes users expect. Conform to kinds.ts.
 */
import { z } from 'zod';
import type { ConfigSpec, SecretSpec } from '../kinds.js';
import { dataKey, stringMap } from './common.js';

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64_RULE = 'base64 text (use stringData for plain text)';

/** The Secret spec schema; output has `data` only. */
export const secretSpecSchema = z.object({
  data: z.record(dataKey(), z.string({ message: BASE64_RULE }).regex(BASE64_RE, { message: BASE64_RULE })).default({}),
  stringData: stringMap(dataKey()).optional(),
}).strict().transform((s): SecretSpec => {
  const data = { ...s.data };
  for (const [k, v] of Object.entries(s.stringData ?? {})) data[k] = Buffer.from(v, 'utf8').toString('base64');
  return { data };
});

/** The Config spec schema. */
export const configSpecSchema = z.object({
  data: stringMap(dataKey()).default({}),
}).strict();

const conforms: (o: z.output<typeof configSpecSchema>) => ConfigSpec = (o) => o;
void conforms;
