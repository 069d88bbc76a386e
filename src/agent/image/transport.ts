/**
 * One HTTP(S) request to a registry or a token realm, with keep-alive agents, a custom CA,
 * timeouts, redirects, and network failures turned into typed errors: unreachable and
 * timeouts are UnavailableError (retryable); certificate problems are RegistryTlsError.
 */
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import { UnavailableError } from '../../api/errors.js';
import { RegistryTlsError } from './errors.js';

/** Options that decide how a registry is reached. */
export interface TransportOptions {
  /** Extra CA certificates (PEM) trusted for HTTPS, on top of the system ones. */
  ca?: string;
  /** No bytes for this long on a connection: give up (UnavailableError). Default 30 s. */
  timeoutMs?: number;
}

/** Headers and method of one request. */
export interface RequestSpec {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT';
  headers: Record<string, string>;
  /** Request body (pushes: blobs and manifests). */
  body?: Buffer;
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_NOT_YET_VALID',
]);

/** True when an HTTPS attempt hit a plain-HTTP server (the fallback case for insecure hosts). */
export function isProtocolMismatch(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause?.code;
  const c = typeof code === 'string' ? code : typeof cause === 'string' ? cause : '';
  return c === 'EPROTO' || c.startsWith('ERR_SSL_');
}

/** Keep-alive agents per (protocol, CA); dropped by `destroy()`. */
export class Transport {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  private readonly httpsAgent: https.Agent;
  private readonly timeoutMs: number;

  constructor(opts: TransportOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 16, ...(opts.ca !== undefined ? { ca: withSystemCas(opts.ca) } : {}) });
  }

  /**
   * Sends one request and resolves with the response once headers arrive; follows up to 5
   * redirects, dropping Authorization when the host changes. The caller consumes the body.
   */
  async request(url: URL, spec: RequestSpec, what: string): Promise<{ res: http.IncomingMessage; url: URL }> {
    let current = url;
    let headers = spec.headers;
    for (let hop = 0; hop <= 5; hop++) {
      const res = await this.once(current, { method: spec.method, headers, body: spec.body }, what);
      const location = res.headers.location;
      if (res.statusCode === undefined || ![301, 302, 303, 307, 308].includes(res.statusCode) || location === undefined) {
        return { res, url: current };
      }
      res.resume();
      const next = new URL(location, current);
      if (next.host !== current.host) {
        headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
      }
      current = next;
    }
    throw new UnavailableError(`${what}: too many redirects`);
  }

  private once(url: URL, spec: RequestSpec, what: string): Promise<http.IncomingMessage> {
    const mod = url.protocol === 'https:' ? https : http;
    const agent = url.protocol === 'https:' ? this.httpsAgent : this.httpAgent;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { method: spec.method, headers: spec.headers, agent }, (res) => {
        res.setTimeout(this.timeoutMs, () => res.destroy(new UnavailableError(`${what}: no data for ${this.timeoutMs} ms`)));
        resolve(res);
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => reject(mapNetworkError(err, url, what)));
      req.end(spec.body);
    });
  }

  /** Closes idle keep-alive sockets; in-flight requests finish. */
  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

function withSystemCas(ca: string): string[] {
  // Passing `ca` replaces Node's bundled roots; keep them so a CA adds trust, not removes it.
  return [...rootCertificates, ca];
}

/** Maps a socket-level failure to a typed error that says which registry and why. */
export function mapNetworkError(err: unknown, url: URL, what: string): Error {
  if (err instanceof UnavailableError) return err;
  const code = (err as { code?: unknown }).code;
  const msg = (err as Error).message;
  if (typeof code === 'string' && TLS_CODES.has(code)) {
    return new RegistryTlsError(`${what}: TLS to ${url.host} failed: ${msg} (give the registry's CA)`);
  }
  if (isProtocolMismatch(err)) return Object.assign(new UnavailableError(`${what}: TLS handshake with ${url.host} failed: ${msg}`), { cause: err });
  return Object.assign(new UnavailableError(`${what}: registry ${url.host} unreachable: ${msg}`), { cause: err });
}
