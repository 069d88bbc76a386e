/**
 * Validation of user-supplied objects: every kind's schema, defaults, and readable issues.
 * (Signatures first; the full schemas land in the files next to this one.)
 */
import { CLUSTER_SCOPED, DEFAULT_NAMESPACE, isKind, type ApiObject, type Kind } from '../object.js';
import { ValidationError } from '../errors.js';

/** Where the input came from, so issues can say file, document and line. */
export interface Where {
  file?: string;
  document?: number;
  /** Line of the field at `path` in the source, when known. */
  lineOf?: (path: (string | number)[]) => number | undefined;
}

/**
 * Validates an object of any kind as a user sent it, applies defaults and returns it typed.
 * Throws ValidationError listing every issue found.
 */
export function validateObject(raw: unknown, where: Where = {}): ApiObject {
  const o = raw as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown; labels?: Record<string, string> }; spec?: unknown };
  if (typeof o !== 'object' || o === null || typeof o.kind !== 'string' || !isKind(o.kind)) {
    throw new ValidationError([{ file: where.file, document: where.document, path: 'kind', expected: 'a known kind' }]);
  }
  const kind: Kind = o.kind;
  const name = o.metadata?.name;
  if (typeof name !== 'string') throw new ValidationError([{ file: where.file, document: where.document, path: 'metadata.name', expected: 'a DNS label' }]);
  const ns = typeof o.metadata?.namespace === 'string' ? o.metadata.namespace : DEFAULT_NAMESPACE;
  return {
    kind,
    metadata: { name, namespace: CLUSTER_SCOPED.has(kind) ? '' : ns, uid: '', labels: o.metadata?.labels ?? {}, revision: 0, generation: 0, creationTimestamp: '' },
    spec: o.spec ?? {},
  };
}

/** Validates a status write from an agent or controller (Task, Node, Service status shapes). */
export function validateStatus(kind: Kind, raw: unknown): unknown {
  void kind;
  return raw;
}

/** Deep equality that ignores key order (and keys whose value is undefined): `apply`'s "unchanged". */
export function specEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => specEqual(x, b[i]));
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra).filter((k) => ra[k] !== undefined);
  const kb = Object.keys(rb).filter((k) => rb[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(rb, k) && specEqual(ra[k], rb[k]));
}
