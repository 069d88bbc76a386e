/**
 * The login token: pasted by the user (an admin or user token, or a whole client config such
 * as admin.json, from which its `token` is taken), kept in sessionStorage (gone when the tab
 * closes; never in localStorage or a cookie). Pure parts unit-tested in test/dashboard/token.test.ts.
 */

/** The sessionStorage key. */
export const TOKEN_KEY = 'flotilla.token';

/** What a login box holds, as a token; an error message when it is not one. */
export function parseTokenInput(text: string): { token: string } | { error: string } {
  const t = text.trim();
  if (t === '') return { error: 'paste a token (flotilla user create NAME -o FILE writes one) or the contents of admin.json' };
  if (t.startsWith('{')) {
    let cfg: unknown;
    try {
      cfg = JSON.parse(t);
    } catch (err) {
      return { error: `this looks like a client config but is not valid JSON: ${(err as Error).message}` };
    }
    const token = (cfg as { token?: unknown } | null)?.token;
    if (typeof token !== 'string' || token === '') return { error: 'this client config has no "token" field (a config with a client certificate cannot be used in a browser)' };
    return { token };
  }
  if (/\s/.test(t)) return { error: 'a token is one word without spaces' };
  return { token: t };
}

/** The token of this tab, if logged in. */
export function loadToken(storage: Pick<Storage, 'getItem'>): string | undefined {
  const t = storage.getItem(TOKEN_KEY);
  return t === null || t === '' ? undefined : t;
}

/** Keeps the token for this tab. */
export function saveToken(storage: Pick<Storage, 'setItem'>, token: string): void {
  storage.setItem(TOKEN_KEY, token);
}

/** Logs out. */
export function clearToken(storage: Pick<Storage, 'removeItem'>): void {
  storage.removeItem(TOKEN_KEY);
}
