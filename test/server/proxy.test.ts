/**
 * How the server finds a task's agent, and the clear errors when it cannot: task missing, not
 * assigned, node missing, down, without an endpoint, or unreachable (503 naming the node).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConflictError, NotFoundError, UnavailableError } from '../../src/api/errors.js';
import type { ApiObject } from '../../src/api/object.js';
import type { ApiContext } from '../../src/server/http/context.js';
import { ClusterPki } from '../../src/server/pki/index.js';
import { AgentDialer } from '../../src/server/proxy/agent-dialer.js';
import { locateTask } from '../../src/server/proxy/routes.js';
import { MemoryStore } from '../helpers/memory-store.js';

function meta(name: string, namespace: string): ApiObject['metadata'] {
  return { name, namespace, uid: `u-${name}`, labels: {}, revision: 0, generation: 1, creationTimestamp: new Date().toISOString() };
}

function task(name: string, node: string): ApiObject {
  return { kind: 'Task', metadata: meta(name, 'default'), spec: { service: 'web', node, slot: 1, image: 'x', desiredState: 'running' }, status: { state: node === '' ? 'pending' : 'running' } } as unknown as ApiObject;
}

function node(name: string, status: Record<string, unknown>): ApiObject {
  return { kind: 'Node', metadata: meta(name, ''), spec: { availability: 'active', role: 'worker', taints: [] }, status: { capacity: { cpu: '1', memory: '1' }, allocatable: { cpu: '1', memory: '1' }, ...status } } as unknown as ApiObject;
}

void describe('server proxy: locating a task\'s agent', { timeout: 30_000 }, () => {
  const store = new MemoryStore();
  const ctx = { store } as unknown as ApiContext;
  let dir: string;
  let pki: ClusterPki;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-proxy-'));
    pki = await ClusterPki.loadOrCreate(join(dir, 'pki'));
    for (const o of [
      task('pending-1', ''), task('on-down', 'n-down'), task('on-gone', 'n-gone'), task('on-old', 'n-old'), task('on-ok', 'n-ok'),
      node('n-down', { state: 'down', heartbeat: '2024-01-01T00:00:00Z', address: '127.0.0.1', agentPort: 1 }),
      node('n-old', { state: 'ready', address: '127.0.0.1' }),
      node('n-ok', { state: 'ready', address: '127.0.0.1', agentPort: 9 }),
    ]) await store.create(o);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void it('says what is wrong, naming the task and the node', async () => {
    await assert.rejects(locateTask(ctx, 'default', 'nope'), (e: unknown) => e instanceof NotFoundError && e.message === 'task nope not found in namespace default');
    await assert.rejects(locateTask(ctx, 'default', 'pending-1'), (e: unknown) => e instanceof ConflictError && /task pending-1 is not assigned to a node yet \(state pending\)/.test(e.message));
    await assert.rejects(locateTask(ctx, 'default', 'on-down'), (e: unknown) => e instanceof UnavailableError && e.status === 503 && /node n-down of task on-down is down \(last heartbeat 2024/.test(e.message));
    await assert.rejects(locateTask(ctx, 'default', 'on-gone'), (e: unknown) => e instanceof UnavailableError && /node n-gone of task on-gone is not registered/.test(e.message));
    await assert.rejects(locateTask(ctx, 'default', 'on-old'), (e: unknown) => e instanceof UnavailableError && /node n-old of task on-old does not report an agent endpoint/.test(e.message));
    const ok = await locateTask(ctx, 'default', 'on-ok');
    assert.deepEqual({ target: ok.target, id: ok.containerId }, { target: { node: 'n-ok', address: '127.0.0.1', port: 9 }, id: 'default_on-ok' });
  });

  void it('an agent that does not answer is a 503 naming the node and the address', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const dialer = new AgentDialer(pki);
    await assert.rejects(
      dialer.open({ node: 'n-ok', address: '127.0.0.1', port }, 'GET', '/containers/x/logs', undefined, AbortSignal.timeout(5_000)),
      (e: unknown) => e instanceof UnavailableError && e.status === 503 && new RegExp(`node n-ok is unreachable: cannot connect to its agent at 127.0.0.1:${port}: .*ECONNREFUSED`).test(e.message),
    );
  });
});
