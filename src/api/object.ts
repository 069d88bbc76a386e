/**
 * The shape every stored object shares (DESIGN.md "Objects"): kind, metadata, spec, status.
 * The store works on this shape only; it never looks inside spec or status.
 */

/** Kinds Flotilla knows. Cluster-scoped kinds live outside namespaces (namespace ""). */
export const KINDS = ['Node', 'Service', 'Task', 'Secret', 'Config', 'Event', 'Volume', 'NetworkPolicy', 'Role', 'Grant', 'Ingress', 'JoinToken', 'Lease', 'User', 'TrustPolicy', 'Revocation'] as const;
export type Kind = (typeof KINDS)[number];

export const CLUSTER_SCOPED: ReadonlySet<Kind> = new Set<Kind>(['Node', 'Role', 'Grant', 'JoinToken', 'Lease', 'User', 'TrustPolicy', 'Revocation']);

export const DEFAULT_NAMESPACE = 'default';

export interface ObjectMeta {
  name: string;
  /** "" for cluster-scoped kinds. */
  namespace: string;
  /** Set by the API server on create; stable for the object's life. */
  uid: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  /** Store revision of the object's last change; set by the store, sent back as the expected revision. */
  revision: number;
  /** Bumped by the API server when spec changes (not status). */
  generation: number;
  /** RFC 3339, set by the API server on create. */
  creationTimestamp: string;
}

/** Any object, as the store and the generic API see it. */
export interface ApiObject<S = unknown, St = unknown> {
  kind: Kind;
  metadata: ObjectMeta;
  spec: S;
  status?: St;
}

/** Identifies one object: what the store keys by. */
export interface ObjectKey {
  kind: Kind;
  namespace: string;
  name: string;
}

export function keyOf(o: { kind: Kind; metadata: { namespace: string; name: string } }): ObjectKey {
  return { kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name };
}

/** `Service/default/web`: the canonical string form, also used as queue key. */
export function keyString(k: ObjectKey): string {
  return `${k.kind}/${k.namespace}/${k.name}`;
}

export function isKind(s: string): s is Kind {
  return (KINDS as readonly string[]).includes(s);
}
