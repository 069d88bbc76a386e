/**
 * The pure half of the secrets controller: what a service's sources look like now (a hash of
 * each Secret's and Config's uid and generation: the API bumps generation only when the data
 * changes) and whether that calls for a restart.
 */
import { createHash } from 'node:crypto';
import type { Service } from '../../api/kinds.js';

/** Service annotation holding the hash of its sources as last rolled out (re-exported). */
export { SECRETS_HASH_ANNOTATION } from '../../api/controller-annotations.js';
import { SECRETS_HASH_ANNOTATION } from '../../api/controller-annotations.js';

/** What the controller knows of one source: its identity and data generation, or absent. */
export interface SourceVersion {
  uid: string;
  generation: number;
}

/** Looks a source up by kind and name (in the service's namespace). */
export type SourceLookup = (kind: 'Secret' | 'Config', name: string) => SourceVersion | undefined;

/** The sources a service names, sorted and unique: `Secret/db-pass`, `Config/app-conf`. */
export function sourcesOf(svc: Service): Array<['Secret' | 'Config', string]> {
  const out = new Map<string, ['Secret' | 'Config', string]>();
  for (const r of svc.spec.secrets ?? []) out.set(`Secret/${r.source}`, ['Secret', r.source]);
  for (const r of svc.spec.configs ?? []) out.set(`Config/${r.source}`, ['Config', r.source]);
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

/** sha256 (first 16 hex) over each source's uid and generation ("missing" when absent). */
export function sourcesHash(svc: Service, lookup: SourceLookup): string {
  const h = createHash('sha256');
  for (const [kind, name] of sourcesOf(svc)) {
    const v = lookup(kind, name);
    h.update(`${kind}/${name}=${v === undefined ? 'missing' : `${v.uid}:${v.generation}`}\n`);
  }
  return h.digest('hex').slice(0, 16);
}

/** What to write to a service: its annotation only (first sight), or a restart too. */
export interface SecretRollDecision {
  service: Service;
  restart: boolean;
}

/**
 * The service to write, or undefined when nothing changed. No hash yet: record it (the tasks
 * were made with these sources). A different hash: record it and set spec.restartedAt = now,
 * which makes a new revision that the rollout controller rolls out.
 */
export function computeSecretRoll(svc: Service, lookup: SourceLookup, nowMs: number): SecretRollDecision | undefined {
  if (sourcesOf(svc).length === 0) return undefined;
  const hash = sourcesHash(svc, lookup);
  const annotations = svc.metadata.annotations ?? {};
  const seen = annotations[SECRETS_HASH_ANNOTATION];
  if (seen === hash) return undefined;
  const metadata = { ...svc.metadata, annotations: { ...annotations, [SECRETS_HASH_ANNOTATION]: hash } };
  if (seen === undefined) return { service: { ...svc, metadata }, restart: false };
  return {
    service: { ...svc, metadata: { ...metadata, generation: svc.metadata.generation + 1 }, spec: { ...svc.spec, restartedAt: new Date(nowMs).toISOString() } },
    restart: true,
  };
}
