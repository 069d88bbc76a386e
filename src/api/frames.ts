/**
 * The wire format of the two streams that go CLI -> API server -> agent and back: container
 * logs and exec. Both are JSON lines (`application/x-ndjson`), one frame per line, so every hop
 * can pass them through, merge them (service logs) or parse them with a line splitter.
 *
 *   logs:  {"stream":"stdout","line":"hello","time":"2024-...Z"}     one per log line
 *          {"task":"web-1-ab", ...}                                  same, merged service logs
 *          {"error":{"code":"Unavailable","message":"..."}}          a failure after the start
 *   exec:  {"stream":"stdout","data":"<base64>"} ...                 output as it comes
 *          {"exit":3}                                                last frame on success
 *          {"error":{"code":"...","message":"..."}}                  last frame on failure
 *
 * A logs stream ends when the server closes it (no end frame): at the end of the output, or
 * when the container ended while following. An exec stream without `exit` or `error` at its
 * end was cut (connection lost).
 */
import { BadRequestError } from './errors.js';

/** The media type of every frame stream. */
export const FRAMES_CONTENT_TYPE = 'application/x-ndjson';

/** A failure reported inside a stream (the status line was already sent). */
export interface ErrorFrame {
  error: { code: string; message: string };
  /** Which task failed, in merged service logs. */
  task?: string;
}

/** One line of a container's output. */
export interface LogLineFrame {
  stream: 'stdout' | 'stderr';
  line: string;
  /** RFC 3339 time the line was read by the monitor. */
  time: string;
  /** Task name, in merged service logs only. */
  task?: string;
}

/** A frame of a logs stream. */
export type LogFrame = LogLineFrame | ErrorFrame;

/** A chunk of an exec'd command's output (base64: output is bytes, not always UTF-8). */
export interface ExecOutputFrame {
  stream: 'stdout' | 'stderr';
  data: string;
}

/** How the exec'd command ended. */
export interface ExecExitFrame {
  exit: number;
  /** The command was killed after the requested timeout. */
  timedOut?: boolean;
}

/** A frame of an exec stream. */
export type ExecFrame = ExecOutputFrame | ExecExitFrame | ErrorFrame;

/** The body of `POST .../exec`. */
export interface ExecRequest {
  command: string[];
  /** Kill the command after this long (default: no limit). */
  timeoutSeconds?: number;
}

/** Checks an exec body: a non-empty list of strings, an optional timeout > 0; BadRequestError otherwise. */
export function parseExecRequest(v: unknown): ExecRequest {
  const o = v as Partial<ExecRequest> | null;
  if (typeof o !== 'object' || o === null || !Array.isArray(o.command) || o.command.length === 0 || !o.command.every((a) => typeof a === 'string')) {
    throw new BadRequestError('exec body: command: expected a non-empty list of strings');
  }
  if (o.timeoutSeconds !== undefined && (typeof o.timeoutSeconds !== 'number' || !(o.timeoutSeconds > 0))) {
    throw new BadRequestError('exec body: timeoutSeconds: expected a number > 0');
  }
  return { command: o.command, ...(o.timeoutSeconds !== undefined ? { timeoutSeconds: o.timeoutSeconds } : {}) };
}

/** What a logs request asks for. */
export interface LogQuery {
  follow: boolean;
  /** Last N lines only; undefined for everything. */
  tail?: number;
}

/** `?follow=1|true&tail=N` (tail -1 or absent: everything); BadRequestError on a bad tail. */
export function parseLogQuery(q: URLSearchParams): LogQuery {
  const f = q.get('follow');
  const follow = f === '1' || f === 'true';
  const t = q.get('tail');
  if (t === null || t === '' || t === '-1') return { follow };
  const tail = Number(t);
  if (!Number.isSafeInteger(tail) || tail < 0) throw new BadRequestError(`tail must be a non-negative integer, got ${JSON.stringify(t)}`);
  return { follow, tail };
}

/** The query string of a LogQuery (what the client and the proxy send). */
export function logQueryString(q: LogQuery, extra: Record<string, string> = {}): string {
  const p = new URLSearchParams(extra);
  if (q.follow) p.set('follow', '1');
  if (q.tail !== undefined) p.set('tail', String(q.tail));
  return p.toString();
}

/** One frame as one line (JSON + `\n`). */
export function encodeFrame(frame: LogFrame | ExecFrame): string {
  return `${JSON.stringify(frame)}\n`;
}

/** True for an error frame. */
export function isErrorFrame(f: unknown): f is ErrorFrame {
  return typeof f === 'object' && f !== null && typeof (f as ErrorFrame).error === 'object' && (f as ErrorFrame).error !== null;
}

/** Checks a parsed line is an exec frame; throws on anything else. */
export function asExecFrame(v: unknown): ExecFrame {
  if (isErrorFrame(v)) return v;
  const o = v as Partial<ExecOutputFrame & ExecExitFrame> | null;
  if (typeof o === 'object' && o !== null) {
    if (typeof o.exit === 'number') return { exit: o.exit, ...(o.timedOut === true ? { timedOut: true } : {}) };
    if ((o.stream === 'stdout' || o.stream === 'stderr') && typeof o.data === 'string') return { stream: o.stream, data: o.data };
  }
  throw new FrameError(`not an exec frame: ${JSON.stringify(v).slice(0, 120)}`);
}

/** Checks a parsed line is a logs frame; throws on anything else. */
export function asLogFrame(v: unknown): LogFrame {
  if (isErrorFrame(v)) return v;
  const o = v as Partial<LogLineFrame> | null;
  if (typeof o === 'object' && o !== null && (o.stream === 'stdout' || o.stream === 'stderr') && typeof o.line === 'string') {
    return { stream: o.stream, line: o.line, time: typeof o.time === 'string' ? o.time : '', ...(typeof o.task === 'string' ? { task: o.task } : {}) };
  }
  throw new FrameError(`not a log frame: ${JSON.stringify(v).slice(0, 120)}`);
}

/** A line of a frame stream that is not a frame. */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

/**
 * Splits a byte stream into parsed JSON lines; chunks may cut lines and UTF-8 sequences
 * anywhere. Push chunks, take the complete frames; `end()` parses a last unterminated line.
 */
export class FrameDecoder {
  private rest = Buffer.alloc(0);

  /** Parses the complete lines the chunk finishes; throws FrameError on a line that is not JSON. */
  push(chunk: Buffer | string): unknown[] {
    const buf = Buffer.concat([this.rest, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
    const out: unknown[] = [];
    let start = 0;
    for (let nl = buf.indexOf(0x0a, start); nl >= 0; nl = buf.indexOf(0x0a, start)) {
      const line = buf.subarray(start, nl).toString('utf8');
      start = nl + 1;
      if (line.trim() !== '') out.push(parseLine(line));
    }
    this.rest = buf.subarray(start);
    return out;
  }

  /** The frame of a last line without `\n`, if any. */
  end(): unknown[] {
    const line = this.rest.toString('utf8');
    this.rest = Buffer.alloc(0);
    return line.trim() === '' ? [] : [parseLine(line)];
  }
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    throw new FrameError(`stream line is not JSON: ${line.slice(0, 120)}`);
  }
}

/** Parses every frame of a byte stream (an HTTP response) as it arrives. */
export async function* readFrames(source: AsyncIterable<Buffer | string>): AsyncGenerator<unknown> {
  const dec = new FrameDecoder();
  for await (const chunk of source) yield* dec.push(chunk);
  yield* dec.end();
}
