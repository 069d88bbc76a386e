/**
 * The login page: paste a token (or a client config such as admin.json); it is checked with
 * one API request before it is kept in sessionStorage for this tab.
 */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import type { VNode } from 'preact';
import { Api, ApiError } from '../api.js';
import { parseTokenInput } from '../token.js';

/** See the file comment. */
export function Login(props: { onLogin: (token: string) => void; reason?: string }): VNode {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | undefined>(props.reason);
  const [busy, setBusy] = useState(false);

  const submit = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    const parsed = parseTokenInput(text);
    if ('error' in parsed) return setError(parsed.error);
    setBusy(true);
    try {
      // Any authenticated request tells whether the token is accepted; /revision needs no grant.
      // Once more after a network error (Chromium drops requests when an interface appears).
      const api = new Api(parsed.token);
      await api.get('/api/v1/revision').catch(async (err: unknown) => {
        if ((err as ApiError).status !== 0) throw err;
        await new Promise((r) => setTimeout(r, 500));
        return api.get('/api/v1/revision');
      });
      props.onLogin(parsed.token);
    } catch (err) {
      const e = err as ApiError;
      setError(e.unauthorized ? 'the server does not accept this token (401)' : `cannot log in: ${e.message}`);
    } finally {
      setBusy(false);
    }
  };

  return html`<main class="login">
    <h1>Flotilla</h1>
    <form onSubmit=${(ev: Event) => void submit(ev)}>
      <label for="token">Token</label>
      <textarea id="token" name="token" rows="4" spellcheck="false" autocomplete="off"
        placeholder="an admin or user token, or the contents of admin.json"
        value=${text} onInput=${(ev: Event) => setText((ev.target as HTMLTextAreaElement).value)}></textarea>
      <button type="submit" disabled=${busy}>Log in</button>
      ${error !== undefined ? html`<p class="error-note" role="alert">${error}</p>` : null}
      <p class="muted">The admin token is the <code>token</code> of <code>DATA_DIR/admin.json</code>;
        <code>flotilla user create NAME -o FILE</code> writes a user's. It is kept for this tab only (sessionStorage).</p>
    </form>
  </main>`;
}
