/**
 * Object metadata as users write it: name, namespace, labels, annotations. Server-owned fields
 * (uid, revision, generation, creationTimestamp) are accepted so `get -o yaml` output can be
 * applied back, and are otherwise filled with their zero values for the server to set.
 */
import { z } from 'zod';
import { CLUSTER_SCOPED, DEFAULT_NAMESPACE, type Kind, type ObjectMeta } from '../object.js';
import { coerceScalar, dnsLabel, dnsSubdomain, int, labelKey, scalarString } from './common.js';

const LABEL_VALUE_RE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const LABEL_VALUE_RULE = 'a label value: at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit';

/** Kinds whose names may contain dots (host names, generated event names; a Lease is named after its Node, a Revocation after its subject: node.NAME). */
const DOTTED_NAMES: ReadonlySet<Kind> = new Set<Kind>(['Node', 'Event', 'Lease', 'Revocation']);

function buildMetadataSchema(dotted: boolean) {
  return z.object({
    name: dotted ? dnsSubdomain() : dnsLabel(),
    namespace: dnsLabel().or(z.literal('')).optional(),
    labels: z.record(labelKey(), z.preprocess(coerceScalar, z.string().regex(LABEL_VALUE_RE, { message: LABEL_VALUE_RULE }))).default({}),
    annotations: z.record(z.string(), scalarString()).optional(),
    uid: z.string().optional(),
    revision: int(0).optional(),
    generation: int(0).optional(),
    creationTimestamp: z.string().optional(),
  }).strict();
}

const plainMeta = buildMetadataSchema(false);
const dottedMeta = buildMetadataSchema(true);

/** The metadata schema for `kind` (names of Node and Event may be DNS subdomains). */
export function metadataSchema(kind: Kind | undefined): typeof plainMeta {
  return kind !== undefined && DOTTED_NAMES.has(kind) ? dottedMeta : plainMeta;
}

/** Fills what the user left out: namespace, zero values of server-owned fields. */
export function completeMetadata(kind: Kind, m: z.output<ReturnType<typeof metadataSchema>>): ObjectMeta {
  const meta: ObjectMeta = {
    name: m.name,
    // Cluster-scoped kinds live outside namespaces: a namespace given for them is ignored.
    namespace: CLUSTER_SCOPED.has(kind) ? '' : m.namespace || DEFAULT_NAMESPACE,
    uid: m.uid ?? '',
    labels: m.labels,
    revision: m.revision ?? 0,
    generation: m.generation ?? 0,
    creationTimestamp: m.creationTimestamp ?? '',
  };
  if (m.annotations !== undefined) meta.annotations = m.annotations;
  return meta;
}
