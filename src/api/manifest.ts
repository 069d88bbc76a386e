/**
 * Multi-document YAML manifests (`flotilla apply -f`): parse, validate every document, and
 * report all issues of all documents at once with file, document and line.
 */
import { parseAllDocuments } from 'yaml';
import type { ApiObject } from './object.js';
import { validateObject } from './validate/index.js';

/** Parses and validates every non-empty document of a YAML file; throws one ValidationError. */
export function parseManifests(text: string, file: string): ApiObject[] {
  const out: ApiObject[] = [];
  parseAllDocuments(text).forEach((doc, i) => {
    if (doc.contents === null) return;
    out.push(validateObject(doc.toJS(), { file, document: i + 1 }));
  });
  return out;
}
