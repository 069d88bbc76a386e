/**
 * Annotations that controllers keep on user objects: a user's apply (which replaces the
 * annotations with the document's) keeps them unless the document sets them, and they do not
 * make an apply "configured".
 */

/** Service annotation: hash of the Secrets and Configs it uses, as last rolled out (src/controllers/secrets). */
export const SECRETS_HASH_ANNOTATION = 'flotilla.dev/secrets-hash';

/** Every controller-owned annotation key. */
export const CONTROLLER_ANNOTATIONS: readonly string[] = [SECRETS_HASH_ANNOTATION];

/** `given` plus the controller annotations of `stored` that `given` does not set (undefined when empty). */
export function keepControllerAnnotations(stored: Readonly<Record<string, string>> | undefined, given: Readonly<Record<string, string>> | undefined): Record<string, string> | undefined {
  const out: Record<string, string> = { ...(given ?? {}) };
  for (const k of CONTROLLER_ANNOTATIONS) {
    const v = stored?.[k];
    if (v !== undefined && out[k] === undefined) out[k] = v;
  }
  return Object.keys(out).length > 0 || given !== undefined ? out : undefined;
}
