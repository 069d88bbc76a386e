/**
 * The API server's connection to an agent endpoint, mutual TLS: the server shows a client
 * certificate with CN `flotilla:server` (issued by the cluster CA at first use, re-issued before
 * it expires) and accepts only an agent certificate of the cluster CA whose CN is
 * `node:<the node it meant to reach>`, so a task's logs never come from another node.
 */
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { isIPv6 } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import { errorFromJSON, FlotillaError, UnavailableError } from '../../api/errors.js';
import { NODE_CN_PREFIX, SERVER_CLIENT_CN, type ClusterPki } from '../pki/index.js';

/** Where a node's agent endpoint listens. */
export interface AgentTarget {
  node: string;
  address: string;
  port: number;
}

/** Options of AgentDialer. */
export interface AgentDialerOptions {
  /** Lifetime of the server's client certificate (default 7 days; re-issued at two thirds). */
  certTtlMs?: number;
  /** How long to wait for the agent's status line (default 10 s). */
  headersTimeoutMs?: number;
}

/** `generation`: the PKI's when issued; a CA rotation (new serving CA) re-issues. */
interface Credentials { certPem: string; keyPem: string; renewAt: number; generation: number }

/** Opens requests to agents; see the file comment. */
export class AgentDialer {
  private creds: Promise<Credentials> | undefined;
  private readonly ttlMs: number;

  constructor(private readonly pki: ClusterPki, private readonly opts: AgentDialerOptions = {}) {
    this.ttlMs = opts.certTtlMs ?? 7 * 24 * 3600 * 1000;
  }

  /**
   * Sends one request; resolves with the agent's 2xx response (a stream), rejects with the
   * agent's own typed error (its message prefixed with the node), or UnavailableError when the
   * agent cannot be reached or is not who it should be.
   */
  async open(t: AgentTarget, method: 'GET' | 'POST', path: string, body: unknown, signal: AbortSignal): Promise<IncomingMessage> {
    const c = await this.credentials();
    const data = body === undefined ? undefined : JSON.stringify(body);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const headers: Record<string, string | number> = { accept: 'application/x-ndjson' };
      if (data !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(data);
      }
      const req = https.request({
        host: t.address, port: t.port, path, method, headers, signal, agent: false,
        ca: this.pki.caCertPem, cert: c.certPem, key: c.keyPem,
        checkServerIdentity: (_host: string, cert: PeerCertificate) => checkAgentIdentity(t.node, cert),
      }, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      const ms = this.opts.headersTimeoutMs ?? 10_000;
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(unreachable(t, err));
      });
      req.end(data);
    });
    if ((res.statusCode ?? 500) < 400) return res;
    throw agentError(t, res.statusCode ?? 500, await readText(res));
  }

  private credentials(): Promise<Credentials> {
    const now = Date.now();
    const current = this.creds;
    if (current !== undefined) {
      return current.then((c) => (c.renewAt > now && c.generation === this.pki.generation ? c : this.issue()), () => this.issue());
    }
    return this.issue();
  }

  private issue(): Promise<Credentials> {
    const generation = this.pki.generation;
    const p = this.pki.issueClientCertificate(SERVER_CLIENT_CN, this.ttlMs).then((r) => ({
      certPem: r.certPem, keyPem: r.keyPem, renewAt: Date.now() + ((r.notAfter.getTime() - Date.now()) * 2) / 3, generation,
    }));
    this.creds = p;
    return p;
  }
}

/** `checkServerIdentity` for agents: the certificate must name the node we meant (`node:NAME`). */
export function checkAgentIdentity(node: string, cert: PeerCertificate): Error | undefined {
  const cn = cert.subject?.CN;
  if (cn === `${NODE_CN_PREFIX}${node}`) return undefined;
  return Object.assign(new Error(`the agent's certificate is for ${JSON.stringify(cn ?? '')}, not ${NODE_CN_PREFIX}${node}`), { code: 'ERR_AGENT_IDENTITY' });
}

/** `host:port` as a URL authority (IPv6 in brackets). */
export function hostPort(t: AgentTarget): string {
  return `${isIPv6(t.address) ? `[${t.address}]` : t.address}:${t.port}`;
}

function unreachable(t: AgentTarget, err: Error): FlotillaError {
  const code = (err as NodeJS.ErrnoException).code;
  return new UnavailableError(`node ${t.node} is unreachable: cannot connect to its agent at ${hostPort(t)}: ${code !== undefined && !err.message.includes(code) ? `${code} ` : ''}${err.message}`);
}

function agentError(t: AgentTarget, status: number, text: string): FlotillaError {
  try {
    const body = JSON.parse(text) as { code?: string; message?: string };
    if (typeof body?.code === 'string') return errorFromJSON({ code: body.code, message: `node ${t.node}: ${body.message ?? body.code}` });
  } catch {
    // not JSON
  }
  return new UnavailableError(`node ${t.node}: agent answered ${status}: ${text.slice(0, 200)}`);
}

async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
  } catch {
    // what arrived is enough to report
  }
  return Buffer.concat(chunks).toString('utf8');
}
