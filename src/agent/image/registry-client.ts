/**
 * Flotilla's client of the OCI distribution API: manifests by tag or digest, config and layer
 * blobs streamed to disk, every byte checked against its digest and size before it is
 * accepted; and the small push side that signatures need (blob upload, manifest PUT). HTTPS first; plain HTTP only for insecure hosts (loopback by
 * default, as Docker does). Authentication is delegated to RegistryAuthenticator.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FlotillaError, ForbiddenError, NotFoundError, UnauthorizedError, UnavailableError } from '../../api/errors.js';
import { pullScope, pushScope, RegistryAuthenticator, type RegistryCredentials } from './auth.js';
import { DigestMismatchError, UnsupportedImageError } from './errors.js';
import { MANIFEST_ACCEPT, parseManifest, type Descriptor, type ParsedManifest } from './manifest.js';
import { apiHost, isLoopbackRegistry } from './reference.js';
import { isProtocolMismatch, Transport, type RequestSpec, type TransportOptions } from './transport.js';

const MANIFEST_MAX_BYTES = 4 * 1024 * 1024;

/** How to reach and authenticate to one registry. */
export interface RegistryClientOptions extends TransportOptions {
  auth?: RegistryCredentials;
  /** 'http' forces plain HTTP; 'https' forbids the fallback; default: HTTPS, HTTP for insecure hosts. */
  scheme?: 'http' | 'https';
  /** Hosts (host:port) allowed to fall back to plain HTTP besides loopback. */
  insecureRegistries?: string[];
}

/** A manifest or index as fetched, with the digest its bytes hash to. */
export interface FetchedManifest {
  digest: string;
  mediaType: string;
  body: Buffer;
  parsed: ParsedManifest;
}

/** Digest of some bytes in `sha256:<hex>` form. */
export function sha256Digest(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A client for one registry; keeps connections and tokens until `stop()`. */
export class RegistryClient {
  readonly auth: RegistryAuthenticator;
  private readonly transport: Transport;
  private scheme: 'http' | 'https' | undefined;
  private readonly allowHttp: boolean;
  /** Requests sent, by kind: tests count blob GETs with it. */
  readonly requests = { manifest: 0, blob: 0 };

  constructor(
    readonly registry: string,
    opts: RegistryClientOptions = {},
  ) {
    this.transport = new Transport(opts);
    this.auth = new RegistryAuthenticator(registry, this.transport, opts.auth);
    this.scheme = opts.scheme;
    this.allowHttp = opts.scheme === 'http' || isLoopbackRegistry(registry) || (opts.insecureRegistries ?? []).includes(registry);
  }

  /** The digest a tag points at (HEAD), or undefined when the registry does not say. */
  async headManifest(repo: string, reference: string, what: string): Promise<string | undefined> {
    const res = await this.send(repo, 'HEAD', `/v2/${repo}/manifests/${reference}`, { Accept: MANIFEST_ACCEPT }, what);
    res.resume();
    const status = res.statusCode ?? 0;
    // Some registries refuse HEAD (405 and the like): then the GET that follows decides.
    if (status !== 200 && (status === 404 || status === 403 || status === 429 || status >= 500)) throw await errorFor(res, 'manifest unknown', what);
    if (status !== 200) return undefined;
    const d = res.headers['docker-content-digest'];
    return typeof d === 'string' && /^sha256:[a-f0-9]{64}$/.test(d) ? d : undefined;
  }

  /** GETs a manifest or index and checks it against the digest asked for (when by digest). */
  async getManifest(repo: string, reference: string, what: string): Promise<FetchedManifest> {
    this.requests.manifest++;
    const res = await this.send(repo, 'GET', `/v2/${repo}/manifests/${reference}`, { Accept: MANIFEST_ACCEPT }, what);
    if (res.statusCode !== 200) throw await errorFor(res, 'manifest unknown', what);
    const body = await readLimited(res, MANIFEST_MAX_BYTES, what);
    const digest = sha256Digest(body);
    const header = res.headers['docker-content-digest'];
    const expected = reference.startsWith('sha256:') ? reference : typeof header === 'string' && header.startsWith('sha256:') ? header : undefined;
    if (expected !== undefined && expected !== digest) throw new DigestMismatchError(expected, digest, `manifest ${what}`);
    const contentType = res.headers['content-type'];
    const parsed = parseManifest(body, contentType, what);
    const mediaType = parsed.kind === 'index' ? parsed.index.mediaType : parsed.manifest.mediaType;
    return { digest, mediaType, body, parsed };
  }

  /** Fetches a small blob (the config) into memory, verified. */
  async getBlob(repo: string, desc: Descriptor, what: string): Promise<Buffer> {
    const res = await this.openBlob(repo, desc, what);
    const body = await readLimited(res, Math.max(desc.size, 0) + 1, what);
    verify(desc, body.length, sha256Digest(body), what);
    return body;
  }

  /**
   * Streams a blob to `file`, hashing on the way; resolves only when size and digest match.
   * On any failure the file is removed. `onBytes` gets the running byte count.
   */
  async downloadBlob(repo: string, desc: Descriptor, file: string, onBytes?: (done: number) => void): Promise<void> {
    const what = `${this.registry}/${repo}@${desc.digest}`;
    const hash = createHash('sha256');
    let done = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb): void {
        done += chunk.length;
        if (done > desc.size) return cb(new DigestMismatchError(desc.digest, `more than ${desc.size} bytes`, `blob ${what}`));
        hash.update(chunk);
        onBytes?.(done);
        cb(null, chunk);
      },
    });
    try {
      const res = await this.openBlob(repo, desc, what);
      await pipeline(res, meter, createWriteStream(file, { mode: 0o600 }));
      verify(desc, done, `sha256:${hash.digest('hex')}`, what);
    } catch (err) {
      await rm(file, { force: true });
      if (err instanceof FlotillaError) throw err;
      throw new UnavailableError(`${what}: download failed: ${(err as Error).message}`);
    }
  }

  /** Uploads a small blob (monolithic POST then PUT) unless the registry has it; returns its digest. */
  async putBlob(repo: string, data: Buffer, what: string): Promise<string> {
    const digest = sha256Digest(data);
    const head = await this.send(repo, 'HEAD', `/v2/${repo}/blobs/${digest}`, {}, what, { push: true });
    head.resume();
    if (head.statusCode === 200) return digest;
    const start = await this.send(repo, 'POST', `/v2/${repo}/blobs/uploads/`, { 'Content-Length': '0' }, what, { push: true });
    start.resume();
    const location = start.headers.location;
    if (start.statusCode !== 202 || location === undefined) throw await errorFor(start, 'repository unknown', what);
    const url = new URL(location, `http://${apiHost(this.registry)}`);
    url.searchParams.set('digest', digest);
    const headers = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(data.length) };
    const put = await this.send(repo, 'PUT', `${url.pathname}${url.search}`, headers, what, { push: true, body: data });
    if (put.statusCode !== 201) throw await errorFor(put, 'blob upload unknown', what);
    put.resume();
    return digest;
  }

  /** PUTs a manifest under a tag (or digest); returns the digest its bytes hash to. */
  async putManifest(repo: string, reference: string, body: Buffer, mediaType: string, what: string): Promise<string> {
    const headers = { 'Content-Type': mediaType, 'Content-Length': String(body.length) };
    const res = await this.send(repo, 'PUT', `/v2/${repo}/manifests/${reference}`, headers, what, { push: true, body });
    if (res.statusCode !== 201) throw await errorFor(res, 'repository unknown', what);
    res.resume();
    return sha256Digest(body);
  }

  /** Closes idle connections. */
  stop(): void {
    this.transport.destroy();
  }

  private async openBlob(repo: string, desc: Descriptor, what: string): Promise<IncomingMessage> {
    this.requests.blob++;
    const res = await this.send(repo, 'GET', `/v2/${repo}/blobs/${desc.digest}`, {}, what);
    if (res.statusCode !== 200) throw await errorFor(res, 'blob unknown', what);
    return res;
  }

  /** One request with auth: anonymous or cached credentials first, one retry after a 401. */
  private async send(repo: string, method: RequestSpec['method'], path: string, headers: Record<string, string>, what: string, extra: { push?: boolean; body?: Buffer } = {}): Promise<IncomingMessage> {
    const scope = extra.push === true ? pushScope(repo) : pullScope(repo);
    for (let attempt = 0; attempt < 3; attempt++) {
      const authz = this.auth.header(scope);
      const res = await this.withScheme(path, { method, body: extra.body, headers: { ...headers, ...(authz !== undefined ? { Authorization: authz } : {}) } }, what);
      if (res.statusCode !== 401) return res;
      res.resume();
      await this.auth.challenged(headerString(res.headers['www-authenticate']), scope, authz);
    }
    throw new UnauthorizedError(`${what}: unauthorized`);
  }

  private async withScheme(path: string, spec: RequestSpec, what: string): Promise<IncomingMessage> {
    const host = apiHost(this.registry);
    if (this.scheme !== undefined) return (await this.transport.request(new URL(`${this.scheme}://${host}${path}`), spec, what)).res;
    try {
      const { res } = await this.transport.request(new URL(`https://${host}${path}`), spec, what);
      this.scheme = 'https';
      return res;
    } catch (err) {
      if (!this.allowHttp || !isProtocolMismatch((err as { cause?: unknown }).cause ?? err)) throw err;
      const { res } = await this.transport.request(new URL(`http://${host}${path}`), spec, what);
      this.scheme = 'http';
      return res;
    }
  }
}

function headerString(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

function verify(desc: Descriptor, size: number, digest: string, what: string): void {
  if (digest !== desc.digest) throw new DigestMismatchError(desc.digest, digest, `blob ${what}`);
  if (size !== desc.size) throw new DigestMismatchError(desc.digest, `${size} bytes, not ${desc.size}`, `blob ${what}`);
}

async function readLimited(res: IncomingMessage, max: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res) {
    const b = c as Buffer;
    n += b.length;
    if (n > max) {
      res.destroy();
      throw new UnsupportedImageError(`${what}: response larger than ${max} bytes`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** Turns a non-2xx answer into a typed error; reads the distribution error body if any. */
async function errorFor(res: IncomingMessage, notFound: string, what: string): Promise<Error> {
  const status = res.statusCode ?? 0;
  let detail = '';
  try {
    const body = await readLimited(res, 64 * 1024, what);
    const json = JSON.parse(body.toString('utf8')) as { errors?: { code?: string; message?: string }[] };
    detail = (json.errors ?? []).map((e) => `${e.code ?? ''}: ${e.message ?? ''}`).join('; ');
  } catch {
    // HEAD answers and non-JSON bodies carry no detail.
  }
  const suffix = detail !== '' ? ` (${detail})` : '';
  if (status === 404) return new NotFoundError(`${notFound}: ${what}`);
  if (status === 401) return new UnauthorizedError(`${what}: unauthorized${suffix}`);
  if (status === 403) return new ForbiddenError(`${what}: access denied${suffix}`);
  if (status === 429 || status >= 500) return new UnavailableError(`${what}: registry answered ${status}${suffix}`);
  return new FlotillaError(`${what}: registry answered ${status}${suffix}`);
}
