/**
 * One run of one probe, without a process where avoidable: HTTP(S) with node:http(s) and TCP
 * with node:net, from the node to the task's own address (the agent lives in the node's network
 * namespace, where task addresses are routed); exec through the runtime's exec (runc exec) in
 * the container. Every check resolves, never rejects, within its timeout, and says what it saw
 * in words a person reads. Messages carry only the observation: never a header, never a
 * command line, never the environment (secrets rule).
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { Writable } from 'node:stream';
import type { HttpProbe, Probe } from '../../api/kinds.js';
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { CheckOutcome, ProbeKind } from './verdict.js';

/** Runs one probe of a task; resolves with what it saw, also on timeout or abort. */
export interface ProbeChecker {
  check(kind: ProbeKind, probe: Probe, signal: AbortSignal): Promise<CheckOutcome>;
}

/** Where a task's probes go. */
export interface ProbeTarget {
  /** The task's address (`status.ip`); undefined when it has none (no network hook). */
  ip?: string;
  containerId: string;
  exec: ContainerRuntime['exec'];
}

const MAX_MESSAGE = 200;

/** The message a timeout gives: `timeout after 1s`. */
export function timeoutMessage(timeoutMs: number): string {
  return `timeout after ${timeoutMs / 1000}s`;
}

/** The real checker of one task. */
export function checkerFor(target: ProbeTarget): ProbeChecker {
  return {
    check(_kind: ProbeKind, probe: Probe, signal: AbortSignal): Promise<CheckOutcome> {
      const timeoutMs = probe.timeoutSeconds * 1000;
      if (probe.exec !== undefined) return execCheck(target.exec, target.containerId, probe.exec.command, timeoutMs, signal);
      if (target.ip === undefined || target.ip === '') return Promise.resolve({ ok: false, message: 'the task has no IP address' });
      if (probe.http !== undefined) return httpCheck(target.ip, probe.http, timeoutMs, signal);
      if (probe.tcp !== undefined) return tcpCheck(target.ip, probe.tcp.port, timeoutMs, signal);
      return Promise.resolve({ ok: false, message: 'the probe has no http, tcp or exec' });
    },
  };
}

/**
 * Settles once: the first of result, timeout or abort wins; `cleanup` then runs (destroying the
 * socket), so nothing outlives the check.
 */
function settleOnce(timeoutMs: number, signal: AbortSignal, cleanup: () => void): { done: (o: CheckOutcome) => void; result: Promise<CheckOutcome> } {
  let resolve!: (o: CheckOutcome) => void;
  const result = new Promise<CheckOutcome>((r) => { resolve = r; });
  let settled = false;
  const done = (o: CheckOutcome): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    cleanup();
    resolve({ ok: o.ok, message: shorten(o.message) });
  };
  const timer = setTimeout(() => done({ ok: false, message: timeoutMessage(timeoutMs) }), timeoutMs);
  const onAbort = (): void => done({ ok: false, message: 'probe stopped' });
  if (signal.aborted) queueMicrotask(onAbort);
  else signal.addEventListener('abort', onAbort, { once: true });
  return { done, result };
}

/** GET `scheme://host:port/path` with the probe's headers; 200-399 is a success. TLS certificates are not verified. */
export function httpCheck(host: string, probe: HttpProbe, timeoutMs: number, signal: AbortSignal): Promise<CheckOutcome> {
  let req: http.ClientRequest | undefined;
  const { done, result } = settleOnce(timeoutMs, signal, () => req?.destroy());
  try {
    const options: https.RequestOptions = {
      host, port: probe.port, path: probe.path, method: 'GET', agent: false,
      headers: { 'user-agent': 'flotilla-probe/1', accept: '*/*', ...probe.headers },
    };
    const onResponse = (res: http.IncomingMessage): void => {
      const code = res.statusCode ?? 0;
      res.resume();
      done({ ok: code >= 200 && code < 400, message: `HTTP ${code}` });
    };
    req = probe.scheme === 'https'
      ? https.request({ ...options, rejectUnauthorized: false }, onResponse)
      : http.request(options, onResponse);
    req.on('error', (err) => done({ ok: false, message: errorMessage(err) }));
    req.end();
  } catch (err) {
    // An invalid header value (rejected before anything is sent): Node names the header, not its value.
    done({ ok: false, message: errorMessage(err) });
  }
  return result;
}

/** Opens a TCP connection to host:port; connected is a success. */
export function tcpCheck(host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<CheckOutcome> {
  let sock: net.Socket | undefined;
  const { done, result } = settleOnce(timeoutMs, signal, () => sock?.destroy());
  sock = net.connect({ host, port });
  sock.once('connect', () => done({ ok: true, message: `connected to ${host}:${port}` }));
  sock.once('error', (err) => done({ ok: false, message: errorMessage(err) }));
  return result;
}

/** Runs `command` in the container; exit code 0 is a success. The exec is killed at the timeout. */
export async function execCheck(exec: ContainerRuntime['exec'], containerId: string, command: string[], timeoutMs: number, signal: AbortSignal): Promise<CheckOutcome> {
  const output = new FirstLine();
  try {
    const r = await exec(containerId, command, { stdout: output, stderr: output, timeoutMs, signal });
    if (r.timedOut === true) return { ok: false, message: timeoutMessage(timeoutMs) };
    if (signal.aborted) return { ok: false, message: 'probe stopped' };
    if (r.exitCode === 0) return { ok: true, message: 'exit code 0' };
    const line = output.line();
    return { ok: false, message: shorten(line !== '' ? `exit code ${r.exitCode}: ${line}` : `exit code ${r.exitCode}`) };
  } catch (err) {
    return { ok: false, message: shorten(errorMessage(err)) };
  }
}

/** Keeps the first 4 KiB of what is written; `line()` is its first non-empty line. */
class FirstLine extends Writable {
  private text = '';

  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    if (this.text.length < 4096) this.text += chunk.toString().slice(0, 4096 - this.text.length);
    cb();
  }

  line(): string {
    return this.text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
  }
}

/** `connect ECONNREFUSED 10.88.1.5:8080` as Node words it; the message only, never a stack. */
function errorMessage(err: unknown): string {
  return err instanceof Error && err.message !== '' ? err.message : String(err);
}

function shorten(s: string): string {
  return s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE - 3)}...` : s;
}
