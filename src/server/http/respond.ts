/**
 * Reading JSON bodies and writing JSON answers and errors: the few helpers every handler uses,
 * so that every error leaves the server in the one shape `{code, status, message, issues?}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequestError, FlotillaError, UnavailableError } from '../../api/errors.js';

/** Request body over the limit (413). */
export class PayloadTooLargeError extends FlotillaError {
  override readonly status = 413;
  override readonly code = 'PayloadTooLarge';
}

/** Known path, wrong method (405). */
export class MethodNotAllowedError extends FlotillaError {
  override readonly status = 405;
  override readonly code = 'MethodNotAllowed';
}

/** Default limit of a request body. */
export const DEFAULT_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

/**
 * Deepest nesting of arrays and objects a body may have. Real objects nest a dozen levels; a
 * body nested thousands deep would overflow the stack of the validators (a 500), so it is
 * refused before parsing, as Kubernetes' decoder does.
 */
export const MAX_JSON_DEPTH = 100;

/** Reads and parses a JSON body; 413 over the limit, 400 on bad JSON, too deep nesting or an empty body. */
export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limitBytes) throw new PayloadTooLargeError(`request body of ${declared} bytes is over the limit of ${limitBytes}`);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limitBytes) throw new PayloadTooLargeError(`request body is over the limit of ${limitBytes} bytes`);
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof FlotillaError) throw err;
    // The client went away mid-body, or the server cut it off (requestTimeout: a slow client).
    throw new BadRequestError(`request body incomplete: the connection ended after ${size} bytes (${(err as Error).message})`);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new BadRequestError('request body is empty: expected JSON');
  const deep = tooDeepAt(text, MAX_JSON_DEPTH);
  if (deep !== undefined) throw new BadRequestError(`request body: expected JSON nested at most ${MAX_JSON_DEPTH} levels deep, found deeper nesting at character ${deep}`);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BadRequestError(`request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** The offset where `text` (JSON) nests deeper than `max` arrays/objects, ignoring brackets in strings; undefined if it never does. */
export function tooDeepAt(text: string, max: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return i;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return undefined;
}

/** Writes a JSON answer (with extra headers, e.g. Retry-After). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

/**
 * Turns any thrown value into the error JSON and its status; logs 5xx to stderr (a 503 on one
 * line: a full disk refuses every write, a stack trace each would flood the log). A 503 carries
 * Retry-After.
 */
export function sendError(res: ServerResponse, err: unknown, what: string): void {
  const fe = err instanceof FlotillaError ? err : new FlotillaError(`internal error: ${(err as Error)?.message ?? String(err)}`);
  if (fe instanceof UnavailableError) console.error(`flotilla server: ${what}: 503 ${fe.message}`);
  else if (fe.status >= 500) console.error(`flotilla server: ${what}: ${fe.status} ${(err as Error)?.stack ?? String(err)}`);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = fe instanceof UnavailableError ? { 'retry-after': String(fe.retryAfterSeconds) } : {};
  // The rest of an oversized body is not read (Node would drain it to keep the connection): close.
  if (fe instanceof PayloadTooLargeError) headers.connection = 'close';
  sendJson(res, fe.status, fe.toJSON(), headers);
}
