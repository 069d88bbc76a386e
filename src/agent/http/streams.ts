/**
 * The two streams of the agent endpoint: a container's logs (live through the runtime, or from
 * the archive once the container was removed) and a command run in a container, both as JSON
 * line frames (src/api/frames.ts). Checks that can fail cleanly happen before the status line;
 * later failures become an error frame.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { ConflictError, FlotillaError, NotFoundError } from '../../api/errors.js';
import { encodeFrame, FRAMES_CONTENT_TYPE, parseExecRequest, parseLogQuery, type ExecFrame, type LogFrame } from '../../api/frames.js';
import { readJsonBody } from '../../server/http/respond.js';
import type { ContainerRuntime, LogEntry } from '../runtime/runtime.js';
import { hasArchivedLogs, readArchivedLogs } from '../tasks/log-archive.js';

/** What the stream handlers need. */
export interface StreamEnv {
  runtime: ContainerRuntime;
  logDir: string;
  /** Streams in flight; stop() aborts them. */
  live: Set<AbortController>;
  log: (line: string) => void;
}

const EXEC_BODY_LIMIT_BYTES = 1024 * 1024;

/** Streams the logs of container `id` until the end (or, following, until it ended or the caller left). */
export async function serveLogs(env: StreamEnv, id: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const q = parseLogQuery(url.searchParams);
  const live = (await env.runtime.state(id)) !== undefined;
  if (!live && !(await hasArchivedLogs(env.logDir, id))) throw new NotFoundError(`container ${id} not found on this node, and no logs of it are kept`);
  await withAbort(env, res, async (signal) => {
    res.writeHead(200, { 'content-type': FRAMES_CONTENT_TYPE, 'cache-control': 'no-store' });
    res.flushHeaders();
    try {
      for await (const e of logsOf(env, id, live, { ...q, signal })) {
        if (signal.aborted) break;
        if (!res.write(encodeFrame({ stream: e.stream, line: e.line, time: e.time } satisfies LogFrame))) await drained(res, signal);
      }
    } catch (err) {
      if (!signal.aborted) res.write(encodeFrame(errorFrame(err)));
    }
    res.end();
  });
  void req;
}

/** Live logs through the runtime; the archive when the container is gone (also when it went meanwhile). */
async function* logsOf(env: StreamEnv, id: string, live: boolean, opts: { follow: boolean; tail?: number; signal: AbortSignal }): AsyncGenerator<LogEntry> {
  if (live) {
    let yielded = false;
    try {
      for await (const e of env.runtime.readLogs(id, opts)) {
        yielded = true;
        yield e;
      }
      return;
    } catch (err) {
      if (!(err instanceof NotFoundError) || yielded) throw err;
    }
  }
  yield* readArchivedLogs(env.logDir, id, opts);
}

/** Runs the body's command in container `id`, streaming its output, then its exit code. */
export async function serveExec(env: StreamEnv, id: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = parseExecRequest(await readJsonBody(req, EXEC_BODY_LIMIT_BYTES));
  const state = await env.runtime.state(id);
  if (state === undefined) throw new NotFoundError(`container ${id} is gone: its task ended and was cleaned up, or never started on this node`);
  if (state.status !== 'running') throw new ConflictError(`container ${id} is not running (${state.status}${state.exit !== undefined ? `, exit code ${state.exit.exitCode}` : ''})`);
  await withAbort(env, res, async (signal) => {
    res.writeHead(200, { 'content-type': FRAMES_CONTENT_TYPE, 'cache-control': 'no-store' });
    res.flushHeaders();
    let last: ExecFrame;
    try {
      const r = await env.runtime.exec(id, body.command, {
        stdout: frameSink(res, 'stdout'), stderr: frameSink(res, 'stderr'), signal,
        ...(body.timeoutSeconds !== undefined ? { timeoutMs: body.timeoutSeconds * 1000 } : {}),
      });
      last = { exit: r.exitCode, ...(r.timedOut === true ? { timedOut: true } : {}) };
    } catch (err) {
      last = errorFrame(err);
    }
    res.end(encodeFrame(last));
  });
}

/** The error frame of any thrown value. */
export function errorFrame(err: unknown): { error: { code: string; message: string } } {
  if (err instanceof FlotillaError) return { error: { code: err.code, message: err.message } };
  return { error: { code: 'Internal', message: (err as Error)?.message ?? String(err) } };
}

/** Answers an error as the API does (`{code, status, message}`), or cuts a stream already started. */
export function sendAgentError(res: ServerResponse, err: unknown, log: (line: string) => void): void {
  const fe = err instanceof FlotillaError ? err : new FlotillaError(`internal error: ${(err as Error)?.message ?? String(err)}`);
  if (fe.status >= 500) log(`agent endpoint: ${fe.status} ${(err as Error)?.stack ?? String(err)}`);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const data = JSON.stringify(fe.toJSON());
  res.writeHead(fe.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

/** An AbortController that fires when the caller goes away or the endpoint stops. */
async function withAbort(env: StreamEnv, res: ServerResponse, run: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const ac = new AbortController();
  const onClose = (): void => ac.abort();
  res.on('close', onClose);
  env.live.add(ac);
  try {
    await run(ac.signal);
  } finally {
    env.live.delete(ac);
    res.off('close', onClose);
    if (ac.signal.aborted) res.destroy();
  }
}

function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.on('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A Writable whose chunks become output frames on the response. */
function frameSink(res: ServerResponse, stream: 'stdout' | 'stderr'): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb): void {
      if (!res.destroyed && !res.writableEnded) res.write(encodeFrame({ stream, data: Buffer.from(chunk).toString('base64') }));
      cb();
    },
  });
}
