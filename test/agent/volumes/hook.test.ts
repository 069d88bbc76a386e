/**
 * The volumes task hook: a named volume becomes a bind of DIR/<namespace>/<name> (created on first
 * use, kept after the task), a tmpfs gets its size in bytes, a host bind its path (a missing one
 * is refused naming it).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Task, VolumeRef } from '../../../src/api/kinds.js';
import { tmpfsOptions, VolumeHook, VolumeMountError } from '../../../src/agent/volumes/hook.js';
import { task } from '../../scheduler/fixtures.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-volumes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function taskWith(volumes: VolumeRef[], namespace = 'default'): Task {
  const t = task('db-1-abc', { service: 'db', namespace });
  t.spec.template.volumes = volumes;
  return t;
}

void describe('VolumeHook', () => {
  const hook = new VolumeHook({ dir: path.join(dir, 'volumes') });

  void it('binds a named volume rw or ro, creating its directory once, and keeps it after the task', async () => {
    const c = await hook.beforeStart(taskWith([
      { type: 'volume', source: 'data', target: '/var/lib/db', readOnly: false },
      { type: 'volume', source: 'conf', target: '/etc/db', readOnly: true },
    ], 'prod'));
    const data = path.join(dir, 'volumes', 'prod', 'data');
    assert.deepEqual(c.mounts, [
      { type: 'bind', source: data, target: '/var/lib/db', readOnly: false },
      { type: 'bind', source: path.join(dir, 'volumes', 'prod', 'conf'), target: '/etc/db', readOnly: true },
    ]);
    writeFileSync(path.join(data, 'file'), 'kept');
    await hook.afterStop();
    await hook.beforeStart(taskWith([{ type: 'volume', source: 'data', target: '/d', readOnly: false }], 'prod'));
    assert.ok(existsSync(path.join(data, 'file')), 'the data survives the task and a second use');
  });

  void it('a tmpfs with its size in bytes', async () => {
    const c = await hook.beforeStart(taskWith([{ type: 'tmpfs', source: '', target: '/cache', readOnly: false, size: '64Mi' }]));
    assert.deepEqual(c.mounts, [{ type: 'tmpfs', target: '/cache', readOnly: false, options: ['size=67108864', 'mode=1777'] }]);
    assert.deepEqual(tmpfsOptions(undefined), ['size=67108864', 'mode=1777']);
  });

  void it('a host bind as it is; a missing host path is refused naming it', async () => {
    const c = await hook.beforeStart(taskWith([{ type: 'bind', source: dir, target: '/host', readOnly: true }]));
    assert.deepEqual(c.mounts, [{ type: 'bind', source: dir, target: '/host', readOnly: true }]);
    await assert.rejects(hook.beforeStart(taskWith([{ type: 'bind', source: '/no/such/path', target: '/x', readOnly: false }])), (e: unknown) => {
      assert.ok(e instanceof VolumeMountError);
      assert.match(e.message, /volumes\[0\]: host path \/no\/such\/path does not exist on this node/);
      return true;
    });
  });
});
