/**
 * The JSON body helpers: nesting depth is measured outside strings (src/server/http/respond.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tooDeepAt } from '../../src/server/http/respond.js';

void describe('tooDeepAt', () => {
  void it('finds the first bracket past the limit', () => {
    assert.equal(tooDeepAt('{"a":[1]}', 2), undefined);
    assert.equal(tooDeepAt('{"a":[[1]]}', 2), 6);
    assert.equal(tooDeepAt(`${'['.repeat(101)}${']'.repeat(101)}`, 100), 100);
  });

  void it('ignores brackets inside strings, escaped quotes included', () => {
    assert.equal(tooDeepAt('{"a":"[[[[[[{{{{"}', 2), undefined);
    assert.equal(tooDeepAt('{"a":"\\"[[[[[["}', 2), undefined);
    assert.equal(tooDeepAt('["\\\\",[[1]]]', 2), 7);
  });
});
