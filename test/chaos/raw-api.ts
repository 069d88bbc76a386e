/**
 * A raw HTTPS client of a running `flotilla server` for the chaos tests: the status, headers and
 * body of every answer exactly as the server sent them (the typed ApiClient would retry a 503 or
 * turn it into an error; these tests count them). Keep-alive, so heavy load does not pay a TLS
 * handshake per request. Reads DATA_DIR/admin.json for the URL, CA and token.
 */
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { readFileSync } from 'node:fs';

/** One answer. `status` 0 means no answer (connection refused or reset, timeout). */
export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The parsed JSON body, or undefined when it was not JSON. */
  json: unknown;
  /** The network error when status is 0. */
  error?: string;
}

/** A client bound to one server (admin credentials). `close()` drops its connections. */
export class RawApi {
  readonly url: string;
  readonly ca: string;
  readonly token: string;
  private readonly agent: https.Agent;

  constructor(adminConfigPath: string, opts: { maxSockets?: number } = {}) {
    const cfg = JSON.parse(readFileSync(adminConfigPath, 'utf8')) as { server: string; ca: string; token: string };
    this.url = cfg.server;
    this.ca = cfg.ca;
    this.token = cfg.token;
    this.agent = new https.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 16, ca: this.ca });
  }

  /** Sends one request; never throws (a network failure is status 0). */
  request(method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<RawAnswer> {
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise((resolve) => {
      const req = https.request(`${this.url}${path}`, {
        method,
        agent: this.agent,
        headers: { authorization: `Bearer ${this.token}`, ...(data !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: parseJson(text) });
        });
        res.on('error', (err) => resolve({ status: 0, headers: {}, text: '', json: undefined, error: err.message }));
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (err) => resolve({ status: 0, headers: {}, text: '', json: undefined, error: err.message }));
      req.end(data);
    });
  }

  /** Drops the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A Config object carrying `bytes` of payload in an annotation (what fills the disk). */
export function bigConfig(name: string, bytes: number, marker: string): Record<string, unknown> {
  return {
    kind: 'Config',
    metadata: { name, namespace: 'default', annotations: { 'chaos/marker': marker, 'chaos/payload': 'x'.repeat(bytes) } },
    spec: { data: { marker } },
  };
}
