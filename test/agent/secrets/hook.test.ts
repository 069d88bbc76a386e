/**
 * The secrets hook with a fake API client and a fake tmpfs (a plain directory, so it runs
 * without root): files and directories at the right places with the given modes, read-only
 * bind mounts of paths only, a missing source named in the error, cleanup after stop.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { NotFoundError } from '../../../src/api/errors.js';
import type { Task } from '../../../src/api/kinds.js';
import { keyString, type ApiObject, type ObjectKey } from '../../../src/api/object.js';
import { dirModeFor, SecretsHook } from '../../../src/agent/secrets/hook.js';
import type { TmpfsMounter } from '../../../src/agent/secrets/tmpfs.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

/** Records calls; serves the objects it holds. */
class FakeClient {
  readonly gets: string[] = [];
  constructor(private readonly objects: Map<string, ApiObject>) {}
  get(key: ObjectKey): Promise<ApiObject | undefined> {
    this.gets.push(keyString(key));
    return Promise.resolve(this.objects.get(keyString(key)));
  }
}

class FakeTmpfs implements TmpfsMounter {
  readonly mounted = new Set<string>();
  async mount(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    this.mounted.add(dir);
  }
  unmount(dir: string): Promise<void> {
    this.mounted.delete(dir);
    return Promise.resolve();
  }
}

function obj(kind: 'Secret' | 'Config', name: string, data: Record<string, string>): [string, ApiObject] {
  const o = { kind, metadata: { name, namespace: 'default', uid: name, labels: {}, revision: 1, generation: 1, creationTimestamp: '' }, spec: { data } } as ApiObject;
  return [keyString({ kind, namespace: 'default', name }), o];
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function task(secrets: Array<{ source: string; target: string; mode?: number }>, configs: Array<{ source: string; target: string; mode?: number }> = []): Task {
  return {
    kind: 'Task',
    metadata: { name: 'web-1', namespace: 'default', uid: 'u', labels: {}, revision: 1, generation: 1, creationTimestamp: '' },
    spec: {
      service: 'web', serviceGeneration: 1, slot: 1, node: 'n1', image: 'busybox:1', desiredState: 'running',
      template: { secrets: secrets.map((s) => ({ mode: 0o400, uid: 0, gid: 0, ...s })), configs: configs.map((c) => ({ mode: 0o444, ...c })) },
    } as unknown as Task['spec'],
  };
}

function setup(): { hook: SecretsHook; client: FakeClient; tmpfs: FakeTmpfs; runtimeDir: string } {
  const runtimeDir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-secrets-hook-'));
  dirs.push(runtimeDir);
  const client = new FakeClient(new Map([
    obj('Secret', 'db-pass', { 'db-pass': b64('hunter2') }),
    obj('Secret', 'tls', { 'tls.crt': b64('CERT'), 'tls.key': b64('KEY') }),
    obj('Config', 'app-conf', { 'app.conf': 'port=8080\n' }),
  ]));
  const tmpfs = new FakeTmpfs();
  return { hook: new SecretsHook({ client, runtimeDir, tmpfs }), client, tmpfs, runtimeDir };
}

describe('SecretsHook', () => {
  it('writes one key as a file, several as a directory, and binds them read-only', async () => {
    const { hook, tmpfs, runtimeDir } = setup();
    const t = task([{ source: 'db-pass', target: '/run/secrets/db-pass' }, { source: 'tls', target: '/etc/tls', mode: 0o440 }], [{ source: 'app-conf', target: '/etc/app.conf' }]);
    const c = await hook.beforeStart(t, 'default_web-1');
    const dir = path.join(runtimeDir, 'default_web-1');
    assert.ok(tmpfs.mounted.has(dir));
    assert.deepEqual(c.mounts, [
      { type: 'bind', source: path.join(dir, 'secret-0'), target: '/run/secrets/db-pass', readOnly: true },
      { type: 'bind', source: path.join(dir, 'secret-1'), target: '/etc/tls', readOnly: true },
      { type: 'bind', source: path.join(dir, 'config-0'), target: '/etc/app.conf', readOnly: true },
    ]);
    assert.equal(readFileSync(path.join(dir, 'secret-0'), 'utf8'), 'hunter2');
    assert.equal(statSync(path.join(dir, 'secret-0')).mode & 0o777, 0o400);
    assert.equal(readFileSync(path.join(dir, 'secret-1', 'tls.key'), 'utf8'), 'KEY');
    assert.equal(statSync(path.join(dir, 'secret-1', 'tls.crt')).mode & 0o777, 0o440);
    assert.equal(statSync(path.join(dir, 'secret-1')).mode & 0o777, 0o550);
    assert.equal(readFileSync(path.join(dir, 'config-0'), 'utf8'), 'port=8080\n');
    assert.ok(!JSON.stringify(c).includes('hunter2'), 'only paths in the contribution');
    await hook.afterStop('default_web-1');
    assert.equal(existsSync(dir), false);
    assert.equal(tmpfs.mounted.size, 0);
  });

  it('a missing secret fails before anything is mounted, naming it', async () => {
    const { hook, tmpfs } = setup();
    await assert.rejects(hook.beforeStart(task([{ source: 'nope', target: '/run/secrets/nope' }]), 'default_web-1'), (e: unknown) => e instanceof NotFoundError && /secret nope not found in namespace default/.test(e.message));
    assert.equal(tmpfs.mounted.size, 0);
  });

  it('a task without secrets or configs reads nothing and mounts nothing', async () => {
    const { hook, client, tmpfs } = setup();
    assert.deepEqual(await hook.beforeStart(task([]), 'default_web-1'), {});
    assert.equal(client.gets.length, 0);
    assert.equal(tmpfs.mounted.size, 0);
  });

  it('a restart of the same container replaces the previous files', async () => {
    const { hook, runtimeDir } = setup();
    const t = task([{ source: 'db-pass', target: '/run/secrets/db-pass' }]);
    await hook.beforeStart(t, 'c1');
    await hook.beforeStart(t, 'c1');
    assert.equal(readFileSync(path.join(runtimeDir, 'c1', 'secret-0'), 'utf8'), 'hunter2');
    await hook.afterStop('c1');
  });

  it('dirModeFor adds x where r is', () => {
    assert.equal(dirModeFor(0o400), 0o500);
    assert.equal(dirModeFor(0o444), 0o555);
  });
});
