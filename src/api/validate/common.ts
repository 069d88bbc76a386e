/**
 * Schema building blocks shared by every kind: names, integers, string maps, quantities.
 * Every message is written as what was *expected* ("an integer >= 0"), because issues.ts
 * turns it into `expected <message>, found <value>`.
 */
import { z } from 'zod';
import { isQuantity } from '../quantity.js';

/** RFC 1123 DNS label: what object names, namespaces and port names must be. */
export const DNS_LABEL_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** RFC 1123 subdomain: dot-separated DNS labels, at most 253 characters. */
export const DNS_SUBDOMAIN_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** The phrase used wherever a DNS label is expected, so users learn the rule in one place. */
export const DNS_LABEL_RULE = 'a DNS label (RFC 1123: at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit)';
const DNS_SUBDOMAIN_RULE = 'a DNS name (RFC 1123: DNS labels joined by ".", at most 253 characters)';

/** True when `s` is an RFC 1123 DNS label. */
export function isDnsLabel(s: string): boolean {
  return DNS_LABEL_RE.test(s);
}

/** A non-empty string that is a DNS label. */
export const dnsLabel = (): z.ZodString => z.string().regex(DNS_LABEL_RE, { message: DNS_LABEL_RULE });

/** A DNS subdomain (node and event names may carry dots, like host names). */
export const dnsSubdomain = (): z.ZodString =>
  z.string().max(253, { message: DNS_SUBDOMAIN_RULE }).regex(DNS_SUBDOMAIN_RE, { message: DNS_SUBDOMAIN_RULE });

/** An integer in [min, max], with one readable message for every way it can be wrong. */
export function int(min: number, max?: number): z.ZodNumber {
  const message = max === undefined ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
  let s = z.number({ message }).int({ message }).min(min, { message });
  if (max !== undefined) s = s.max(max, { message });
  return s;
}

/** A TCP/UDP port number. */
export const port = (): z.ZodNumber => int(1, 65535);

/** A non-empty string. */
export const nonEmpty = (what = 'a non-empty string'): z.ZodString => z.string({ message: what }).min(1, { message: what });

/** Turns numbers and booleans into strings, as Compose and Kubernetes users expect in maps. */
export function coerceScalar(v: unknown): unknown {
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : v;
}

/** A string; a number or boolean as YAML reads `3` or `true` is turned into its text. */
export const scalarString = (): z.ZodEffects<z.ZodString, string, unknown> => z.preprocess(coerceScalar, z.string());

/** A key schema: any string schema, refined or not. */
export type KeySchema = z.ZodType<string, z.ZodTypeDef, string>;

/** A mapping of string keys to strings (numbers and booleans coerced). */
export function stringMap(key: KeySchema = z.string()): z.ZodRecord<KeySchema, z.ZodEffects<z.ZodString, string, unknown>> {
  return z.record(key, scalarString());
}

/** A list of strings. */
export const stringList = (): z.ZodArray<z.ZodString> => z.array(z.string());

const QUANTITY_RULE = 'a quantity like 250m, 0.5, 2, 64Mi or 1G';

/** A resource quantity kept as the user wrote it (numbers turned to text): `250m`, `64Mi`. */
export const quantity = (): z.ZodEffects<z.ZodEffects<z.ZodString, string, string>, string, unknown> =>
  z.preprocess(
    (v) => (typeof v === 'number' ? String(v) : v),
    z.string({ message: QUANTITY_RULE }).refine((s) => isQuantity(s), { message: QUANTITY_RULE }),
  );

/** Label keys: optional DNS-subdomain prefix and "/", then a DNS-label name. */
export const LABEL_KEY_RULE = 'a label key: an optional DNS name prefix and "/", then a DNS label (lowercase letters, digits and "-", at most 63)';

/** True for `app`, `example.com/tier`. */
export function isLabelKey(k: string): boolean {
  const slash = k.lastIndexOf('/');
  if (slash < 0) return DNS_LABEL_RE.test(k);
  const prefix = k.slice(0, slash);
  return prefix.length <= 253 && DNS_SUBDOMAIN_RE.test(prefix) && DNS_LABEL_RE.test(k.slice(slash + 1));
}

/** A label key. */
export const labelKey = (): KeySchema => z.string().refine(isLabelKey, { message: LABEL_KEY_RULE });

/** Keys of Secret and Config data: they become file names in mounts. */
export const DATA_KEY_RE = /^[-._a-zA-Z0-9]{1,253}$/;
export const dataKey = (): KeySchema =>
  z.string().regex(DATA_KEY_RE, { message: 'a data key of letters, digits, "-", "_" and "." (it becomes a file name)' })
    .refine((k) => k !== '.' && k !== '..', { message: 'a data key other than "." and ".."' });
