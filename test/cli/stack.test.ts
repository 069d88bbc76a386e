/**
 * `flotilla stack deploy|ls|services|rm` in-process against the fake client: one atomic apply
 * of the whole stack, warnings on stderr, nothing sent for a bad file or a name clash, held
 * services started after what they depend on is up, --prune, and `rm` deleting exactly the
 * stack's objects, services first.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli/program.js';
import type { ApiObject, ObjectKey } from '../../src/api/object.js';
import { ValidationError } from '../../src/api/errors.js';
import type { ApplyResult } from '../../src/cli/context.js';
import type { ServiceSpec } from '../../src/api/kinds.js';
import { STACK_LABEL } from '../../src/compose/names.js';
import { FakeClient, fakeDeps, obj, type Captured } from './fake-client.js';

/** A fake whose services report every desired task ready (as a cluster would, a moment later). */
class ReadyClient extends FakeClient {
  override async get(key: ObjectKey): Promise<ApiObject | undefined> {
    const o = await super.get(key);
    if (o?.kind !== 'Service') return o;
    return { ...o, status: { readyReplicas: (o.spec as ServiceSpec).replicas } };
  }
}

const COMPOSE = `services:
  web:
    image: busybox:1
    depends_on: [db]
    ports: ["8080:80"]
    deploy: {replicas: 2}
    privileged: true
  db:
    image: busybox:1
    expose: ["5432"]
    volumes: ["data:/data"]
    secrets: [pw]
secrets:
  pw: {file: ./pw.txt}
volumes:
  data:
`;

async function composeDir(text = COMPOSE): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'flotilla-stack-cli-'));
  await writeFile(path.join(dir, 'compose.yaml'), text);
  await writeFile(path.join(dir, 'pw.txt'), 'hunter2');
  return path.join(dir, 'compose.yaml');
}

async function run(argv: string[], client: FakeClient): Promise<Captured> {
  const { deps, captured } = fakeDeps(client);
  const code = await runCli(argv, deps);
  return { code, ...captured };
}

const mine = { labels: { [STACK_LABEL]: 'shop' }, namespace: 'shop' };

void describe('flotilla stack', () => {
  void it('deploys the whole stack in one apply, warns on stderr, starts held services after their dependencies', async () => {
    const client = new ReadyClient();
    const file = await composeDir();
    const r = await run(['stack', 'deploy', '-c', file, 'shop'], client);
    assert.equal(r.code, 0, r.err);
    assert.equal(client.calls.filter((c) => c.startsWith('apply')).length, 1);
    assert.deepEqual(r.out.trim().split('\n'), [
      'secret/pw created', 'volume/data created', 'service/web created', 'service/db created',
      'service/web waiting for db (service_started)', 'service/web started with 2 replicas',
    ]);
    assert.match(r.err, /^warning: .*compose\.yaml: services\.web\.privileged: privileged containers are not supported: left out$/m);
    const web = client.objects.get('Service/shop/web');
    assert.equal((web?.spec as ServiceSpec).replicas, 2);
    assert.equal(web?.metadata.labels[STACK_LABEL], 'shop');
    assert.equal((client.objects.get('Secret/shop/pw')?.spec as { data: Record<string, string> }).data['pw.txt'], Buffer.from('hunter2').toString('base64'));
  });

  void it('fails naming the dependency when it is not up within --timeout; the held service stays at 0 replicas', async () => {
    const client = new FakeClient();
    const r = await run(['stack', 'deploy', '--timeout', '0', '-c', await composeDir(), 'shop'], client);
    assert.equal(r.code, 1);
    assert.match(r.err, /compose\.yaml: services\.web\.depends_on: expected db started within 0s \(web stays at 0 replicas: deploy again once they are up\)/);
    assert.equal((client.objects.get('Service/shop/web')?.spec as ServiceSpec).replicas, 0);
  });

  void it('sends nothing for a bad file: every issue on stderr, exit 1', async () => {
    const client = new FakeClient();
    const r = await run(['stack', 'deploy', '-c', await composeDir('services:\n  api:\n    image: busybox:1\n    deploy: {replicas: two}\n'), 'shop'], client);
    assert.equal(r.code, 1);
    assert.match(r.err, /compose\.yaml, line 4: services\.api\.deploy\.replicas: expected a number \(whole, >= 0\), found "two"/);
    assert.deepEqual(client.calls, []);
  });

  void it('names the compose field of an issue the server finds in one document', async () => {
    class RefusingClient extends FakeClient {
      override apply(objects: ApiObject[]): Promise<ApplyResult[]> {
        const web = objects.findIndex((o) => o.metadata.name === 'web');
        return Promise.reject(new ValidationError([{ document: web + 1, path: 'spec.ports[0].publish', expected: 'a port no other service publishes', found: '8080/tcp (published by service blog/www)' }]));
      }
    }
    const r = await run(['stack', 'deploy', '-c', await composeDir(), 'shop'], new RefusingClient());
    assert.equal(r.code, 1);
    assert.match(r.err, /^error: .*compose\.yaml, line 5: services\.web\.ports: expected a port no other service publishes \(Flotilla's Service spec\.ports\[0\]\.publish\), found 8080\/tcp \(published by service blog\/www\)$/m);
  });

  void it('refuses to replace objects another stack or a user owns, before writing anything', async () => {
    const client = new FakeClient([obj('Secret', 'pw', { data: {} }, undefined, { namespace: 'shop' })]);
    const r = await run(['stack', 'deploy', '-c', await composeDir(), 'shop'], client);
    assert.equal(r.code, 1);
    assert.match(r.err, /secret pw already exists in namespace shop and is not part of a stack: not replaced/);
    assert.equal(client.calls.filter((c) => c.startsWith('apply')).length, 0);
  });

  void it('refuses bad stack names and several compose files', async () => {
    const file = await composeDir();
    const bad = await run(['stack', 'deploy', '-c', file, 'My_Stack'], new FakeClient());
    assert.equal(bad.code, 2);
    assert.match(bad.err, /stack name "My_Stack": expected a DNS label/);
    const two = await run(['stack', 'deploy', '-c', file, '-c', file, 'shop'], new FakeClient());
    assert.equal(two.code, 2);
    assert.match(two.err, /several -c files .*not supported yet/);
  });

  void it('keeps objects that left the file unless --prune, which deletes them services first', async () => {
    const objects = [obj('Service', 'old', { mode: 'replicated', replicas: 1 }, undefined, mine), obj('Config', 'old-conf', { data: {} }, undefined, mine)];
    const kept = await run(['stack', 'deploy', '-c', await composeDir(), 'shop'], new ReadyClient(objects));
    assert.match(kept.out, /^service\/old kept: not in .*compose\.yaml \(stack deploy --prune deletes it\)$/m);
    assert.match(kept.out, /^config\/old-conf kept/m);
    const client = new ReadyClient(objects);
    const pruned = await run(['stack', 'deploy', '--prune', '-c', await composeDir(), 'shop'], client);
    assert.equal(pruned.code, 0, pruned.err);
    assert.match(pruned.out, /service\/old deleted\nconfig\/old-conf deleted\n$/);
    assert.equal(client.objects.has('Service/shop/old'), false);
  });

  void it('lists stacks and their services; rm deletes exactly the stack\'s objects, services first, volumes last', async () => {
    const client = new FakeClient([
      obj('Service', 'web', { mode: 'replicated', replicas: 2, image: 'busybox:1', ports: [] }, { readyReplicas: 2 }, mine),
      obj('Volume', 'data', { driver: 'local' }, undefined, mine),
      obj('Secret', 'pw', { data: {} }, undefined, mine),
      obj('Service', 'unrelated', { mode: 'replicated', replicas: 1, image: 'busybox:1', ports: [] }, undefined, { namespace: 'shop' }),
      obj('Service', 'blog', { mode: 'replicated', replicas: 1, image: 'busybox:1', ports: [] }, undefined, { labels: { [STACK_LABEL]: 'blog' }, namespace: 'blog' }),
    ]);
    const ls = await run(['stack', 'ls'], client);
    assert.deepEqual(ls.out.trim().split('\n').map((l) => l.split(/\s+/)), [['NAME', 'SERVICES', 'OBJECTS', 'NAMESPACE'], ['blog', '1', '1', 'blog'], ['shop', '1', '3', 'shop']]);
    const svcs = await run(['stack', 'services', 'shop'], client);
    assert.deepEqual(svcs.out.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0]), ['web']);
    const rm = await run(['stack', 'rm', 'shop'], client);
    assert.equal(rm.code, 0, rm.err);
    assert.deepEqual(rm.out.trim().split('\n'), ['service/web deleted', 'secret/pw deleted', 'volume/data deleted']);
    assert.deepEqual([...client.objects.keys()].sort(), ['Service/blog/blog', 'Service/shop/unrelated']);
    const again = await run(['stack', 'rm', 'shop'], client);
    assert.equal(again.code, 0);
    assert.match(again.err, /Nothing found in stack shop/);
  });
});
