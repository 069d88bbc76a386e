/**
 * Passing agent streams on to the caller: one task's logs or exec frames as they come (checked
 * and re-encoded line by line, so a cut connection never leaves half a frame), and the merged
 * logs of a service: without follow every task's lines sorted by time, with follow the lines
 * of all tasks as they arrive, and of every task that starts later (until the caller hangs
 * up); each line carries its task's name.
 *
 *   follow: list tasks (revision R) ──► a stream per placed task
 *           watch Tasks from R ──► a task of the service starting/running, not streamed yet ──► its stream
 *           (a task whose container did not exist yet when asked is streamed once it starts)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FlotillaError, NotFoundError, UnavailableError } from '../../api/errors.js';
import {
  asExecFrame, asLogFrame, encodeFrame, FRAMES_CONTENT_TYPE, isErrorFrame, logQueryString, readFrames,
  type ErrorFrame, type ExecFrame, type ExecRequest, type LogFrame, type LogLineFrame, type LogQuery,
} from '../../api/frames.js';
import type { Task } from '../../api/kinds.js';
import type { AgentDialer } from './agent-dialer.js';
import type { LocatedTask } from './routes.js';
import type { Disposable } from '../../lifecycle.js';

/** How service logs find and open the streams of the service's tasks. */
export interface TaskSource {
  /** The service's tasks (NotFoundError when the service does not exist). */
  tasksOf(namespace: string, service: string): Promise<Task[]>;
  /**
   * Calls `onTask` for every later change of a task of the service (follow mode: new tasks are
   * streamed as they start); absent: follow only the tasks there were at the start.
   */
  watchTasks?(namespace: string, service: string, onTask: (t: Task) => void): Promise<Disposable>;
  locate(task: Task): Promise<LocatedTask>;
  open(l: LocatedTask, q: LogQuery, signal: AbortSignal): Promise<IncomingMessage>;
}

/** Streams one task's logs from its agent to the caller. */
export async function pipeLogs(dialer: AgentDialer, l: LocatedTask, q: LogQuery, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const agentRes = await dialer.open(l.target, 'GET', `/containers/${encodeURIComponent(l.containerId)}/logs?${logQueryString(q)}`, undefined, signal);
  startStream(res);
  try {
    for await (const f of readFrames(agentRes)) await write(res, asLogFrame(f), signal);
  } catch (err) {
    if (!signal.aborted) res.write(encodeFrame(lostFrame(err, l)));
  }
  res.end();
}

/** Runs a command through the task's agent, passing its frames on; ends with exit or error. */
export async function pipeExec(dialer: AgentDialer, l: LocatedTask, body: ExecRequest, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const agentRes = await dialer.open(l.target, 'POST', `/containers/${encodeURIComponent(l.containerId)}/exec`, body, signal);
  startStream(res);
  let last: ExecFrame | undefined;
  try {
    for await (const f of readFrames(agentRes)) {
      last = asExecFrame(f);
      await write(res, last, signal);
    }
    if (last === undefined || !('exit' in last || isErrorFrame(last))) throw new UnavailableError('the agent closed the stream before the command ended');
  } catch (err) {
    if (!signal.aborted) res.write(encodeFrame(lostFrame(err, l)));
  }
  res.end();
}

/** The merged logs of every task of a service that was placed on a node. */
export async function serveServiceLogs(src: TaskSource, namespace: string, service: string, q: LogQuery, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const tasks = (await src.tasksOf(namespace, service)).filter((t) => t.spec.node !== '');
  startStream(res);
  if (q.follow) {
    await followTasks(src, namespace, service, tasks, q, res, signal);
  } else {
    const all = await Promise.all(tasks.map(async (t) => {
      const out: LogFrame[] = [];
      for await (const f of taskFrames(src, t, q, signal)) out.push(f);
      return out;
    }));
    for (const f of mergeByTime(all)) await write(res, f, signal);
  }
  res.end();
}

/** Task states in which the container exists (or existed): its logs can be opened. */
const HAS_CONTAINER: ReadonlySet<string> = new Set(['starting', 'running', 'complete', 'failed']);

/** Streams the tasks there are, then (with watchTasks) each task that starts, until the caller hangs up. */
async function followTasks(src: TaskSource, namespace: string, service: string, initial: Task[], q: LogQuery, res: ServerResponse, signal: AbortSignal): Promise<void> {
  /** uid -> streaming; a task whose container was missing is deleted again, to be retried when it starts. */
  const streaming = new Set<string>();
  const streams: Promise<void>[] = [];
  const start = (t: Task): void => {
    const uid = t.metadata.uid;
    if (t.spec.node === '' || streaming.has(uid) || signal.aborted) return;
    streaming.add(uid);
    streams.push((async () => {
      for await (const f of taskFrames(src, t, q, signal, () => streaming.delete(uid))) await write(res, f, signal);
    })());
  };
  for (const t of initial) start(t);
  if (src.watchTasks === undefined) {
    await Promise.all(streams);
    return;
  }
  const watch = await src.watchTasks(namespace, service, (t) => {
    if (t.spec.desiredState === 'running' && HAS_CONTAINER.has(t.status?.state ?? '')) start(t);
  });
  try {
    if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  } finally {
    await watch.stop();
    await Promise.all(streams);
  }
}

/**
 * One task's frames tagged with its name; a task without logs (no container yet) is skipped,
 * with `onMissing` called; other failures become an error frame.
 */
async function* taskFrames(src: TaskSource, t: Task, q: LogQuery, signal: AbortSignal, onMissing?: () => void): AsyncGenerator<LogFrame> {
  const task = t.metadata.name;
  let l: LocatedTask | undefined;
  try {
    l = await src.locate(t);
    const res = await src.open(l, q, signal);
    for await (const f of readFrames(res)) yield { ...asLogFrame(f), task };
  } catch (err) {
    if (err instanceof NotFoundError) onMissing?.();
    if (signal.aborted || err instanceof NotFoundError) return;
    yield { ...(l !== undefined ? lostFrame(err, l) : errorFrameOf(err)), task };
  }
}

/** Lines of all tasks ordered by time (stable: a task's own order is kept); error frames last. */
export function mergeByTime(perTask: LogFrame[][]): LogFrame[] {
  const lines: { f: LogLineFrame; t: number; i: number }[] = [];
  const errors: ErrorFrame[] = [];
  let i = 0;
  for (const frames of perTask) {
    for (const f of frames) {
      if (isErrorFrame(f)) errors.push(f);
      else lines.push({ f, t: timeOf(f.time), i: i++ });
    }
  }
  lines.sort((a, b) => a.t - b.t || a.i - b.i);
  return [...lines.map((x) => x.f), ...errors];
}

/** Milliseconds of an RFC 3339 time with any number of fraction digits (NaN sorts first). */
function timeOf(s: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$/.exec(s);
  if (m === null) return Number.NEGATIVE_INFINITY;
  const base = Date.parse(`${m[1] as string}${m[3] ?? 'Z'}`);
  const frac = m[2] !== undefined ? Number(`0${m[2]}`) * 1000 : 0;
  return Number.isNaN(base) ? Number.NEGATIVE_INFINITY : base + frac;
}

function startStream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': FRAMES_CONTENT_TYPE, 'cache-control': 'no-store' });
  res.flushHeaders();
}

async function write(res: ServerResponse, f: LogFrame | ExecFrame, signal: AbortSignal): Promise<void> {
  if (res.destroyed || res.writableEnded) return;
  if (res.write(encodeFrame(f))) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

function errorFrameOf(err: unknown): ErrorFrame {
  if (err instanceof FlotillaError) return { error: { code: err.code, message: err.message } };
  return { error: { code: 'Internal', message: (err as Error)?.message ?? String(err) } };
}

/** A failure after the stream started: a typed error as is, a broken connection as Unavailable. */
function lostFrame(err: unknown, l: LocatedTask): ErrorFrame {
  if (err instanceof FlotillaError) return errorFrameOf(err);
  return { error: { code: 'Unavailable', message: `node ${l.target.node}: connection to the agent lost: ${(err as Error)?.message ?? String(err)}` } };
}
