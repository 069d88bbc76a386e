/**
 * Unit tests (fake client, no server) of the listing features of get and delete: label
 * selectors with =, !=, KEY and !KEY; -o name; get all; delete -l; get --watch printing the
 * table, then one line per change, until SIGINT.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSelector } from '../../src/api/label-selector.js';
import type { Watch, WatchEvent, WatchHandlers, WatchOptions } from '../../src/store/store.js';
import type { ApiObject } from '../../src/api/object.js';
import { waitFor } from '../server/helpers.js';
import { FakeClient, obj, runWithFake, assertOneErrorLine } from './fake-client.js';

const svc = (name: string, labels: Record<string, string>, namespace = 'default'): ApiObject =>
  obj('Service', name, { mode: 'replicated', replicas: 1, image: `reg/${name}:1`, ports: [] }, { readyReplicas: 1 }, { labels, namespace });
const task = (name: string, service: string): ApiObject =>
  obj('Task', name, { service, node: 'n1', image: 'reg/x:1', desiredState: 'running' }, { state: 'running' }, { labels: { service } });

function fixtures(): FakeClient {
  return new FakeClient([
    svc('web', { app: 'web', tier: 'front' }),
    svc('api', { app: 'api', tier: 'back' }),
    svc('legacy', { app: 'old' }),
    svc('other', { app: 'web' }, 'prod'),
    task('web-1', 'web'),
    task('api-1', 'api'),
    obj('Config', 'web-conf', { data: {} }),
    obj('Node', 'n1', { availability: 'active' }, { state: 'ready' }),
  ]);
}

void describe('label selectors', () => {
  void it('parses =, ==, !=, KEY and !KEY; only equality goes to the server', () => {
    const s = parseSelector('app=web, tier!=back,canary,!legacy,env==prod');
    assert.deepEqual(s.equality, { app: 'web', env: 'prod' });
    assert.equal(s.matches({ app: 'web', canary: '', env: 'prod' }), true);
    assert.equal(s.matches({ app: 'web', canary: '', env: 'prod', tier: 'back' }), false);
    assert.equal(s.matches({ app: 'web', env: 'prod' }), false, 'canary missing');
    assert.equal(s.matches({ app: 'web', canary: '1', env: 'prod', legacy: 'x' }), false, 'legacy present');
  });

  void it('refuses malformed terms and contradictions', () => {
    for (const bad of ['', 'a=b=c', '=x', 'a b', 'a=1,a=2']) assert.throws(() => parseSelector(bad), /expected|cannot equal both/, bad);
  });

  void it('get -l with != and existence filters what the server returned', async () => {
    const r = await runWithFake(['get', 'svc', '-l', 'tier,tier!=back', '-o', 'name'], fixtures());
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'service/web\n');
    const absent = await runWithFake(['get', 'svc', '-l', '!tier', '-o', 'name', '-A'], fixtures());
    assert.equal(absent.out, 'service/legacy\nservice/other\n');
    const eq = await runWithFake(['get', 'svc', '-l', 'app=web', '-A', '-o', 'name'], fixtures());
    assert.equal(eq.out, 'service/web\nservice/other\n', 'by namespace, then name');
  });
});

void describe('-o name and get all', () => {
  void it('-o name prints kind/name lines, for a list and for one object', async () => {
    assert.equal((await runWithFake(['get', 'services', '-o', 'name'], fixtures())).out, 'service/api\nservice/legacy\nservice/web\n');
    assert.equal((await runWithFake(['get', 'node', 'n1', '-o', 'name'], fixtures())).out, 'node/n1\n');
  });

  void it('get all prints one table per kind with kind/name, empty kinds left out', async () => {
    const r = await runWithFake(['get', 'all'], fixtures());
    assert.equal(r.code, 0, r.err);
    const groups = r.out.split('\n\n');
    assert.equal(groups.length, 3, r.out);
    assert.match(groups[0] ?? '', /^NAME +MODE +REPLICAS.*\nservice\/api +replicated/);
    assert.match(groups[1] ?? '', /^NAME +SERVICE.*\ntask\/api-1 +api/);
    assert.match(groups[2] ?? '', /^NAME .*\nconfig\/web-conf/);
    assert.doesNotMatch(r.out, /node\/n1|prod|other/);
  });

  void it('get all -o json is one {items} object; -l applies to every kind; empty says so', async () => {
    const j = JSON.parse((await runWithFake(['get', 'all', '-o', 'json', '-l', 'service=web'], fixtures())).out) as { items: ApiObject[] };
    assert.deepEqual(j.items.map((o) => `${o.kind}/${o.metadata.name}`), ['Task/web-1']);
    const none = await runWithFake(['get', 'all', '-n', 'empty'], fixtures());
    assert.equal(none.code, 0);
    assert.equal(none.out, '');
    assert.equal(none.err, 'No resources found in namespace empty.\n');
  });
});

void describe('delete -l', () => {
  void it('deletes every matching object and nothing else', async () => {
    const r = await runWithFake(['delete', 'services', '-l', 'app!=old,tier'], fixtures());
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'service/api deleted\nservice/web deleted\n');
    assert.deepEqual(r.client.calls.filter((c) => c.startsWith('delete')).sort(), ['delete Service/default/api', 'delete Service/default/web']);
  });

  void it('-A reaches every namespace; no match deletes nothing and says so (exit 0)', async () => {
    const r = await runWithFake(['delete', 'svc', '-l', 'app=web', '-A'], fixtures());
    assert.deepEqual(r.client.calls.filter((c) => c.startsWith('delete')).sort(), ['delete Service/default/web', 'delete Service/prod/other']);
    const none = await runWithFake(['delete', 'svc', '-l', 'app=nope'], fixtures());
    assert.equal(none.code, 0);
    assert.equal(none.err, 'No services match -l app=nope in namespace default: nothing deleted.\n');
    assert.ok(!none.client.calls.some((c) => c.startsWith('delete')));
  });

  void it('refuses -l together with -f', async () => {
    const r = await runWithFake(['delete', '-f', 'x.yaml', '-l', 'a=b'], fixtures());
    assert.equal(r.code, 2);
    assertOneErrorLine(r.err, /give either KIND NAME, KIND -l SELECTOR or -f FILE/);
  });
});

/** A fake whose watch the test drives: push events, or fail it. */
class WatchingClient extends FakeClient {
  readonly watches: { opts: WatchOptions; handlers: WatchHandlers; stopped: boolean }[] = [];
  watch(opts: WatchOptions, handlers: WatchHandlers): Promise<Watch> {
    const w = { opts, handlers, stopped: false };
    this.watches.push(w);
    return Promise.resolve({ stop: () => Promise.resolve(void (w.stopped = true)) });
  }
  push(ev: WatchEvent): void {
    for (const w of this.watches) if (w.opts.kind === ev.object.kind) w.handlers.onEvent(ev);
  }
}

const until = (cond: () => boolean): Promise<void> => waitFor('the watch started', cond);

void describe('get --watch', () => {
  void it('prints the table, then an aligned row per change; stops on SIGINT with exit 0', async () => {
    const client = new WatchingClient([...fixtures().objects.values()]);
    const running = runWithFake(['get', 'services', '-l', 'tier', '--watch'], client);
    await until(() => client.watches.length === 1);
    assert.deepEqual(client.watches[0]?.opts, { kind: 'Service', fromRevision: 10, namespace: 'default' });
    const moved = svc('web', { app: 'web', tier: 'front' });
    (moved.status as { readyReplicas: number }).readyReplicas = 0;
    client.push({ type: 'modified', object: moved, revision: 11 });
    client.push({ type: 'added', object: svc('nolabel', {}), revision: 12 });
    client.push({ type: 'modified', object: svc('api', { app: 'api' }), revision: 13 });
    client.push({ type: 'added', object: svc('elsewhere', { tier: 'x' }, 'prod'), revision: 14 });
    process.emit('SIGINT');
    const r = await running;
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^NAME +MODE +REPLICAS +IMAGE +PORTS +AGE$/);
    assert.equal(lines.length, 5, r.out);
    assert.match(lines[3] ?? '', /^web +replicated +0\/1 +reg\/web:1 +- +5m$/);
    assert.equal((lines[3] ?? '').indexOf('replicated'), (lines[0] ?? '').indexOf('MODE'), 'aligned with the header');
    assert.match(lines[4] ?? '', /^api .*\(deleted\)$/, 'api left the selection');
    assert.ok(client.watches.every((w) => w.stopped), 'watch stopped');
  });

  void it('-o json prints JSON lines; a failing watch ends with its error (exit 1)', async () => {
    const client = new WatchingClient([svc('web', { app: 'web' })]);
    const running = runWithFake(['get', 'svc', 'web', '-w', '-o', 'json'], client);
    await until(() => client.watches.length === 1);
    client.push({ type: 'modified', object: svc('api', {}), revision: 11 });
    client.push({ type: 'deleted', object: svc('web', { app: 'web' }), revision: 12 });
    client.watches[0]?.handlers.onError?.(new Error('watch stream ended'));
    const r = await running;
    assert.equal(r.code, 1);
    assertOneErrorLine(r.err, /^error: watch stream ended$/);
    const lines = r.out.trimEnd().split('\n').map((l) => JSON.parse(l) as { items?: ApiObject[]; type?: string; object?: ApiObject });
    assert.deepEqual(lines.map((l) => l.type ?? `items:${l.items?.length}`), ['items:1', 'deleted']);
  });
});

void describe('get all --watch', () => {
  void it('watches every kind of get all, each from its list revision, names as kind/name', async () => {
    const client = new WatchingClient([...fixtures().objects.values()]);
    const running = runWithFake(['get', 'all', '--watch'], client);
    await until(() => client.watches.length === 7);
    assert.deepEqual(client.watches.map((w) => w.opts.kind), ['Service', 'Task', 'Volume', 'Ingress', 'Config', 'Secret', 'NetworkPolicy']);
    client.push({ type: 'added', object: task('web-2', 'web'), revision: 11 });
    client.push({ type: 'deleted', object: obj('Config', 'web-conf', { data: {} }), revision: 12 });
    process.emit('SIGINT');
    const r = await running;
    assert.equal(r.code, 0, r.err);
    const tail = r.out.trimEnd().split('\n').slice(-2);
    assert.match(tail[0] ?? '', /^task\/web-2 +web /);
    assert.match(tail[1] ?? '', /^config\/web-conf .*\(deleted\)$/);
  });

  void it('-o yaml: the list document, then a --- document per change', async () => {
    const client = new WatchingClient([svc('web', {})]);
    const running = runWithFake(['get', 'svc', '-w', '-o', 'yaml'], client);
    await until(() => client.watches.length === 1);
    client.push({ type: 'added', object: svc('api', {}), revision: 11 });
    process.emit('SIGINT');
    const r = await running;
    assert.match(r.out, /^items:\n {2}- kind: Service\n[\s\S]*\n---\ntype: added\nobject:\n {2}kind: Service\n {2}metadata:\n {4}name: api\n/);
  });
});
