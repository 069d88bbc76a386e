/**
 * Issue "First contact", part 3: private registries. One real agent whose registry wants a
 * login (htpasswd, Basic). Without credentials the task is rejected with "unauthorized"; after
 * `flotilla registry login --name private` a service with `imagePullSecret: private` runs; the
 * namespace default (`registry login` without --name, namespace team) is used by a service that
 * names none. The password appears nowhere: not in `get secret -o json`, task messages, events
 * or the server's and agent's logs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Cluster, eventually, namespacesLeft } from '../helpers/cluster.js';

const PASSWORD = `pw-${randomBytes(9).toString('hex')}`;

describe('private registry credentials', { timeout: 600_000 }, () => {
  let c: Cluster;
  let image = '';

  before(async () => {
    c = await Cluster.start({ nodes: 1, registryAuth: { user: 'ann', password: PASSWORD } });
    image = (await c.buildImage('private/app', '1')).ref;
  });

  after(async () => {
    const names = c?.namespaceNames() ?? [];
    if (c !== undefined) {
      if (process.env.FLOTILLA_TEST_LOGS === '1') console.error(c.logs());
      await c.removeLoadBalancers();
      await c.stop();
    }
    assert.deepEqual(namespacesLeft(names), []);
  });

  const service = (name: string, extra: string, ns = 'default'): string => `kind: Service
metadata: {name: ${name}, namespace: ${ns}}
spec:
  image: ${image}
  replicas: 1
  command: ["sleep", "3600"]
${extra}`;

  it('without credentials the task is rejected: unauthorized', async () => {
    await c.apply(service('nocreds', ''));
    const t = await eventually('nocreds rejected', 120_000, async () => (await c.tasks('nocreds')).find((x) => x.status?.state === 'rejected'));
    assert.match(t.status?.message ?? '', /unauthorized/);
  });

  it('registry login refuses a password on the command line and an empty one', async () => {
    const noStdin = await c.cli(['registry', 'login', c.registryHost, '--username', 'ann']);
    assert.notEqual(noStdin.code, 0);
    assert.match(noStdin.stderr, /--password-stdin/);
    const empty = await c.cli(['registry', 'login', c.registryHost, '--username', 'ann', '--password-stdin'], { stdin: '' });
    assert.notEqual(empty.code, 0);
    assert.match(empty.stderr, /empty/);
  });

  it('with imagePullSecret the task runs', async () => {
    const r = await c.cli(['registry', 'login', c.registryHost, '--username', 'ann', '--password-stdin', '--name', 'private'], { stdin: `${PASSWORD}\n` });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /secret\/private created/);
    assert.ok(!r.stdout.includes(PASSWORD));
    await c.apply(service('withcreds', '  imagePullSecret: private'));
    await c.runningTasks('withcreds', 1, 240_000);
  });

  it('a namespace default registry-credentials is used by services that name none', async () => {
    const r = await c.cli(['registry', 'login', c.registryHost, '--username', 'ann', '--password-stdin', '-n', 'team'], { stdin: PASSWORD });
    assert.equal(r.code, 0, r.stderr);
    await c.apply(service('bydefault', '', 'team'));
    await eventually('bydefault running', 240_000, async () => {
      const ts = await c.list<{ status?: { state?: string } }>('tasks', ['-n', 'team', '-l', 'service=bydefault']);
      return ts.some((t) => t.status?.state === 'running') ? true : undefined;
    });
  });

  it('a task without a login does not run the private image that another task brought onto the node', async () => {
    await c.apply(service('nocreds2', ''));
    const t = await eventually('nocreds2 rejected', 120_000, async () => (await c.tasks('nocreds2')).find((x) => x.status?.state === 'rejected'));
    assert.match(t.status?.message ?? '', /unauthorized/);
  });

  it('a named imagePullSecret that does not exist rejects the task, saying so', async () => {
    await c.apply(service('missing', '  imagePullSecret: nosuch'));
    const t = await eventually('missing rejected', 120_000, async () => (await c.tasks('missing')).find((x) => x.status?.state === 'rejected'));
    assert.match(t.status?.message ?? '', /imagePullSecret default\/nosuch: no such secret/);
  });

  it('the password appears nowhere', async () => {
    const b64 = Buffer.from(PASSWORD).toString('base64');
    const outputs = [
      (await c.cli(['get', 'secret', 'private', '-o', 'json'])).stdout,
      (await c.cli(['get', 'secret', 'registry-credentials', '-n', 'team', '-o', 'yaml'])).stdout,
      (await c.cli(['get', 'tasks', '-A', '-o', 'json'])).stdout,
      (await c.cli(['get', 'events', '-A', '-o', 'json'])).stdout,
      (await c.cli(['describe', 'secret', 'private'])).stdout,
      c.logs(),
    ];
    assert.match(outputs[0] ?? '', /"private"/);
    for (const [i, text] of outputs.entries()) {
      assert.ok(!text.includes(PASSWORD), `output ${i} shows the password`);
      assert.ok(!text.includes(b64), `output ${i} shows the password in base64`);
    }
  });
});
