/**
 * The page's side of the HTTPS API: fetch on the page's own origin with the token as
 * `Authorization: Bearer`, errors as ApiError with the server's status, code and message (so a
 * 403 is shown where it happened, and a 401 sends the user back to the login page).
 */

/** An answer that was not 2xx, or a request that failed. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'ApiError';
  }

  /** 401: the token is not (or no longer) accepted. */
  get unauthorized(): boolean {
    return this.status === 401;
  }

  /** 403: RBAC refused this request for this token. */
  get forbidden(): boolean {
    return this.status === 403;
  }

  /** Worth trying again later: network errors (status 0) and 5xx/429. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/** The error in an API answer: its JSON `{code, message}` when it has one, else its status text. */
export async function errorOf(res: Response, what: string): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown };
    if (typeof body.message === 'string') return new ApiError(res.status, typeof body.code === 'string' ? body.code : String(res.status), body.message);
  } catch {
    // Not JSON: fall through to the status line.
  }
  return new ApiError(res.status, String(res.status), `${what}: ${res.status} ${res.statusText}${text !== '' ? `: ${text.slice(0, 200)}` : ''}`);
}

/** The fetch the client uses (the browser's; tests pass their own). */
export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

/** Requests with one token. */
export class Api {
  constructor(private readonly token: string, private readonly fetchFn: FetchFn = (i, init) => fetch(i, init)) {}

  /** GET a JSON answer; ApiError on anything but 2xx (status 0 when the request itself failed). */
  async get<T>(path: string, signal?: AbortSignal): Promise<T> {
    const res = await this.send(path, { signal });
    if (!res.ok) throw await errorOf(res, `GET ${path}`);
    return (await res.json()) as T;
  }

  /** A streaming GET (watch, logs follow): the Response once its status is 2xx. */
  async stream(path: string, signal: AbortSignal): Promise<Response> {
    const res = await this.send(path, { signal });
    if (!res.ok) throw await errorOf(res, `GET ${path}`);
    if (res.body === null) throw new ApiError(0, 'NoBody', `GET ${path}: the answer has no body`);
    return res;
  }

  private async send(path: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetchFn(path, { ...init, headers: { authorization: `Bearer ${this.token}`, accept: 'application/json' }, cache: 'no-store' });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ApiError(0, 'NetworkError', `GET ${path}: ${(err as Error).message}`);
    }
  }
}
