/**
 * The JSON line framing of logs and exec streams: encoding, splitting at any chunk boundary
 * (also inside a UTF-8 sequence), checking frames, the query helpers, and the time merge of
 * service logs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BadRequestError } from '../../src/api/errors.js';
import {
  asExecFrame, asLogFrame, encodeFrame, FrameDecoder, FrameError, isErrorFrame, logQueryString, parseExecRequest,
  parseLogQuery, readFrames, type ExecFrame, type LogFrame,
} from '../../src/api/frames.js';
import { mergeByTime } from '../../src/server/proxy/merge.js';

void describe('frames', { timeout: 30_000 }, () => {
  void it('encodes one frame per line and decodes it back', () => {
    const frames: (LogFrame | ExecFrame)[] = [
      { stream: 'stdout', line: 'héllo "x"\tnew\\n', time: '2024-01-01T00:00:00.123456789Z' },
      { stream: 'stderr', data: Buffer.from([0, 255, 10, 13]).toString('base64') },
      { exit: 3 },
      { error: { code: 'Unavailable', message: 'node n1 is down' }, task: 'web-1' },
    ];
    const text = frames.map(encodeFrame).join('');
    assert.equal(text.split('\n').length, frames.length + 1);
    assert.deepEqual(new FrameDecoder().push(text), frames);
  });

  void it('splits lines at any chunk boundary, inside multi-byte characters too', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ line: fc.string({ unit: 'grapheme' }), stream: fc.constantFrom('stdout' as const, 'stderr' as const) }), { maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      async (lines, cuts) => {
        const frames: LogFrame[] = lines.map((l) => ({ ...l, time: 't' }));
        const bytes = Buffer.from(frames.map(encodeFrame).join(''));
        const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length)))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let prev = 0;
        for (const p of [...points, bytes.length]) {
          chunks.push(bytes.subarray(prev, p));
          prev = p;
        }
        const got: unknown[] = [];
        for await (const f of readFrames((async function* () { yield* chunks; })())) got.push(f);
        assert.deepEqual(got.map(asLogFrame), frames);
      },
    ), { numRuns: 200 });
  });

  void it('parses a last line without a newline, skips blank lines, refuses junk', () => {
    const d = new FrameDecoder();
    assert.deepEqual(d.push('\n{"exit":0}\n\n{"exit":'), [{ exit: 0 }]);
    assert.deepEqual(d.push('7}'), []);
    assert.deepEqual(d.end(), [{ exit: 7 }]);
    assert.throws(() => new FrameDecoder().push('not json\n'), FrameError);
  });

  void it('checks frames by shape', () => {
    assert.deepEqual(asExecFrame({ exit: 137, timedOut: true }), { exit: 137, timedOut: true });
    assert.deepEqual(asExecFrame({ stream: 'stdout', data: 'aGk=' }), { stream: 'stdout', data: 'aGk=' });
    assert.ok(isErrorFrame(asExecFrame({ error: { code: 'NotFound', message: 'x' } })));
    assert.throws(() => asExecFrame({ stream: 'stdin', data: '' }), FrameError);
    assert.throws(() => asLogFrame({ exit: 1 }), FrameError);
    assert.deepEqual(asLogFrame({ stream: 'stderr', line: 'l', time: 't', task: 'a', extra: 1 }), { stream: 'stderr', line: 'l', time: 't', task: 'a' });
  });

  void it('parses and writes log queries, refuses bad tails', () => {
    assert.deepEqual(parseLogQuery(new URLSearchParams('follow=1&tail=5')), { follow: true, tail: 5 });
    assert.deepEqual(parseLogQuery(new URLSearchParams('follow=true')), { follow: true });
    assert.deepEqual(parseLogQuery(new URLSearchParams('tail=-1')), { follow: false });
    assert.throws(() => parseLogQuery(new URLSearchParams('tail=x')), BadRequestError);
    assert.throws(() => parseLogQuery(new URLSearchParams('tail=-2')), BadRequestError);
    assert.equal(logQueryString({ follow: true, tail: 0 }, { namespace: 'a' }), 'namespace=a&follow=1&tail=0');
    assert.deepEqual(parseLogQuery(new URLSearchParams(logQueryString({ follow: false, tail: 3 }))), { follow: false, tail: 3 });
  });

  void it('checks exec bodies', () => {
    assert.deepEqual(parseExecRequest({ command: ['sh', '-c', 'x'] }), { command: ['sh', '-c', 'x'] });
    assert.deepEqual(parseExecRequest({ command: ['true'], timeoutSeconds: 2 }), { command: ['true'], timeoutSeconds: 2 });
    for (const bad of [null, {}, { command: [] }, { command: 'ls' }, { command: [1] }, { command: ['x'], timeoutSeconds: 0 }]) {
      assert.throws(() => parseExecRequest(bad), BadRequestError, JSON.stringify(bad));
    }
  });

  void it('merges service logs by time, keeping each task in order and errors last', () => {
    const a: LogFrame[] = [
      { stream: 'stdout', line: 'a1', time: '2024-01-01T00:00:00.100000001Z', task: 'a' },
      { stream: 'stdout', line: 'a2', time: '2024-01-01T00:00:00.3Z', task: 'a' },
      { stream: 'stdout', line: 'a3', time: '2024-01-01T00:00:00.3Z', task: 'a' },
    ];
    const b: LogFrame[] = [
      { error: { code: 'Unavailable', message: 'x' }, task: 'b' },
      { stream: 'stderr', line: 'b1', time: '2024-01-01T00:00:00.1000005Z', task: 'b' },
      { stream: 'stdout', line: 'b2', time: '2024-01-01T02:00:00.2+02:00', task: 'b' },
    ];
    const merged = mergeByTime([a, b]).map((f) => (isErrorFrame(f) ? 'error' : f.line));
    assert.deepEqual(merged, ['a1', 'b1', 'b2', 'a2', 'a3', 'error']);
  });
});
