/**
 * Registry authentication as the distribution spec describes it: try anonymously; on 401
 * read `WWW-Authenticate`. `Basic` -> send the credentials. `Bearer realm,service,scope` ->
 * get a token from the realm (with the credentials, if any, as Basic), cache it per scope
 * until it expires, retry. Credentials that the registry or realm rejects are an
 * UnauthorizedError that says so.
 */
import { UnauthorizedError, UnavailableError } from '../../api/errors.js';
import type { Transport } from './transport.js';

/** Username and password (or identity token as password) for one registry. */
export interface RegistryCredentials {
  username: string;
  password: string;
}

/** One challenge of a `WWW-Authenticate` header. */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses `Bearer realm="https://a/token",service="reg",scope="repository:x:pull"` (several
 * challenges allowed, quoted strings with escapes, tokens unquoted). Scheme is lower-cased.
 */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  const tokenRe = /[\w!#$%&'*+.^`|~/-]+/y;
  let i = 0;
  const skip = (chars: string): void => {
    while (i < header.length && chars.includes(header[i] ?? '')) i++;
  };
  const readToken = (): string => {
    tokenRe.lastIndex = i;
    const m = tokenRe.exec(header);
    if (m === null) return '';
    i = tokenRe.lastIndex;
    return m[0];
  };
  while (i < header.length) {
    skip(' \t,');
    const name = readToken();
    if (name === '') {
      i++;
      continue;
    }
    skip(' \t');
    const current = out[out.length - 1];
    if (header[i] !== '=' || current === undefined) {
      out.push({ scheme: name.toLowerCase(), params: {} });
      continue;
    }
    i++;
    skip(' \t');
    current.params[name.toLowerCase()] = header[i] === '"' ? readQuoted() : readBare();
  }
  return out;

  function readBare(): string {
    const start = i;
    while (i < header.length && !' \t,'.includes(header[i] ?? '')) i++;
    return header.slice(start, i);
  }

  function readQuoted(): string {
    let v = '';
    for (i++; i < header.length && header[i] !== '"'; i++) {
      if (header[i] === '\\') i++;
      v += header[i] ?? '';
    }
    i++;
    return v;
  }
}

interface CachedToken {
  token: string;
  expiresAtMs: number;
}

/** The scope a request to a repository needs: `repository:<repo>:pull`. */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

/** The scope of an upload (blob or manifest PUT): `repository:<repo>:pull,push`. */
export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

/**
 * Per-registry authentication state: which scheme the registry wants, and bearer tokens per
 * scope. `header(scope)` gives what to send now; `challenged()` handles a 401.
 */
export class RegistryAuthenticator {
  private mode: 'anonymous' | 'basic' | 'bearer' = 'anonymous';
  private bearer: { realm: string; service?: string } | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, Promise<void>>();
  /** How many tokens were fetched from the realm (tests check caching with it). */
  tokenFetches = 0;

  constructor(
    private readonly registry: string,
    private readonly transport: Transport,
    private readonly creds: RegistryCredentials | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** The Authorization header for a request in `scope`, or undefined to go anonymous. */
  header(scope: string): string | undefined {
    if (this.mode === 'basic' && this.creds !== undefined) return `Basic ${basic(this.creds)}`;
    if (this.mode === 'bearer') {
      const t = this.tokens.get(scope);
      if (t !== undefined && t.expiresAtMs > this.now()) return `Bearer ${t.token}`;
    }
    return undefined;
  }

  /**
   * Handles a 401. `sent` is the Authorization we sent: when the registry refuses what we
   * would send again, the credentials are wrong and this throws UnauthorizedError.
   */
  async challenged(wwwAuthenticate: string | undefined, scope: string, sent: string | undefined): Promise<void> {
    const challenges = parseWwwAuthenticate(wwwAuthenticate ?? '');
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basicC = challenges.find((c) => c.scheme === 'basic');
    if (bearer?.params.realm !== undefined) {
      if (sent?.startsWith('Bearer ')) {
        this.tokens.delete(scope);
        const why = bearer.params.error !== undefined ? ` (${bearer.params.error})` : '';
        throw new UnauthorizedError(`${this.registry}: the registry refused the token for ${scope}${why}`);
      }
      this.mode = 'bearer';
      this.bearer = { realm: bearer.params.realm, service: bearer.params.service };
      await this.singleFlightToken(bearer.params.scope ?? scope, scope);
      return;
    }
    if (basicC !== undefined) {
      if (this.creds === undefined) throw new UnauthorizedError(`${this.registry}: unauthorized: the registry requires a login (Basic) and no credentials were given (imagePullSecret, flotilla registry login)`);
      if (sent?.startsWith('Basic ')) throw new UnauthorizedError(`${this.registry}: wrong username or password`);
      this.mode = 'basic';
      return;
    }
    throw new UnauthorizedError(`${this.registry}: unauthorized, and no usable WWW-Authenticate challenge (${wwwAuthenticate ?? 'none'})`);
  }

  private singleFlightToken(requestScope: string, cacheScope: string): Promise<void> {
    const existing = this.inflight.get(cacheScope);
    if (existing !== undefined) return existing;
    const p = this.fetchToken(requestScope, cacheScope).finally(() => this.inflight.delete(cacheScope));
    this.inflight.set(cacheScope, p);
    return p;
  }

  private async fetchToken(requestScope: string, cacheScope: string): Promise<void> {
    const realm = this.bearer?.realm ?? '';
    const url = new URL(realm);
    if (this.bearer?.service !== undefined) url.searchParams.set('service', this.bearer.service);
    for (const s of requestScope.split(' ').filter((x) => x !== '')) url.searchParams.append('scope', s);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.creds !== undefined) {
      headers.Authorization = `Basic ${basic(this.creds)}`;
      url.searchParams.set('account', this.creds.username);
    }
    const started = this.now();
    const { res } = await this.transport.request(url, { method: 'GET', headers }, `token from ${url.host}`);
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const status = res.statusCode ?? 0;
    if (status === 401 || status === 403) {
      throw new UnauthorizedError(`${this.registry}: token realm ${url.origin}${url.pathname} refused the credentials (wrong username or password?)`);
    }
    if (status >= 500 || status === 429) throw new UnavailableError(`${this.registry}: token realm answered ${status}`);
    if (status !== 200) throw new UnauthorizedError(`${this.registry}: token realm answered ${status}`);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token ?? body.access_token;
    if (token === undefined || token === '') throw new UnauthorizedError(`${this.registry}: token realm sent no token`);
    const lifetimeS = Math.max(body.expires_in ?? 60, 60);
    this.tokens.set(cacheScope, { token, expiresAtMs: started + (lifetimeS - 10) * 1000 });
    this.tokenFetches++;
  }
}

function basic(c: RegistryCredentials): string {
  return Buffer.from(`${c.username}:${c.password}`).toString('base64');
}
