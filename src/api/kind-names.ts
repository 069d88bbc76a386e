/**
 * How users and URLs name kinds: `service`, `services`, `svc`, `Service` all mean Service.
 * One table, shared by the CLI (KIND arguments) and the server (URL segments).
 */
import { KINDS, type Kind } from './object.js';

/** URL segment and plural name of each kind, e.g. Service -> services. */
export const PLURAL: Record<Kind, string> = {
  Node: 'nodes',
  Service: 'services',
  Task: 'tasks',
  Secret: 'secrets',
  Config: 'configs',
  Event: 'events',
  Volume: 'volumes',
  NetworkPolicy: 'networkpolicies',
  Role: 'roles',
  Grant: 'grants',
  Ingress: 'ingresses',
  JoinToken: 'jointokens',
  Lease: 'leases',
  User: 'users',
  TrustPolicy: 'trustpolicies',
  Revocation: 'revocations',
};

const SHORT: Record<string, Kind> = { svc: 'Service', no: 'Node', ev: 'Event', netpol: 'NetworkPolicy', ing: 'Ingress', cm: 'Config' };

const byName = new Map<string, Kind>();
for (const k of KINDS) {
  byName.set(k.toLowerCase(), k);
  byName.set(PLURAL[k], k);
}
for (const [s, k] of Object.entries(SHORT)) byName.set(s, k);

/** Resolves a user-typed or URL kind name; undefined when unknown. */
export function resolveKind(name: string): Kind | undefined {
  return byName.get(name.toLowerCase());
}

/** Every accepted spelling, for error messages ("expected one of ..."). */
export function kindNames(): string[] {
  return KINDS.map((k) => k.toLowerCase());
}
