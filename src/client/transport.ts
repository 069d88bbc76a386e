/**
 * HTTPS to the API server: one keep-alive agent that trusts only the cluster CA, JSON requests,
 * streaming GETs, and the mapping of every failure to a typed error (API errors rebuilt with
 * errorFromJSON; network and TLS failures -> UnavailableError).
 *
 * Failover (a config with several `servers`): a call goes to the current server; when it fails
 * in a way that is SAFE to repeat, the next server is tried (each once per call), and the one
 * that answered becomes the current one.
 *
 *   safe to repeat on another server             surfaced to the caller
 *   - no connection (refused, unreachable, DNS,  - a write whose request was sent and whose
 *     TLS handshake failed, no connection within   connection dropped (or timed out) before an
 *     connectTimeoutMs)                            answer: it may have been applied (ambiguous)
 *   - a read (GET) that failed in any way,       - every answer of a server (4xx, and 5xx to a
 *     or that a server answered 503                write): the server decided
 */
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { errorFromJSON, FlotillaError, UnavailableError } from '../api/errors.js';
import { serverUrls, type ClientConfig } from './config.js';

/** Options of the transport. */
export interface TransportOptions {
  /** Per-request deadline for non-streaming calls (default 30 s). */
  timeoutMs?: number;
  /** Sockets kept open to the server (default 64). */
  maxSockets?: number;
  /** No TLS connection within this long: try the next server (default 5000 ms). */
  connectTimeoutMs?: number;
}

/** A write that reached a server whose answer never came: it may or may not have been applied. */
export class AmbiguousWriteError extends UnavailableError {
  readonly ambiguous = true;
}

/** One attempt's failure, and whether the call may go to the next server. */
class AttemptError extends Error {
  constructor(readonly error: FlotillaError, readonly retryElsewhere: boolean) {
    super(error.message);
  }
}

/** A JSON-over-HTTPS connection pool to the servers of one cluster; see the file comment. */
export class HttpsTransport {
  /** Every server, in the order of the config. */
  readonly bases: URL[];
  /** Index of the server calls go to first. */
  private current = 0;
  private readonly connectTimeoutMs: number;
  private agent: https.Agent;
  private readonly maxSockets: number;
  private ca: string;
  private cert: string | undefined;
  private key: string | undefined;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;

  constructor(config: ClientConfig, opts: TransportOptions = {}) {
    this.bases = serverUrls(config).map((u) => new URL(u));
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
    this.maxSockets = opts.maxSockets ?? 64;
    this.ca = config.ca;
    this.cert = config.cert;
    this.key = config.key;
    this.agent = new https.Agent({ keepAlive: true, maxSockets: this.maxSockets, ca: config.ca, cert: config.cert, key: config.key });
    this.headers = config.token !== undefined ? { authorization: `Bearer ${config.token}` } : {};
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** The server calls go to now (the last one that answered). */
  get base(): URL {
    return this.bases[this.current] as URL;
  }

  /** Sends a JSON request; resolves with the parsed answer, rejects with a typed error. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const res = await this.send(method, path, data, { idleTimeoutMs: this.timeoutMs });
    const text = await readAll(res);
    if ((res.statusCode ?? 500) >= 400) throw errorFromResponse(res, text);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new FlotillaError(`${method} ${path}: answer is not JSON: ${text.slice(0, 200)}`);
    }
  }

  /**
   * Opens a streaming GET; resolves with the 200 response, rejects with a typed error (also when
   * no answer came within the request timeout, or `signal` aborted).
   */
  async stream(path: string, signal?: AbortSignal): Promise<IncomingMessage> {
    const res = await this.send('GET', path, undefined, { headersTimeoutMs: this.timeoutMs, signal });
    if ((res.statusCode ?? 500) >= 400) throw errorFromResponse(res, await readAll(res));
    return res;
  }

  /**
   * Opens a streaming request of any method with an optional JSON body (exec, logs): resolves
   * with the 2xx response once its status line came, rejects with a typed error otherwise.
   */
  async streamRequest(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<IncomingMessage> {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const res = await this.send(method, path, data, { headersTimeoutMs: this.timeoutMs, signal });
    if ((res.statusCode ?? 500) >= 400) throw errorFromResponse(res, await readAll(res));
    return res;
  }

  /**
   * Switches to a renewed client certificate: new requests use it; requests and watches in
   * flight finish on their old connections. `caPem`: a new trust bundle (CA rotation).
   */
  setClientCertificate(certPem: string, keyPem: string, caPem?: string): void {
    if (caPem !== undefined) this.ca = caPem;
    this.cert = certPem;
    this.key = keyPem;
    const old = this.agent;
    this.agent = new https.Agent({ keepAlive: true, maxSockets: this.maxSockets, ca: this.ca, cert: certPem, key: keyPem });
    setTimeout(() => old.destroy(), 60_000).unref();
  }

  /** Trusts a new CA bundle (`flotilla ca rotate`) from the next connection on. */
  setTrustBundle(caPem: string): void {
    this.ca = caPem;
    const old = this.agent;
    this.agent = new https.Agent({ keepAlive: true, maxSockets: this.maxSockets, ca: caPem, cert: this.cert, key: this.key });
    setTimeout(() => old.destroy(), 60_000).unref();
  }

  /** Closes pooled sockets. */
  close(): void {
    this.agent.destroy();
  }

  /** One call: the current server, then (when safe, see the file comment) each other one once. */
  private async send(method: string, path: string, data: string | undefined, t: { idleTimeoutMs?: number; headersTimeoutMs?: number; signal?: AbortSignal }): Promise<IncomingMessage> {
    const read = method === 'GET' || method === 'HEAD';
    let last: FlotillaError | undefined;
    for (let k = 0; k < this.bases.length; k++) {
      const index = (this.current + k) % this.bases.length;
      try {
        const res = await this.attempt(this.bases[index] as URL, method, path, data, t, read);
        if (read && res.statusCode === 503 && k < this.bases.length - 1) {
          last = errorFromResponse(res, await readAll(res));
          continue;
        }
        this.current = index;
        return res;
      } catch (err) {
        if (!(err instanceof AttemptError)) throw err;
        last = err.error;
        if (!err.retryElsewhere || t.signal?.aborted === true) throw err.error;
      }
    }
    throw last ?? new UnavailableError('no server configured');
  }

  private attempt(base: URL, method: string, path: string, data: string | undefined, t: { idleTimeoutMs?: number; headersTimeoutMs?: number; signal?: AbortSignal }, read: boolean): Promise<IncomingMessage> {
    const url = new URL(path, base);
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let connectTimer: NodeJS.Timeout | undefined;
      let connected = false;
      const headers: Record<string, string | number> = { ...this.headers, accept: 'application/json' };
      if (data !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(data);
      }
      const timeout = (ms: number, code = 'ETIMEDOUT') => () => req.destroy(Object.assign(new Error(`no ${code === 'ETIMEDOUT' ? 'answer' : 'connection'} within ${ms} ms`), { code }));
      const req = https.request(url, { method, agent: this.agent, headers, signal: t.signal }, (res) => {
        clearTimeout(timer);
        clearTimeout(connectTimer);
        resolve(res);
      });
      req.on('socket', (socket: Socket) => {
        const up = (): void => { connected = true; clearTimeout(connectTimer); };
        if (req.reusedSocket || !socket.connecting) up();
        else socket.once('secureConnect', up);
      });
      req.on('error', (err) => {
        clearTimeout(timer);
        clearTimeout(connectTimer);
        // Not connected: the server never saw the request. A read may be repeated anyway.
        const safe = !connected || read;
        const e = networkError(base, method, path, err);
        reject(new AttemptError(safe || t.signal?.aborted === true ? e : new AmbiguousWriteError(`${e.message}: the request was sent, it may or may not have been applied`), safe && t.signal?.aborted !== true));
      });
      if (this.connectTimeoutMs > 0) connectTimer = setTimeout(timeout(this.connectTimeoutMs, 'ECONNECTTIMEOUT'), this.connectTimeoutMs);
      if (t.idleTimeoutMs !== undefined && t.idleTimeoutMs > 0) req.setTimeout(t.idleTimeoutMs, timeout(t.idleTimeoutMs));
      if (t.headersTimeoutMs !== undefined && t.headersTimeoutMs > 0) timer = setTimeout(timeout(t.headersTimeoutMs), t.headersTimeoutMs);
      req.end(data);
    });
  }
}

/** The typed error of an error answer (JSON from the server, or whatever a proxy sent). */
function errorFromResponse(res: IncomingMessage, text: string): FlotillaError {
  try {
    const body = JSON.parse(text) as { code?: string; message?: string };
    if (typeof body === 'object' && body !== null && typeof body.code === 'string') return errorFromJSON(body);
  } catch {
    // not JSON: fall through
  }
  const status = res.statusCode ?? 500;
  const msg = `server answered ${status} ${res.statusMessage ?? ''}: ${text.slice(0, 200)}`;
  return status >= 500 ? new UnavailableError(msg) : new FlotillaError(msg);
}

function networkError(base: URL, method: string, path: string, err: Error): FlotillaError {
  const code = (err as NodeJS.ErrnoException).code;
  return new UnavailableError(`cannot reach the flotilla server at ${base.origin} (${method} ${path}): ${code !== undefined ? `${code} ` : ''}${err.message}`);
}

async function readAll(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
  } catch (err) {
    throw new UnavailableError(`connection lost while reading the answer: ${(err as Error).message}`);
  }
  return Buffer.concat(chunks).toString('utf8');
}
