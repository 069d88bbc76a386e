/**
 * Compose interpolation as the specification writes it: every operator, `$$`, nesting, and the
 * errors of a required variable or a malformed reference; plus the shell splitting of command
 * strings, the dotenv reader and Docker's units.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InterpolationError, interpolateString, interpolateTree } from '../../src/compose/interpolate.js';
import { shellWords } from '../../src/compose/shell-words.js';
import { parseDotenv } from '../../src/compose/map-env.js';
import { dockerBytes, durationSeconds } from '../../src/compose/units.js';

const env = { SET: 'v', EMPTY: '' };

void describe('compose interpolation', () => {
  void it('expands every operator as compose-spec 12-interpolation.md says', () => {
    const cases: Array<[string, string]> = [
      ['$SET ${SET}', 'v v'], ['${UNSET}', ''], ['${UNSET:-d}', 'd'], ['${EMPTY:-d}', 'd'], ['${EMPTY-d}', ''], ['${UNSET-d}', 'd'],
      ['${SET:+alt}', 'alt'], ['${EMPTY:+alt}', ''], ['${EMPTY+alt}', 'alt'], ['${UNSET+alt}', ''],
      ['$$SET', '$SET'], ['a$', 'a$'], ['${UNSET:-${SET}-x}', 'v-x'], ['pre-${SET}-post', 'pre-v-post'],
    ];
    for (const [input, want] of cases) assert.equal(interpolateString(input, env), want, input);
  });

  void it('fails on required variables and malformed references, with the path', () => {
    assert.throws(() => interpolateString('${UNSET:?needed}', env, ['services', 'a', 'image']), (e: unknown) => e instanceof InterpolationError && e.reason === 'variable UNSET to be set (needed)' && e.path.join('.') === 'services.a.image');
    assert.throws(() => interpolateString('${EMPTY:?}', env), InterpolationError);
    assert.equal(interpolateString('${EMPTY?}', env), '');
    assert.throws(() => interpolateString('${SET', env), /closing "}"/);
    assert.throws(() => interpolateString('${SET/x}', env), /one of :- -/);
  });

  void it('interpolates values, not keys, through the whole tree', () => {
    assert.deepEqual(interpolateTree({ '${SET}': ['${SET}', 1, true, null] }, env), { '${SET}': ['v', 1, true, null] });
  });
});

void describe('compose value formats', () => {
  void it('splits command strings like a POSIX shell', () => {
    assert.deepEqual(shellWords(`sh -c 'echo "$HOME" && x' "a \\"b\\"" c\\ d`), ['sh', '-c', 'echo "$HOME" && x', 'a "b"', 'c d']);
    assert.deepEqual(shellWords('  '), []);
    assert.throws(() => shellWords('echo "open'), /closing " quote/);
  });

  void it('reads env files: comments, export, quotes', () => {
    assert.deepEqual(parseDotenv('# c\nA=1\nexport B="two words"\nC=\'lit $x\'\nD=x # note\n\nbad line\n'), { A: '1', B: 'two words', C: 'lit $x', D: 'x' });
  });

  void it('reads durations and sizes as Docker does', () => {
    assert.equal(durationSeconds('1m30s'), 90);
    assert.equal(durationSeconds('500ms'), 0.5);
    assert.equal(durationSeconds('1h'), 3600);
    assert.equal(durationSeconds(5), 5);
    assert.equal(durationSeconds('soon'), undefined);
    assert.equal(dockerBytes('64M'), 64 * 1024 ** 2);
    assert.equal(dockerBytes('1g'), 1024 ** 3);
    assert.equal(dockerBytes('512kb'), 512 * 1024);
    assert.equal(dockerBytes('12 parsecs'), undefined);
  });
});
