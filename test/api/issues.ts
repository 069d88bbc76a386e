/**
 * Helpers of the validation tests: the issues a ValidationError lists for an object, and the one
 * issue at a field path.
 */
import assert from 'node:assert/strict';
import { ValidationError, type ValidationIssue } from '../../src/api/errors.js';
import { validateObject } from '../../src/api/validate/index.js';

/** The issues validateObject raises for `raw`; fails the test when it raises none. */
export function issuesOf(raw: unknown): ValidationIssue[] {
  try {
    validateObject(raw);
  } catch (e) {
    assert.ok(e instanceof ValidationError, `expected ValidationError, got ${String(e)}`);
    assert.ok(e.issues.length > 0);
    return e.issues;
  }
  assert.fail('expected a ValidationError');
}

/** The one issue at `path`, asserting there is exactly one there. */
export function issueAt(issues: ValidationIssue[], path: string): ValidationIssue {
  const at = issues.filter((i) => i.path === path);
  assert.equal(at.length, 1, `issues at ${path}: ${JSON.stringify(issues)}`);
  return at[0] as ValidationIssue;
}
