/** Services' secrets and configs are accepted (they work end to end) with their defaults. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../src/api/errors.js';
import type { ServiceSpec } from '../../src/api/kinds.js';
import { validateSpec } from '../../src/api/validate/index.js';

const spec = (extra: Record<string, unknown>): ServiceSpec => validateSpec('Service', { image: 'busybox:1', ...extra }) as ServiceSpec;

describe('service secrets and configs', () => {
  it('accepts them, with default targets and modes', () => {
    const s = spec({ secrets: ['db-pass', { source: 'tls', target: '/etc/tls', mode: 0o440, uid: 100, gid: 101 }], configs: [{ source: 'app-conf', target: '/etc/app.conf' }, 'motd'] });
    assert.deepEqual(s.secrets, [
      { source: 'db-pass', target: '/run/secrets/db-pass', mode: 0o400, uid: 0, gid: 0 },
      { source: 'tls', target: '/etc/tls', mode: 0o440, uid: 100, gid: 101 },
    ]);
    assert.deepEqual(s.configs, [{ source: 'app-conf', target: '/etc/app.conf', mode: 0o444 }, { source: 'motd', target: '/motd', mode: 0o444 }]);
  });

  it('refuses a relative target and two mounts on one target, naming the field', () => {
    assert.throws(() => spec({ secrets: [{ source: 'a', target: 'rel' }] }), (e: unknown) => e instanceof ValidationError && e.issues.some((i) => i.path === 'spec.secrets[0].target' || i.path === 'secrets[0].target'));
    assert.throws(() => spec({ secrets: [{ source: 'a', target: '/x' }], configs: [{ source: 'b', target: '/x' }] }), (e: unknown) => e instanceof ValidationError && /already used by secrets\[0\]/.test(e.message));
  });
});
