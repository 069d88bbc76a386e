/**
 * Multi-document YAML manifests (`flotilla apply -f`): parse, validate every document, and
 * report all issues of all documents at once, each with file, document and line.
 *
 *   text ──> yaml.parseAllDocuments (LineCounter) ──> per document:
 *              syntax errors ──────────────────────────────┐
 *              empty? skip                                 │
 *              toJS ──> validateObject(lineOf) ── issues ──┼──> one ValidationError
 *                            │ ok                          │
 *                            └──> duplicate kind/ns/name? ─┘
 *                            └──> ApiObject[]
 */
import { LineCounter, isMap, isPair, isScalar, isSeq, parseAllDocuments, type Document, type Node } from 'yaml';
import { ValidationError, type ValidationIssue } from './errors.js';
import { keyOf, keyString, type ApiObject } from './object.js';
import { validateObject } from './validate/index.js';

type Path = (string | number)[];

/** Line (1-based) where `offset` sits. */
function lineAt(lc: LineCounter, offset: number | undefined): number | undefined {
  return offset === undefined ? undefined : lc.linePos(offset).line;
}

/**
 * Finds the line of the field at `path`: the key's line for mapping entries, the item's line
 * for list items. A path that goes past what exists (a missing required field) gives the line
 * of the deepest part that does exist.
 */
export function lineOfPath(doc: Document, lc: LineCounter, path: Path): number | undefined {
  let node: unknown = doc.contents;
  let line = lineAt(lc, (node as Node | null)?.range?.[0]);
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (pair === undefined) return line;
      line = lineAt(lc, (pair.key as Node).range?.[0]) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item: unknown = node.items[seg];
      if (item === undefined) return line;
      line = lineAt(lc, (item as Node).range?.[0]) ?? line;
      node = item;
    } else {
      return line;
    }
  }
  return line;
}

/** The first line of a YAML error message (the rest is a source excerpt). */
function firstLine(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/\s*at line \d+, column \d+:?\s*$/, '').trim();
}

/**
 * Parses and validates every non-empty document of a YAML file. Document numbers are 1-based
 * and count every `---`-separated document, empty ones included. Throws one ValidationError
 * with the issues of all documents (syntax errors with line and column, schema issues with
 * the line of the offending field, duplicates of kind/namespace/name).
 */
export function parseManifests(text: string, file: string): ApiObject[] {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: true });
  const issues: ValidationIssue[] = [];
  const objects: ApiObject[] = [];
  const seen = new Map<string, number>();
  let n = 0;
  for (const doc of docs) {
    n += 1;
    const document = n;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const pos = e.linePos?.[0];
        const issue: ValidationIssue = { file, document, path: '', expected: 'valid YAML', found: `${firstLine(e.message)}${pos !== undefined ? ` (line ${pos.line}, column ${pos.col})` : ''}` };
        if (pos !== undefined) issue.line = pos.line;
        issues.push(issue);
      }
      continue;
    }
    if (doc.contents === null) continue;
    let raw: unknown;
    try {
      raw = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      issues.push({ file, document, path: '', expected: 'valid YAML', found: e instanceof Error ? firstLine(e.message) : String(e) });
      continue;
    }
    if (raw === null || raw === undefined) continue;
    try {
      const obj = validateObject(raw, { file, document, lineOf: (p) => lineOfPath(doc, lc, p) });
      const key = keyString(keyOf(obj));
      const first = seen.get(key);
      if (first !== undefined) {
        const line = lineOfPath(doc, lc, ['metadata', 'name']);
        const issue: ValidationIssue = { file, document, path: 'metadata.name', expected: 'each object once per file', found: `${key} again (first in document ${first})` };
        if (line !== undefined) issue.line = line;
        issues.push(issue);
      } else {
        seen.set(key, document);
        objects.push(obj);
      }
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      issues.push(...e.issues);
    }
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return objects;
}
