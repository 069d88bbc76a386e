/**
 * What the API answers for a Secret: never its values, except to a node that runs a task using
 * it (getObject, after the need-to-know check). Everyone else sees the key names and sizes:
 * `spec: {keys: [{name, bytes}]}` (the `get secrets` table prints NAME, KEYS, SIZE, AGE).
 */
import type { ApiObject } from '../../api/object.js';

/** One key of a redacted Secret. */
export interface SecretKeyInfo {
  name: string;
  /** Size of the decoded value. */
  bytes: number;
}

/** The Secret with spec.data replaced by key names and sizes; other kinds as they are. */
export function redactSecret(obj: ApiObject): ApiObject {
  if (obj.kind !== 'Secret') return obj;
  const data = (obj.spec as { data?: Record<string, string> } | undefined)?.data ?? {};
  const keys: SecretKeyInfo[] = Object.keys(data).sort().map((name) => ({ name, bytes: Buffer.from(data[name] ?? '', 'base64').length }));
  return { ...obj, spec: { keys } };
}
