/**
 * End to end: the real CLI (a child process, `node --import tsx src/cli/main.ts`) against a real
 * server started in-process with runServer on a temp data dir (SQLite). Also `flotilla server`
 * itself: ready line, answers, stops cleanly on SIGTERM.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { runServer, type RunningServer } from '../../src/server/run.js';
import type { ApiObject } from '../../src/api/object.js';
import { cli, ROOT } from './cli-process.js';

const webYaml = (replicas: number): string => `kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: ${replicas}
  image: 127.0.0.1:5000/demo/busybox:1
  command: ["httpd", "-f", "-p", "8080"]
  ports:
    - {name: http, port: 80, targetPort: 8080}
---
kind: Config
metadata: {name: web-conf}
spec:
  data: {index.html: aGVsbG8=}
`;

void describe('flotilla CLI against a real server', { timeout: 240_000 }, () => {
  let dir: string;
  let server: RunningServer | undefined;
  let env: NodeJS.ProcessEnv;
  let file: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-cli-e2e-'));
    server = await runServer({ dataDir: join(dir, 'server'), listen: '127.0.0.1:0', store: 'sqlite', log: () => undefined });
    env = { FLOTILLA_CONFIG: server.adminConfigPath };
    file = join(dir, 'web.yaml');
  });

  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const stored = (kind: 'Service' | 'Config', name: string): Promise<ApiObject | undefined> => server!.store.get({ kind, namespace: 'default', name });

  void it('apply: created, then unchanged, then configured after an edit', async () => {
    await writeFile(file, webYaml(2));
    let r = await cli(['apply', '-f', file], env);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'service/web created\nconfig/web-conf created\n');
    r = await cli(['apply', '-f', file], env);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'service/web unchanged\nconfig/web-conf unchanged\n');
    r = await cli(['apply', '-f', '-'], env, webYaml(3));
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'service/web configured\nconfig/web-conf unchanged\n');
    assert.equal((( await stored('Service', 'web'))?.spec as { replicas: number }).replicas, 3);
  });

  void it('get -o json: the object for a name, {items} for a list; yaml and table too', async () => {
    let r = await cli(['get', 'service', 'web', '-o', 'json'], env);
    assert.equal(r.code, 0, r.err);
    const web = JSON.parse(r.out) as ApiObject<{ replicas: number; image: string }>;
    assert.equal(web.kind, 'Service');
    assert.equal(web.metadata.name, 'web');
    assert.match(web.metadata.uid, /.+/);
    assert.equal(web.spec.replicas, 3);
    assert.equal(web.spec.image, '127.0.0.1:5000/demo/busybox:1');

    r = await cli(['get', 'services', '-o', 'json'], env);
    assert.equal(r.code, 0, r.err);
    const list = JSON.parse(r.out) as { items: ApiObject[] };
    assert.deepEqual(Object.keys(list), ['items']);
    assert.deepEqual(list.items.map((i) => i.metadata.name), ['web']);

    r = await cli(['get', 'configs', '-o', 'yaml'], env);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual((parseYaml(r.out) as { items: ApiObject[] }).items.map((i) => i.metadata.name), ['web-conf']);

    r = await cli(['get', 'svc'], env);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^NAME +MODE +REPLICAS +IMAGE +PORTS +AGE\nweb +replicated +0\/3 +127\.0\.0\.1:5000\/demo\/busybox:1 +80->8080\/tcp +\d+s\n$/);

    r = await cli(['describe', 'service', 'web'], env);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Name: +web$/m);
    assert.match(r.out, /^ {2}Replicas: +3$/m);
  });

  void it('refuses an invalid manifest whole: the field named, exit non-zero, nothing written', async () => {
    const bad = `kind: Service
metadata: {name: fresh}
spec: {image: 127.0.0.1:5000/demo/busybox:1}
---
kind: Service
metadata: {name: broken}
spec:
  image: 127.0.0.1:5000/demo/busybox:1
  replicas: -1
`;
    const badFile = join(dir, 'bad.yaml');
    await writeFile(badFile, bad);
    const revisionBefore = await server!.store.revision();
    const r = await cli(['apply', '-f', badFile], env);
    assert.notEqual(r.code, 0);
    assert.equal(r.out, '');
    assert.match(r.err, /^error: .*bad\.yaml, document 2, line 9: spec\.replicas: expected .*-1$/m);
    assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
    assert.equal(await stored('Service', 'fresh'), undefined, 'document 1 not created either');
    assert.equal(await server!.store.revision(), revisionBefore, 'nothing written');
    const g = await cli(['get', 'service', 'fresh'], env);
    assert.equal(g.code, 1);
    assert.equal(g.err, 'error: service "fresh" not found in namespace default\n');
  });

  void it('scale: sets replicas, refuses negative numbers', async () => {
    let r = await cli(['scale', 'service', 'web', '--replicas', '5'], env);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'service/web scaled to 5\n');
    assert.equal(((await stored('Service', 'web'))?.spec as { replicas: number }).replicas, 5);
    r = await cli(['scale', 'service', 'web', '--replicas', '-2'], env);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /expected an integer >= 0/);
    assert.equal(((await stored('Service', 'web'))?.spec as { replicas: number }).replicas, 5);
  });

  void it('delete: by name and by file; a missing object fails clearly', async () => {
    let r = await cli(['delete', 'service', 'web'], env);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'service/web deleted\n');
    assert.equal(await stored('Service', 'web'), undefined);
    r = await cli(['delete', 'service', 'web'], env);
    assert.equal(r.code, 1);
    assert.equal(r.err, 'error: service "web" not found in namespace default\n');
    r = await cli(['delete', '-f', file], env);
    assert.equal(r.code, 1, 'web is already gone');
    assert.equal(r.out, 'config/web-conf deleted\n');
    assert.equal(await stored('Config', 'web-conf'), undefined);
  });

  void it('says in one line when the config file is missing', async () => {
    const r = await cli(['get', 'nodes', '--config', join(dir, 'nope.json')], {});
    assert.equal(r.code, 1);
    assert.equal(r.err.trimEnd().split('\n').length, 1, r.err);
    assert.match(r.err, /^error: .*nope\.json/);
  });
});

void describe('flotilla server', { timeout: 120_000 }, () => {
  void it('prints ready, answers the CLI, and stops cleanly on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flotilla-cli-server-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'server', '--data-dir', dir, '--listen', '127.0.0.1:0'], { cwd: ROOT });
    try {
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
      await new Promise<void>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`no ready line within 30 s: ${out} ${err}`)), 30_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (/ready/.test(out)) {
            clearTimeout(timer);
            res();
          }
        });
        void exited.then((code) => rej(new Error(`server exited ${code}: ${err}`)));
      });
      const r = await cli(['--config', join(dir, 'admin.json'), 'get', 'nodes', '-o', 'json'], {});
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(JSON.parse(r.out), { items: [] });
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<string>((res) => setTimeout(() => res('timeout'), 15_000))]);
      assert.equal(code, 0, `server exit after SIGTERM: ${String(code)}\n${err}`);
    } finally {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
