/**
 * Issue "Foundation", done-when: a service applied from YAML is listed by `get services -o json`,
 * survives kill -9 and restart of the server on both backends (SQLite and a real etcd), and its
 * tasks appear and follow `scale`; an invalid manifest is refused with the field named and
 * nothing changes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEtcd, type EtcdMember } from '../helpers/etcd.js';
import { eventually, flotilla, FlotillaProcess, manifestFile, type CliResult } from '../helpers/flotilla.js';

interface Backend {
  name: 'sqlite' | 'etcd';
  args(): string[];
  setup(): Promise<void>;
  teardown(): Promise<void>;
}

let etcd: EtcdMember | undefined;
const backends: Backend[] = [
  { name: 'sqlite', args: () => ['--store', 'sqlite'], setup: async () => undefined, teardown: async () => undefined },
  {
    name: 'etcd',
    args: () => ['--store', 'etcd', '--etcd-endpoints', etcd?.clientUrl ?? ''],
    setup: async () => { etcd = await startEtcd(); },
    teardown: async () => { await etcd?.stop(); },
  },
];

const WEB = `kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 3
  image: 127.0.0.1:5000/demo/busybox:1
  command: ["httpd", "-f", "-p", "8080"]
  resources:
    requests: {cpu: 100m, memory: 16Mi}
`;

const BAD = `kind: Service
metadata: {name: ok-one}
spec: {image: 127.0.0.1:5000/x:1}
---
kind: Service
metadata: {name: Bad_Name}
spec:
  image: 127.0.0.1:5000/x:1
  replicas: -1
`;

for (const backend of backends) {
  describe(`server on ${backend.name}: survives kill -9, tasks follow scale`, { timeout: 180_000 }, () => {
    let dir: string;
    let server: FlotillaProcess;
    const cli = (args: string[]): Promise<CliResult> => flotilla(args, { config: path.join(dir, 'admin.json') });
    const start = async (): Promise<void> => {
      server = new FlotillaProcess(['server', '--data-dir', dir, '--listen', '127.0.0.1:0', ...backend.args()]);
      await server.start();
    };
    const desiredRunning = async (): Promise<number> => {
      const r = await cli(['get', 'tasks', '-l', 'service=web', '-o', 'json']);
      const items = (JSON.parse(r.stdout) as { items: Array<{ spec: { desiredState: string } }> }).items;
      return items.filter((t) => t.spec.desiredState === 'running').length;
    };

    before(async () => {
      dir = await mkdtemp(path.join(tmpdir(), `flotilla-restart-${backend.name}-`));
      await backend.setup();
      await start();
    });
    after(async () => {
      await server?.stop();
      await backend.teardown();
      await rm(dir, { recursive: true, force: true });
    });

    it('applies a service and lists it as JSON; its tasks appear', async () => {
      const file = await manifestFile(dir, 'web.yaml', WEB);
      const r = await cli(['apply', '-f', file]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'service/web created');
      const list = JSON.parse((await cli(['get', 'services', '-o', 'json'])).stdout) as { items: Array<{ metadata: { name: string }; spec: { replicas: number } }> };
      assert.deepEqual(list.items.map((s) => [s.metadata.name, s.spec.replicas]), [['web', 3]]);
      await eventually('3 tasks', 20_000, async () => ((await desiredRunning()) === 3 ? true : undefined));
      assert.equal((await cli(['apply', '-f', file])).stdout.trim(), 'service/web unchanged');
    });

    it('keeps the service and its tasks across kill -9 and restart', async () => {
      const before = JSON.parse((await cli(['get', 'service', 'web', '-o', 'json'])).stdout) as { metadata: { uid: string } };
      await server.kill9();
      await start();
      const after = JSON.parse((await cli(['get', 'service', 'web', '-o', 'json'])).stdout) as { metadata: { uid: string } };
      assert.equal(after.metadata.uid, before.metadata.uid);
      assert.equal(await desiredRunning(), 3);
    });

    it('follows scale up and down', async () => {
      assert.equal((await cli(['scale', 'service', 'web', '--replicas', '5'])).code, 0);
      await eventually('5 tasks', 20_000, async () => ((await desiredRunning()) === 5 ? true : undefined));
      assert.equal((await cli(['scale', 'service', 'web', '--replicas', '1'])).code, 0);
      await eventually('1 task', 20_000, async () => ((await desiredRunning()) === 1 ? true : undefined));
    });

    it('refuses an invalid manifest, names the fields, and writes nothing', async () => {
      const revision = async (): Promise<number> => Number(JSON.parse((await cli(['get', 'services', '-o', 'json'])).stdout).items.length);
      const count = await revision();
      const file = await manifestFile(dir, 'bad.yaml', BAD);
      const r = await cli(['apply', '-f', file]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /bad\.yaml, document 2.*metadata\.name/);
      assert.match(r.stderr, /spec\.replicas/);
      assert.equal(await revision(), count, 'document 1 was not created either');
      assert.equal((await cli(['get', 'service', 'ok-one'])).code !== 0, true);
    });
  });
}
