/**
 * Issue 9 (secrets and configs) on `flotilla up`, as a user would: a secret and a config read
 * at their targets inside the container, the value nowhere on the node's disk (agent data dir,
 * bundle, logs, the store) nor in `get secret -o json`, the tmpfs gone with the task, a missing
 * secret rejecting the task with its name, and an updated secret replacing the task.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { buildBusyboxImage } from '../helpers/images.js';
import { eventually, manifestFile, UpCluster, type TaskJson } from '../helpers/flotilla.js';

const run = promisify(execFile);
const VALUE = 'e2e-secret-value-8d3f1c';
const VALUE2 = 'e2e-rotated-value-77a2b9';

const running = (ts: TaskJson[]): TaskJson[] => ts.filter((t) => t.status?.state === 'running' && t.spec.desiredState === 'running');

/** Files under `dir` whose bytes contain `needle` (grep -r), none expected. */
async function filesContaining(dir: string, needle: string): Promise<string[]> {
  try {
    const { stdout } = await run('grep', ['-rla', '--devices=skip', needle, dir], { maxBuffer: 16 * 1024 * 1024 });
    return stdout.split('\n').filter((l) => l !== '');
  } catch (err) {
    if ((err as { code?: number }).code === 1) return [];
    throw err;
  }
}

function mountsUnder(prefix: string): string[] {
  return readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(prefix));
}

describe('flotilla up: secrets and configs', { timeout: 300_000 }, () => {
  let registry: TestRegistry;
  let cluster: UpCluster;
  let image: string;
  let secretsRoot: string;

  before(async () => {
    registry = await startRegistry();
    image = (await buildBusyboxImage(registry.host, 'demo/busybox', '1')).ref;
    cluster = await UpCluster.start();
    const nodes = JSON.parse((await cluster.cli(['get', 'nodes', '-o', 'json'])).stdout) as { items: Array<{ metadata: { name: string } }> };
    secretsRoot = `/run/flotilla/${nodes.items[0]?.metadata.name ?? ''}/secrets`;
  });

  after(async () => {
    await cluster?.stop();
    for (const m of secretsRoot !== undefined ? mountsUnder(secretsRoot).reverse() : []) await run('umount', ['-l', m]).catch(() => undefined);
    if (secretsRoot !== undefined) await rmdir(secretsRoot).catch(() => undefined); // empty once every task is gone
    await registry?.stop();
  });

  it('delivers a secret and a config at their targets, and the value is nowhere on disk', async () => {
    const created = await cluster.cli(['secret', 'create', 'db-pass', '--from-literal', VALUE]);
    assert.equal(created.code, 0, created.stderr);
    const file = await manifestFile(cluster.dataDir, 'app.yaml', `kind: Config
metadata: {name: app-conf}
spec:
  data: {app.conf: "port=8080\\n"}
---
kind: Service
metadata: {name: app}
spec:
  image: ${image}
  command: ["sleep", "3600"]
  stopGracePeriodSeconds: 1
  secrets: [{source: db-pass, target: /run/secrets/db-pass}]
  configs: [{source: app-conf, target: /etc/app.conf}]
`);
    const applied = await cluster.cli(['apply', '-f', file]);
    assert.equal(applied.code, 0, applied.stderr);
    const [task] = await eventually('the app task running', 60_000, async () => {
      const ts = running(await cluster.tasks('app'));
      return ts.length === 1 ? ts : undefined;
    });
    const name = (task as TaskJson).metadata.name;
    const cat = await cluster.cli(['exec', name, '--', 'cat', '/run/secrets/db-pass']);
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, VALUE);
    const conf = await cluster.cli(['exec', name, '--', 'cat', '/etc/app.conf']);
    assert.equal(conf.stdout, 'port=8080\n');
    const write = await cluster.cli(['exec', name, '--', 'sh', '-c', 'echo x > /run/secrets/db-pass']);
    assert.notEqual(write.code, 0, 'the secret is mounted read-only');
    const tmpfs = `${secretsRoot}/default_${name}`;
    assert.ok(readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === tmpfs && l.split(' ')[2] === 'tmpfs'), `a tmpfs at ${tmpfs}`);
    const json = await cluster.cli(['get', 'secret', 'db-pass', '-o', 'json']);
    assert.equal(json.code, 0, json.stderr);
    assert.ok(!json.stdout.includes(VALUE) && !json.stdout.includes(Buffer.from(VALUE).toString('base64')), 'get -o json shows no value');
    const table = await cluster.cli(['get', 'secrets']);
    assert.match(table.stdout, new RegExp(`db-pass\\s+value\\s+${VALUE.length}B`));
    const describe = await cluster.cli(['describe', 'secret', 'db-pass']);
    assert.ok(!describe.stdout.includes(VALUE));
    for (const needle of [VALUE, Buffer.from(VALUE).toString('base64')]) {
      assert.deepEqual(await filesContaining(cluster.dataDir, needle), [], `no file under the data dir holds ${needle}`);
    }
  });

  it('updating the secret replaces the task, which reads the new value', async () => {
    const before = running(await cluster.tasks('app'))[0] as TaskJson;
    const file = await manifestFile(cluster.dataDir, 'secret2.yaml', `kind: Secret
metadata: {name: db-pass}
spec:
  stringData: {value: ${VALUE2}}
`);
    const r = await cluster.cli(['apply', '-f', file]);
    assert.equal(r.code, 0, r.stderr);
    const next = await eventually('a new task running', 90_000, async () => {
      const ts = running(await cluster.tasks('app'));
      return ts.length === 1 && ts[0]?.metadata.name !== before.metadata.name ? ts[0] : undefined;
    });
    const cat = await cluster.cli(['exec', next.metadata.name, '--', 'cat', '/run/secrets/db-pass']);
    assert.equal(cat.stdout, VALUE2);
    await eventually('the old task\'s tmpfs gone', 30_000, async () => (existsSync(`${secretsRoot}/default_${before.metadata.name}`) ? undefined : true));
  });

  it('the tmpfs goes with the task when the service is deleted', async () => {
    const t = running(await cluster.tasks('app'))[0] as TaskJson;
    assert.equal((await cluster.cli(['delete', 'service', 'app'])).code, 0);
    await eventually('tmpfs unmounted and removed', 60_000, async () => (mountsUnder(`${secretsRoot}/default_${t.metadata.name}`).length === 0 && !existsSync(`${secretsRoot}/default_${t.metadata.name}`) ? true : undefined));
  });

  it('a missing secret rejects the task with its name (the service is accepted)', async () => {
    const file = await manifestFile(cluster.dataDir, 'nosec.yaml', `kind: Service
metadata: {name: nosec}
spec:
  image: ${image}
  command: ["sleep", "3600"]
  restart: {condition: none}
  secrets: [{source: no-such-secret}]
`);
    const r = await cluster.cli(['apply', '-f', file]);
    assert.equal(r.code, 0, r.stderr);
    const msg = await eventually('the task rejected', 60_000, async () => (await cluster.tasks('nosec')).find((t) => t.status?.state === 'rejected')?.status?.message);
    assert.match(msg, /secret no-such-secret not found/);
    assert.equal((await cluster.cli(['delete', 'service', 'nosec'])).code, 0);
  });
});
