/** The login box (src/dashboard/token.ts): a token, or a client config with one. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clearToken, loadToken, parseTokenInput, saveToken, TOKEN_KEY } from '../../src/dashboard/token.js';

describe('dashboard token', () => {
  it('takes a bare token or the token of a pasted client config', () => {
    assert.deepEqual(parseTokenInput('  abc.def-123 \n'), { token: 'abc.def-123' });
    assert.deepEqual(parseTokenInput(JSON.stringify({ server: 'https://127.0.0.1:6443', ca: '---', token: 'tok' }, null, 2)), { token: 'tok' });
  });

  it('says what is wrong otherwise', () => {
    assert.match((parseTokenInput('') as { error: string }).error, /paste a token/);
    assert.match((parseTokenInput('{"server": ') as { error: string }).error, /not valid JSON/);
    assert.match((parseTokenInput('{"server": "x", "cert": "..."}') as { error: string }).error, /no "token" field/);
    assert.match((parseTokenInput('two words') as { error: string }).error, /without spaces/);
  });

  it('keeps it in the given storage (sessionStorage in the page)', () => {
    const m = new Map<string, string>();
    const storage = { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k) };
    assert.equal(loadToken(storage), undefined);
    saveToken(storage, 't1');
    assert.equal(m.get(TOKEN_KEY), 't1');
    assert.equal(loadToken(storage), 't1');
    clearToken(storage);
    assert.equal(loadToken(storage), undefined);
  });
});
