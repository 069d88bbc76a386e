/**
 * Admission of volumes against a real API server (SQLite, no controllers): deleting a Volume is
 * refused (409) while a task desired running mounts it, naming the task, and allowed once no
 * such task is left; services with host binds are refused unless the server allows them.
 * Plus the pure helpers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConflictError, ValidationError } from '../../src/api/errors.js';
import type { Task } from '../../src/api/kinds.js';
import type { ApiObject } from '../../src/api/object.js';
import { HOST_BINDS_OFF, hostBindIssues, inUseMessage, tasksUsingVolume } from '../../src/server/admission/volumes.js';
import { task as schedTask } from '../scheduler/fixtures.js';
import { startTestServer, type TestServer } from './helpers.js';

const volume = (name: string, namespace = 'default'): ApiObject => ({ kind: 'Volume', metadata: { name, namespace, labels: {} }, spec: { driver: 'local' } } as unknown as ApiObject);
const serviceWith = (name: string, volumes: unknown[]): ApiObject => ({ kind: 'Service', metadata: { name, labels: {} }, spec: { image: 'busybox:1', volumes } } as unknown as ApiObject);

/** A task of `service` mounting volume `source`, desired `desired`. */
function taskUsing(name: string, source: string, desired: 'running' | 'shutdown' = 'running'): Task {
  const t = schedTask(name, { service: 'db' });
  t.spec.template.volumes = [{ type: 'volume', source, target: '/data', readOnly: false }];
  t.spec.desiredState = desired;
  return t;
}

void describe('volume admission helpers', () => {
  void it('tasks using a volume: desired running, same namespace, named volume only', () => {
    const other = taskUsing('o-1', 'data');
    other.metadata.namespace = 'prod';
    const tasks = [taskUsing('db-1', 'data'), taskUsing('db-2', 'data', 'shutdown'), taskUsing('db-3', 'logs'), other];
    assert.deepEqual(tasksUsingVolume(tasks, 'default', 'data').map((t) => t.metadata.name), ['db-1']);
  });
  void it('the in-use message names the tasks, at most five', () => {
    const many = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((n) => taskUsing(`db-${n}`, 'data'));
    assert.equal(inUseMessage('default', 'data', many.slice(0, 1)), 'volume default/data is in use by task db-a: delete or scale down the services using it first');
    assert.match(inUseMessage('default', 'data', many), /tasks db-a, db-b, db-c, db-d, db-e and 2 more:/);
  });
  void it('host bind issues name the field', () => {
    const svc = serviceWith('web', []) as ApiObject & { spec: { volumes: unknown[] } };
    svc.spec.volumes = [{ type: 'tmpfs', source: '', target: '/c', readOnly: false, size: '64Mi' }, { type: 'bind', source: '/srv', target: '/srv', readOnly: true }];
    const issues = hostBindIssues(svc as never);
    assert.equal(issues.length, 1);
    assert.equal(issues[0]?.path, 'spec.volumes[1].type');
    assert.match(issues[0]?.expected ?? '', new RegExp(HOST_BINDS_OFF.replace(/[()]/g, '\\$&')));
  });
});

void describe('volume admission on the API', { timeout: 60_000 }, () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(async () => {
    await ts.cleanup();
  });

  void it('a service naming a volume that does not exist is accepted', async () => {
    const s = await ts.client.create(serviceWith('nodata', [{ source: 'missing', target: '/d' }]));
    assert.equal(s.metadata.name, 'nodata');
  });

  void it('delete volume: 409 naming the task while one desired running mounts it; allowed after', async () => {
    await ts.client.create(volume('data'));
    const t = await ts.server.store.create(taskUsing('db-1-abc', 'data'));
    await assert.rejects(ts.client.delete({ kind: 'Volume', namespace: 'default', name: 'data' }), (e: unknown) => {
      assert.ok(e instanceof ConflictError, String(e));
      assert.match(e.message, /volume default\/data is in use by task db-1-abc/);
      return true;
    });
    await ts.server.store.update({ ...t, spec: { ...(t as Task).spec, desiredState: 'shutdown' } } as Task, t.metadata.revision);
    const gone = await ts.client.delete({ kind: 'Volume', namespace: 'default', name: 'data' });
    assert.equal(gone.metadata.name, 'data');
  });

  void it('a service with a host bind is refused while host binds are off', async () => {
    await assert.rejects(ts.client.create(serviceWith('host', [{ type: 'bind', source: '/srv', target: '/srv' }])), (e: unknown) => {
      assert.ok(e instanceof ValidationError, String(e));
      assert.match(e.message, /bind mounts of host paths are off in this cluster \(flotilla server --allow-host-binds\)/);
      assert.equal(e.issues[0]?.path, 'spec.volumes[0].type');
      return true;
    });
  });
});

void describe('volume admission with --allow-host-binds', { timeout: 60_000 }, () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ allowHostBinds: true });
  });
  after(async () => {
    await ts.cleanup();
  });
  void it('admits a service with a host bind', async () => {
    const s = await ts.client.create(serviceWith('host', [{ type: 'bind', source: '/srv', target: '/srv', readOnly: true }]));
    assert.equal(s.metadata.name, 'host');
  });
});
