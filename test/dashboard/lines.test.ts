/** Streamed bodies as lines (src/dashboard/lines.ts): chunks cut anywhere, also inside a UTF-8 character. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineSplitter, readLines } from '../../src/dashboard/lines.js';

describe('dashboard LineSplitter', () => {
  it('keeps the unfinished tail for the next chunk; drops empty lines; handles CRLF', () => {
    const s = new LineSplitter();
    assert.deepEqual(s.push('{"a":'), []);
    assert.deepEqual(s.push('1}\n{"b"'), ['{"a":1}']);
    assert.deepEqual(s.push(':2}\r\n\n\n{"c":3}\n'), ['{"b":2}', '{"c":3}']);
    assert.deepEqual(s.push('tail'), []);
    assert.deepEqual(s.end(), ['tail']);
    assert.deepEqual(s.end(), []);
  });

  it('any cut of a text gives its lines back', () => {
    fc.assert(fc.property(fc.array(fc.string({ minLength: 1 }).filter((l) => !l.includes('\n') && !l.includes('\r')), { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 10 }), (lines, cuts) => {
      const text = lines.map((l) => `${l}\n`).join('');
      const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
      const s = new LineSplitter();
      const out: string[] = [];
      let at = 0;
      for (const p of [...points, text.length]) {
        out.push(...s.push(text.slice(at, p)));
        at = p;
      }
      out.push(...s.end());
      assert.deepEqual(out, lines);
    }));
  });

  it('readLines decodes UTF-8 across chunk boundaries and gives the last line without a newline', async () => {
    const bytes = new TextEncoder().encode('{"line":"grüße"}\n{"line":"日本"}\nlast');
    const chunks = [bytes.slice(0, 14), bytes.slice(14, 29), bytes.slice(29)];
    const body = new ReadableStream<Uint8Array>({ start(c) { for (const ch of chunks) c.enqueue(ch); c.close(); } });
    const got: string[] = [];
    await readLines(body, (l) => got.push(l));
    assert.deepEqual(got, ['{"line":"grüße"}', '{"line":"日本"}', 'last']);
  });
});
