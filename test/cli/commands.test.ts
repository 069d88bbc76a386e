/**
 * Unit tests of the CLI's commands and argument errors, run in-process against a hand-written
 * fake client (no server): exit status, one clear stderr line per problem, what reaches the client.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../../src/cli/program.js';
import { ValidationError } from '../../src/api/errors.js';
import { FakeClient, fakeDeps, obj, type Captured } from './fake-client.js';

const WEB_YAML = `kind: Service
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  image: 127.0.0.1:5000/demo/busybox:1
`;

function fixtures(): FakeClient {
  return new FakeClient([
    obj('Service', 'web', { mode: 'replicated', replicas: 2, image: 'reg/demo:1', ports: [] }, { readyReplicas: 2 }, { labels: { app: 'web' } }),
    obj('Service', 'api', { mode: 'replicated', replicas: 1, image: 'reg/api:1', ports: [] }, undefined, { labels: { app: 'api' } }),
    obj('Service', 'mon', { mode: 'global', replicas: 0, image: 'reg/mon:1', ports: [] }),
    obj('Service', 'other', { mode: 'replicated', replicas: 1, image: 'reg/o:1', ports: [] }, undefined, { namespace: 'prod' }),
    obj('Node', 'n1', { availability: 'active', role: 'worker', taints: [] }, { state: 'ready' }),
  ]);
}

async function run(argv: string[], client = fixtures(), opts: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Captured & { client: FakeClient; configPaths: (string | undefined)[] }> {
  const { deps, captured, configPaths } = fakeDeps(client, opts.stdin, opts.env);
  const code = await runCli(argv, deps);
  return { code, ...captured, client, configPaths };
}

/** Exactly one stderr line, matching re. */
function oneLine(err: string, re: RegExp): void {
  const lines = err.trimEnd().split('\n');
  assert.equal(lines.length, 1, `expected one stderr line, got:\n${err}`);
  assert.match(lines[0] ?? '', re);
}

void describe('argument errors', () => {
  void it('names the known kinds when KIND is unknown', async () => {
    const r = await run(['get', 'frobs']);
    assert.equal(r.code, 2);
    oneLine(r.err, /^error: unknown kind "frobs": expected one of node, service, task, secret, config, event/);
    assert.equal(r.configPaths.length, 0, 'no client for a usage error');
  });

  void it('refuses a missing KIND, an unknown output format, an unknown command', async () => {
    for (const argv of [['get'], ['get', 'svc', '-o', 'xml'], ['frobnicate'], ['get', 'svc', 'a', 'b'], ['delete'], ['delete', 'service']]) {
      const r = await run(argv);
      assert.equal(r.code, 2, argv.join(' '));
      oneLine(r.err, /^error: /);
    }
  });

  void it('refuses negative and non-integer replicas', async () => {
    for (const n of ['-1', '1.5', 'three']) {
      const r = await run(['scale', 'service', 'web', '--replicas', n]);
      assert.equal(r.code, 2, n);
      oneLine(r.err, /expected an integer >= 0/);
      assert.ok(!r.client.calls.some((c) => c.startsWith('update')));
    }
  });

  void it('prints help with exit 0', async () => {
    const r = await run(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /apply/);
  });

  void it('secret create needs a file or a literal (exit 2, one line)', async () => {
    const r = await run(['secret', 'create', 's']);
    assert.equal(r.code, 2);
    oneLine(r.err, /--from-file FILE or --from-literal VALUE/);
  });

  void it('requires the agent flags of the contract', async () => {
    const r = await run(['agent', '--token', 't']);
    assert.equal(r.code, 2);
    oneLine(r.err, /--server/);
  });
});

void describe('get', () => {
  void it('lists services of the default namespace as a table', async () => {
    const r = await run(['get', 'services']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^NAME +MODE +REPLICAS +IMAGE +PORTS +AGE\napi +replicated +0\/1 +reg\/api:1 +- +5m\nmon +global +0\/0/);
    assert.doesNotMatch(r.out, /other/);
    assert.ok(r.client.closed, 'client closed after the command');
  });

  void it('filters by label and spans namespaces with -A', async () => {
    const r = await run(['get', 'svc', '-l', 'app=web', '-o', 'json']);
    assert.deepEqual(
      (JSON.parse(r.out) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name),
      ['web'],
    );
    const all = await run(['get', 'service', '-A']);
    assert.match(all.out, /^NAMESPACE +NAME/);
    assert.match(all.out, /^prod +other/m);
  });

  void it('prints one object by name, in the namespace given', async () => {
    const r = await run(['get', 'service', 'other', '-n', 'prod', '-o', 'json']);
    assert.equal(r.code, 0, r.err);
    const o = JSON.parse(r.out) as { kind: string; metadata: { name: string } };
    assert.equal(o.kind, 'Service');
    assert.equal(o.metadata.name, 'other');
  });

  void it('reports a missing object with exit 1', async () => {
    const r = await run(['get', 'service', 'nope']);
    assert.equal(r.code, 1);
    oneLine(r.err, /^error: service "nope" not found in namespace default$/);
  });

  void it('passes --config to the client, before or after the command', async () => {
    assert.deepEqual((await run(['--config', '/tmp/a.json', 'get', 'nodes'])).configPaths, ['/tmp/a.json']);
    assert.deepEqual((await run(['get', 'nodes', '--config', '/tmp/b.json'])).configPaths, ['/tmp/b.json']);
    assert.deepEqual((await run(['get', 'nodes'])).configPaths, [undefined]);
  });

  void it('says No ... found on stderr for an empty table', async () => {
    const r = await run(['get', 'tasks']);
    assert.equal(r.code, 0);
    assert.equal(r.out, '');
    assert.match(r.err, /No tasks found in namespace default/);
  });
});

void describe('scale', () => {
  void it('updates replicas with the expected revision', async () => {
    const r = await run(['scale', 'service', 'web', '--replicas', '5']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'service/web scaled to 5\n');
    assert.ok(r.client.calls.includes('update Service/default/web @1'));
    assert.equal((r.client.objects.get('Service/default/web')?.spec as { replicas: number }).replicas, 5);
  });

  void it('retries once on a conflict, then gives up', async () => {
    const c = fixtures();
    c.conflictsLeft = 1;
    const r = await run(['scale', 'svc', 'web', '--replicas', '0'], c);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.client.calls.filter((x) => x.startsWith('update')).length, 2);
    const c2 = fixtures();
    c2.conflictsLeft = 2;
    const r2 = await run(['scale', 'svc', 'web', '--replicas', '3'], c2);
    assert.equal(r2.code, 1);
    oneLine(r2.err, /revision moved/);
  });

  void it('refuses global services and other kinds', async () => {
    const g = await run(['scale', 'service', 'mon', '--replicas', '2']);
    assert.notEqual(g.code, 0);
    oneLine(g.err, /service\/mon is global/);
    const t = await run(['scale', 'node', 'n1', '--replicas', '2']);
    assert.notEqual(t.code, 0);
    oneLine(t.err, /scale works on services only/);
  });
});

void describe('delete', () => {
  void it('deletes by kind and name', async () => {
    const r = await run(['delete', 'services', 'web']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'service/web deleted\n');
    assert.ok(!r.client.objects.has('Service/default/web'));
  });

  void it('fails clearly for a missing object', async () => {
    const r = await run(['delete', 'service', 'ghost']);
    assert.equal(r.code, 1);
    oneLine(r.err, /^error: service "ghost" not found in namespace default$/);
  });

  void it('deletes the objects of a file, one line per missing one', async () => {
    const yaml = `${WEB_YAML}---\nkind: Service\nmetadata: {name: ghost}\nspec: {image: reg/x:1}\n`;
    const r = await run(['delete', '-f', '-'], fixtures(), { stdin: yaml });
    assert.equal(r.code, 1);
    assert.equal(r.out, 'service/web deleted\n');
    oneLine(r.err, /service "ghost" not found/);
  });
});

void describe('apply', () => {
  void it('validates locally and sends every object in one call', async () => {
    const yaml = `${WEB_YAML}---\nkind: Service\nmetadata: {name: fresh}\nspec: {image: reg/x:1}\n`;
    const r = await run(['apply', '-f', '-'], fixtures(), { stdin: yaml });
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'service/web configured\nservice/fresh created\n');
    assert.deepEqual(r.client.calls, ['apply 2']);
  });

  void it('refuses an invalid document before opening a client, naming file, document and field', async () => {
    const yaml = `${WEB_YAML}---\nkind: Service\nmetadata: {name: bad}\nspec:\n  image: reg/x:1\n  replicas: -1\n`;
    const r = await run(['apply', '-f', '-'], fixtures(), { stdin: yaml });
    assert.equal(r.code, 1);
    oneLine(r.err, /^error: -, document 2, line 11: spec\.replicas: expected/);
    assert.equal(r.configPaths.length, 0, 'nothing sent');
  });

  void it('reports a missing file in one line', async () => {
    const r = await run(['apply', '-f', '/nonexistent/web.yaml']);
    assert.equal(r.code, 2);
    oneLine(r.err, /^error: \/nonexistent\/web.yaml: no such file$/);
  });
});

void describe('error reporting', () => {
  void it('prints each issue of a server ValidationError on its own line', async () => {
    const c = fixtures();
    c.apply = () => Promise.reject(new ValidationError([
      { path: 'spec.image', expected: 'an image reference', found: '""' },
      { path: 'spec.replicas', expected: 'an integer >= 0', found: '-1' },
    ]));
    const r = await run(['apply', '-f', '-'], c, { stdin: WEB_YAML });
    assert.equal(r.code, 1);
    assert.deepEqual(r.err.trimEnd().split('\n'), ['error: spec.image: expected an image reference, found ""', 'error: spec.replicas: expected an integer >= 0, found -1']);
  });

  void it('says the server cannot be reached, without a stack trace unless FLOTILLA_DEBUG=1', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED', address: '127.0.0.1', port: 6443 });
    const failing = fixtures();
    failing.list = () => Promise.reject(new TypeError('fetch failed', { cause: refused }));
    const r = await run(['get', 'nodes'], failing);
    assert.equal(r.code, 1);
    oneLine(r.err, /^error: cannot reach the API server at 127\.0\.0\.1:6443: connection refused$/);
    const d = await run(['get', 'nodes'], failing, { env: { FLOTILLA_DEBUG: '1' } });
    assert.match(d.err, /\n {4}at /);
  });
});
