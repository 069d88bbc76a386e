/**
 * Parsing of argument values shared by several commands: kinds, counts, K=V pairs (label
 * selectors: src/api/label-selector.ts). Each failure is a UsageError that says what was expected and what was found.
 */
import { InvalidArgumentError } from 'commander';
import { kindNames, PLURAL, resolveKind } from '../api/kind-names.js';
import { CLUSTER_SCOPED, DEFAULT_NAMESPACE, KINDS, type Kind, type ObjectKey } from '../api/object.js';
import { UsageError } from './errors.js';
import { didYouMean } from './suggest.js';

/** A KIND argument (singular, plural or short name) to its Kind; lists the kinds when unknown. */
export function parseKind(name: string): Kind {
  const kind = resolveKind(name);
  if (kind === undefined) {
    const hint = didYouMean(name, [...kindNames(), ...KINDS.map((k) => PLURAL[k])]);
    throw new UsageError(`unknown kind "${name}"${hint !== '' ? ` (${hint})` : ''}: expected one of ${kindNames().join(', ')} (singular or plural)`);
  }
  return kind;
}

/** The namespace an object of this kind lives in: "" for cluster-scoped kinds. */
export function namespaceFor(kind: Kind, namespace: string | undefined): string {
  if (CLUSTER_SCOPED.has(kind)) return '';
  return namespace ?? DEFAULT_NAMESPACE;
}

/** The key of a named object, with the namespace defaulted per kind. */
export function objectKey(kind: Kind, name: string, namespace: string | undefined): ObjectKey {
  return { kind, namespace: namespaceFor(kind, namespace), name };
}

/** `service/web`: how the CLI names an object in its output. */
export function displayName(o: { kind: Kind; name: string }): string {
  return `${o.kind.toLowerCase()}/${o.name}`;
}

/** `K=V` pairs (e.g. repeated --label) to a map. */
export function parseLabelPairs(pairs: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`${flag} ${p}: expected KEY=VALUE`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

/** Commander value parser for counts: an integer >= 0. */
export function nonNegativeInt(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected an integer >= 0, found "${value}"`);
  const n = Number(value);
  if (n < 0 || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected an integer >= 0, found ${value}`);
  return n;
}

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
