/**
 * The client side of the two streaming calls: the logs of a task or of a whole service, and a
 * command run in a task. Both read JSON line frames (src/api/frames.ts) from the API server,
 * which proxies them from the task's agent.
 *
 *   logs:  GET  /api/v1/{tasks|services}/NAME/logs?namespace=&follow=1&tail=N -> LogFrame...
 *   exec:  POST /api/v1/tasks/NAME/exec?namespace=  {command}  -> output... -> {exit}
 */
import { errorFromJSON, FlotillaError, UnavailableError } from '../api/errors.js';
import {
  asExecFrame, asLogFrame, isErrorFrame, logQueryString, readFrames,
  type ExecRequest, type LogFrame, type LogQuery,
} from '../api/frames.js';
import type { HttpsTransport } from './transport.js';

/** Whose logs: one task, or every task of a service (lines then carry `task`). */
export interface LogTarget {
  kind: 'task' | 'service';
  name: string;
  /** Default: the server's default namespace. */
  namespace?: string;
}

/** Where exec output goes. */
export interface ExecSinks {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
}

/** How an exec'd command ended. */
export interface ExecOutcome {
  exitCode: number;
  timedOut?: boolean;
}

/** Streams log frames (error frames included: the caller decides); ends when the server ends the stream. */
export async function* streamLogs(t: HttpsTransport, target: LogTarget, q: LogQuery, signal?: AbortSignal): AsyncGenerator<LogFrame> {
  const plural = target.kind === 'task' ? 'tasks' : 'services';
  const extra: Record<string, string> = target.namespace !== undefined && target.namespace !== '' ? { namespace: target.namespace } : {};
  const res = await t.streamRequest('GET', `/api/v1/${plural}/${encodeURIComponent(target.name)}/logs?${logQueryString(q, extra)}`, undefined, signal);
  try {
    for await (const f of readFrames(res)) yield asLogFrame(f);
  } catch (err) {
    if (signal?.aborted === true) return;
    throw lost(err);
  } finally {
    res.destroy();
  }
}

/** Runs a command in a task, writing its output to the sinks; resolves with its exit code. */
export async function execInTask(t: HttpsTransport, task: { name: string; namespace?: string }, req: ExecRequest, sinks: ExecSinks, signal?: AbortSignal): Promise<ExecOutcome> {
  const q = new URLSearchParams(task.namespace !== undefined && task.namespace !== '' ? { namespace: task.namespace } : {});
  const res = await t.streamRequest('POST', `/api/v1/tasks/${encodeURIComponent(task.name)}/exec?${q.toString()}`, req, signal);
  try {
    for await (const raw of readFrames(res)) {
      const f = asExecFrame(raw);
      if (isErrorFrame(f)) throw errorFromJSON(f.error);
      if ('exit' in f) return { exitCode: f.exit, ...(f.timedOut === true ? { timedOut: true } : {}) };
      (f.stream === 'stdout' ? sinks.stdout : sinks.stderr)(Buffer.from(f.data, 'base64'));
    }
  } catch (err) {
    throw lost(err);
  } finally {
    res.destroy();
  }
  throw new UnavailableError(`exec in task ${task.name}: the server closed the stream before the command ended`);
}

function lost(err: unknown): Error {
  if (err instanceof FlotillaError) return err;
  return new UnavailableError(`connection to the server lost while streaming: ${(err as Error)?.message ?? String(err)}`);
}
