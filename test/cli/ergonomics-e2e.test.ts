/**
 * End to end: the real CLI (child processes) against a real server (runServer in-process, SQLite,
 * controllers on, no nodes: tasks stay pending) for label selectors, -o name, get all, delete -l,
 * get --watch (stopped with SIGINT) and version (with the server, and with none).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runServer, type RunningServer } from '../../src/server/run.js';
import type { ApiObject } from '../../src/api/object.js';
import { waitFor } from '../server/helpers.js';
import { cli, startCli } from './cli-process.js';

const manifests = `kind: Service
metadata: {name: web, labels: {app: web, tier: front}}
spec: {replicas: 2, image: 127.0.0.1:5000/demo/busybox:1}
---
kind: Service
metadata: {name: api, labels: {app: api, tier: back}}
spec: {replicas: 1, image: 127.0.0.1:5000/demo/busybox:1}
---
kind: Service
metadata: {name: legacy, labels: {app: old}}
spec: {replicas: 0, image: 127.0.0.1:5000/demo/busybox:1}
---
kind: Config
metadata: {name: web-conf}
spec: {data: {a: aGVsbG8=}}
`;

void describe('CLI ergonomics against a real server', { timeout: 300_000 }, () => {
  let dir: string;
  let server: RunningServer | undefined;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-cli-ergo-'));
    server = await runServer({ dataDir: join(dir, 'server'), listen: '127.0.0.1:0', store: 'sqlite', log: () => undefined });
    env = { FLOTILLA_CONFIG: server.adminConfigPath };
    await writeFile(join(dir, 'all.yaml'), manifests);
    const r = await cli(['apply', '-f', join(dir, 'all.yaml')], env);
    assert.equal(r.code, 0, r.err);
    await waitFor('3 tasks created', async () => (await server!.store.list('Task')).items.length === 3, 60_000);
  });

  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  void it('get -l: equality on the server, != and existence in the CLI; -o name', async () => {
    let r = await cli(['get', 'tasks', '-l', 'service=web', '-o', 'name'], env);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^task\/web-\S+\ntask\/web-\S+\n$/);
    r = await cli(['get', 'services', '-l', 'tier,tier!=back', '-o', 'name'], env);
    assert.equal(r.out, 'service/web\n', r.err);
    r = await cli(['get', 'services', '-l', '!tier'], env);
    assert.match(r.out, /^NAME .*\nlegacy +replicated +0\/0 /);
    r = await cli(['get', 'services', '-l', 'app=nope'], env);
    assert.deepEqual([r.code, r.out, r.err], [0, '', 'No services found in namespace default.\n']);
  });

  void it('get all: services, tasks and configs grouped; -o json one {items}', async () => {
    let r = await cli(['get', 'all'], env);
    assert.equal(r.code, 0, r.err);
    const groups = r.out.split('\n\n');
    assert.equal(groups.length, 3, r.out);
    assert.match(groups[0] ?? '', /^NAME +MODE .*\nservice\/api +/);
    assert.match(groups[1] ?? '', /^NAME +SERVICE .*\ntask\/api-/);
    assert.match(groups[2] ?? '', /^NAME .*\nconfig\/web-conf /);
    r = await cli(['get', 'all', '-o', 'json'], env);
    const kinds = (JSON.parse(r.out) as { items: ApiObject[] }).items.map((o) => o.kind);
    assert.deepEqual(kinds, ['Service', 'Service', 'Service', 'Task', 'Task', 'Task', 'Config']);
  });

  void it('get --watch: the table, then a line per change, until SIGINT (exit 0)', async () => {
    const w = startCli(['get', 'services', '--watch'], env);
    try {
      await w.waitForOut(/^web +replicated +0\/2 /m);
      let r = await cli(['scale', 'service', 'web', '--replicas', '3'], env);
      assert.equal(r.code, 0, r.err);
      await w.waitForOut(/^web +replicated +0\/3 /m);
      await writeFile(join(dir, 'tmp.yaml'), 'kind: Service\nmetadata: {name: tmp, labels: {app: tmp}}\nspec: {replicas: 0, image: 127.0.0.1:5000/demo/busybox:1}\n');
      r = await cli(['apply', '-f', join(dir, 'tmp.yaml')], env);
      assert.equal(r.code, 0, r.err);
      await w.waitForOut(/^tmp +replicated +0\/0 /m);
      r = await cli(['delete', 'services', '-l', 'app=tmp'], env);
      assert.deepEqual([r.code, r.out], [0, 'service/tmp deleted\n'], r.err);
      await w.waitForOut(/^tmp .*\(deleted\)$/m);
    } finally {
      const end = await w.stop('SIGINT');
      assert.equal(end.code, 0, end.err);
      assert.equal(end.err, '');
      const lines = end.out.trimEnd().split('\n');
      assert.match(lines[0] ?? '', /^NAME +MODE +REPLICAS +IMAGE +PORTS +AGE$/);
      assert.equal(lines.filter((l) => l.startsWith('web ')).length >= 2, true, end.out);
    }
  });

  void it('get --watch -o json: JSON lines from the list revision on', async () => {
    const w = startCli(['get', 'service', 'web', '-w', '-o', 'json'], env);
    try {
      await w.waitForOut(/^\{"items":\[/);
      const r = await cli(['scale', 'service', 'web', '--replicas', '1'], env);
      assert.equal(r.code, 0, r.err);
      await w.waitForOut(/"type":"modified"/);
    } finally {
      const end = await w.stop('SIGINT');
      assert.equal(end.code, 0, end.err);
      const lines = end.out.trimEnd().split('\n').map((l) => JSON.parse(l) as { type?: string; object?: ApiObject<{ replicas: number }> });
      const change = lines.find((l) => l.type === 'modified' && l.object?.spec.replicas === 1);
      assert.ok(change !== undefined, end.out);
    }
  });

  void it('version: client and server; no server: the client line, one error line, exit 1', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    let r = await cli(['version'], env);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `Client Version: ${pkg.version}\nServer Version: ${pkg.version}\n`);
    r = await cli(['version', '-o', 'json'], env);
    assert.deepEqual(JSON.parse(r.out), { clientVersion: { version: pkg.version }, serverVersion: { version: pkg.version } });
    const config = JSON.parse(await readFile(server!.adminConfigPath, 'utf8')) as Record<string, unknown>;
    const dead = join(dir, 'dead.json');
    await writeFile(dead, JSON.stringify({ ...config, server: 'https://127.0.0.1:1' }));
    r = await cli(['version', '--config', dead], {});
    assert.equal(r.code, 1);
    assert.equal(r.out, `Client Version: ${pkg.version}\n`);
    assert.equal(r.err.trimEnd().split('\n').length, 1, r.err);
    assert.match(r.err, /^error: cannot reach the .*127\.0\.0\.1:1/);
    r = await cli(['version', '--client', '--config', dead], {});
    assert.deepEqual([r.code, r.out, r.err], [0, `Client Version: ${pkg.version}\n`, '']);
  });
});
