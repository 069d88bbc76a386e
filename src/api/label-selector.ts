/**
 * Label selectors as kubectl writes them: `app=web` (also `==`), `tier!=front`, `app` (the
 * label exists), `!app` (it does not), joined by commas, all must hold. One parser for the CLI
 * (`get -l`, `delete -l`) and the API (`?labelSelector=`): the Store filters the equality
 * terms, the caller the others (`matches`), so every backend keeps its equality-only list.
 */
import type { LabelSelector } from '../store/store.js';

/** A selector that does not parse; the message says which term and what was expected. */
export class SelectorSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectorSyntaxError';
  }
}

/** One term of a selector. */
export type SelectorTerm =
  | { op: 'eq'; key: string; value: string }
  | { op: 'ne'; key: string; value: string }
  | { op: 'exists'; key: string }
  | { op: 'absent'; key: string };

/** A parsed selector: the part the Store filters, and a matcher for all terms. */
export interface Selector {
  terms: SelectorTerm[];
  /** The equality terms, for ListOptions.labelSelector. */
  equality: LabelSelector;
  /** True when every term holds for these labels. */
  matches(labels: Record<string, string> | undefined): boolean;
}

const KEY = '[A-Za-z0-9][A-Za-z0-9._/-]*';
const VALUE = '[A-Za-z0-9._-]*';
const TERM_RES: [RegExp, (m: RegExpExecArray) => SelectorTerm][] = [
  [new RegExp(`^(${KEY})\\s*!=\\s*(${VALUE})$`), (m) => ({ op: 'ne', key: m[1] as string, value: m[2] as string })],
  [new RegExp(`^(${KEY})\\s*==?\\s*(${VALUE})$`), (m) => ({ op: 'eq', key: m[1] as string, value: m[2] as string })],
  [new RegExp(`^!\\s*(${KEY})$`), (m) => ({ op: 'absent', key: m[1] as string })],
  [new RegExp(`^(${KEY})$`), (m) => ({ op: 'exists', key: m[1] as string })],
];

function parseTerm(part: string): SelectorTerm {
  const s = part.trim();
  for (const [re, build] of TERM_RES) {
    const m = re.exec(s);
    if (m !== null) return build(m);
  }
  throw new SelectorSyntaxError(`expected KEY=VALUE, KEY!=VALUE, KEY or !KEY (comma-separated), found "${part}"`);
}

function holds(t: SelectorTerm, labels: Record<string, string>): boolean {
  switch (t.op) {
    case 'eq': return labels[t.key] === t.value;
    case 'ne': return labels[t.key] !== t.value;
    case 'exists': return t.key in labels;
    case 'absent': return !(t.key in labels);
  }
}

/** Parses a selector; a SelectorSyntaxError names the term that is wrong. */
export function parseSelector(text: string): Selector {
  if (text.trim() === '') throw new SelectorSyntaxError('expected a selector like app=web, found nothing');
  const terms = text.split(',').map(parseTerm);
  const equality: LabelSelector = {};
  for (const t of terms) {
    if (t.op !== 'eq') continue;
    if (t.key in equality && equality[t.key] !== t.value) throw new SelectorSyntaxError(`${t.key} cannot equal both ${equality[t.key]} and ${t.value}`);
    equality[t.key] = t.value;
  }
  return {
    terms,
    equality,
    matches: (labels) => terms.every((t) => holds(t, labels ?? {})),
  };
}
