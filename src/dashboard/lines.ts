/**
 * Splits a streamed body into lines (the watch API, logs: JSON lines): chunks end anywhere, also
 * inside a line or a multi-byte character, so the splitter keeps the unfinished tail for the
 * next chunk. Pure: unit-tested in test/dashboard/lines.test.ts.
 */

/** Feeds text chunks in, takes whole lines out (without the newline; `\r\n` too; empty lines dropped). */
export class LineSplitter {
  private tail = '';

  /** The whole lines that this chunk completes. */
  push(chunk: string): string[] {
    const text = this.tail + chunk;
    const parts = text.split('\n');
    this.tail = parts.pop() ?? '';
    return parts.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)).filter((l) => l !== '');
  }

  /** The last line, when the stream ended without a newline. */
  end(): string[] {
    const t = this.tail.endsWith('\r') ? this.tail.slice(0, -1) : this.tail;
    this.tail = '';
    return t === '' ? [] : [t];
  }
}

/**
 * Reads a fetch body as lines: bytes decoded as UTF-8 across chunk boundaries. Resolves when
 * the body ends or `signal` aborts (the body is cancelled); rejects when it breaks.
 */
export async function readLines(body: ReadableStream<Uint8Array>, onLine: (line: string) => void, signal?: AbortSignal): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const splitter = new LineSplitter();
  const cancel = (): void => void reader.cancel().catch(() => undefined);
  if (signal?.aborted === true) cancel();
  signal?.addEventListener('abort', cancel);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const l of splitter.push(decoder.decode(value, { stream: true }))) onLine(l);
    }
    for (const l of splitter.push(decoder.decode())) onLine(l);
    for (const l of splitter.end()) onLine(l);
  } finally {
    signal?.removeEventListener('abort', cancel);
    reader.releaseLock();
  }
}
