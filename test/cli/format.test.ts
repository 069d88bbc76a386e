/** Unit tests of the CLI's output: tables per kind, json/yaml shapes, describe. No server. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { renderList, renderOne } from '../../src/cli/format/output.js';
import { formatAge, renderTable } from '../../src/cli/format/table.js';
import { describeObject } from '../../src/cli/format/describe.js';
import { NOW, obj } from './fake-client.js';
import type { ApiObject } from '../../src/api/object.js';

const web = obj(
  'Service',
  'web',
  { mode: 'replicated', replicas: 3, image: 'reg/demo:1', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'tcp' }], env: {} },
  { replicas: 3, readyReplicas: 2 },
  { labels: { app: 'web' } },
);
const agentSvc = obj('Service', 'agentd', { mode: 'global', replicas: 0, image: 'reg/agent:2', ports: [] }, { replicas: 4, readyReplicas: 4 });
const task = obj('Task', 'web-1-abc', { service: 'web', node: 'n1', image: 'reg/demo:1', desiredState: 'running', slot: 1 }, { state: 'running', desiredState: 'running', ready: true, ip: '10.1.0.5', pid: 4242, timestamp: NOW.toISOString() }, { ageSeconds: 45 });
const pending = obj('Task', 'web-2-def', { service: 'web', node: '', image: 'reg/demo:1', desiredState: 'running', slot: 2 }, { state: 'pending', desiredState: 'running', ready: false, message: '0/2 nodes: 2 insufficient memory' });
const node = obj('Node', 'n1', { availability: 'active', role: 'worker', taints: [] }, { state: 'ready', capacity: { cpu: '2', memory: '4Gi' }, allocatable: { cpu: '1900m', memory: '3Gi' } }, { labels: { zone: 'w1', ssd: 'true' }, ageSeconds: 3 * 86400 });
const event = obj('Event', 'ev1', { involved: 'Task/default/web-2-def', type: 'Warning', reason: 'FailedScheduling', message: 'no node fits', source: 'scheduler', count: 3, firstTimestamp: NOW.toISOString(), lastTimestamp: new Date(NOW.getTime() - 7000).toISOString() });
const secret = obj('Secret', 'db', { data: { password: Buffer.from('hunter2-very-secret').toString('base64') } });

function lines(text: string): string[][] {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => l.split(/ {3,}/));
}

void describe('tables', () => {
  void it('aligns columns with no trailing blanks', () => {
    const t = renderTable(['A', 'LONGER'], [['xxxxx', 'y'], ['z', '']]);
    assert.equal(t, 'A       LONGER\nxxxxx   y\nz\n');
  });

  void it('formats ages', () => {
    assert.equal(formatAge(new Date(NOW.getTime() - 45_000).toISOString(), NOW), '45s');
    assert.equal(formatAge(new Date(NOW.getTime() - 600_000).toISOString(), NOW), '10m');
    assert.equal(formatAge(new Date(NOW.getTime() - 5 * 3600_000).toISOString(), NOW), '5h');
    assert.equal(formatAge(new Date(NOW.getTime() - 3 * 86400_000).toISOString(), NOW), '3d');
    assert.equal(formatAge(undefined, NOW), '-');
  });

  void it('shows services with ready/desired replicas and ports', () => {
    const rows = lines(renderList('Service', [web, agentSvc], 'table', { allNamespaces: false, now: NOW }));
    assert.deepEqual(rows[0], ['NAME', 'MODE', 'REPLICAS', 'IMAGE', 'PORTS', 'AGE']);
    assert.deepEqual(rows[1], ['agentd', 'global', '4/4', 'reg/agent:2', '-', '5m']);
    assert.deepEqual(rows[2], ['web', 'replicated', '2/3', 'reg/demo:1', '80->8080/tcp', '5m']);
  });

  void it('shows tasks, and IP PID MESSAGE when wide', () => {
    const rows = lines(renderList('Task', [pending, task], 'table', { allNamespaces: false, now: NOW }));
    assert.deepEqual(rows[0], ['NAME', 'SERVICE', 'NODE', 'STATE', 'DESIRED', 'READY', 'AGE']);
    assert.deepEqual(rows[1], ['web-1-abc', 'web', 'n1', 'running', 'running', 'yes', '45s']);
    assert.deepEqual(rows[2], ['web-2-def', 'web', '-', 'pending', 'running', 'no', '5m']);
    const wide = lines(renderList('Task', [task, pending], 'wide', { allNamespaces: false, now: NOW }));
    assert.deepEqual(wide[0]?.slice(7), ['IP', 'PID', 'MESSAGE']);
    assert.deepEqual(wide[1]?.slice(7), ['10.1.0.5', '4242', '-']);
    assert.deepEqual(wide[2]?.slice(7), ['-', '-', '0/2 nodes: 2 insufficient memory']);
  });

  void it('shows nodes with state, availability, resources and labels', () => {
    const rows = lines(renderList('Node', [node], 'table', { allNamespaces: false, now: NOW }));
    assert.deepEqual(rows[0], ['NAME', 'STATE', 'RUNTIME', 'AVAILABILITY', 'ROLE', 'CPU', 'MEMORY', 'LABELS', 'AGE']);
    assert.deepEqual(rows[1], ['n1', 'ready', '-', 'active', 'worker', '1900m', '3Gi', 'zone=w1,ssd=true', '3d']);
  });

  void it('shows a node\'s RuntimeReady condition in the RUNTIME column', () => {
    const cond = (status: boolean, reason: string): ApiObject => ({ ...node, status: { ...(node.status as object), conditions: [{ type: 'RuntimeReady', status, reason, message: 'why' }] } });
    const rows = lines(renderList('Node', [cond(true, 'RuntimeWorks'), cond(false, 'NoCgroupHierarchy')], 'table', { allNamespaces: false, now: NOW }));
    assert.deepEqual(rows.slice(1).map((r) => r[2]), ['ready', 'NotReady(NoCgroupHierarchy)']);
  });

  void it('shows events by the object they are about', () => {
    const rows = lines(renderList('Event', [event], 'table', { allNamespaces: false, now: NOW }));
    assert.deepEqual(rows[0], ['LAST', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    assert.deepEqual(rows[1], ['7s', 'Warning', 'FailedScheduling', 'task/web-2-def', 'no node fits (x3)']);
  });

  void it('never prints secret values in a table', () => {
    const text = renderList('Secret', [secret], 'wide', { allNamespaces: false, now: NOW });
    assert.deepEqual(lines(text)[0], ['NAME', 'KEYS', 'SIZE', 'AGE']);
    assert.deepEqual(lines(text)[1], ['db', 'password', '19B', '5m']);
    assert.doesNotMatch(text, /hunter2|aHVudGVy/);
    // As the API answers it: key names and sizes only.
    const redacted = obj('Secret', 'db', { keys: [{ name: 'password', bytes: 19 }, { name: 'user', bytes: 3 }] });
    assert.deepEqual(lines(renderList('Secret', [redacted], 'table', { allNamespaces: false, now: NOW }))[1], ['db', 'password,user', '22B', '5m']);
  });

  void it('puts NAMESPACE first with all namespaces, and uses NAME AGE for other kinds', () => {
    const pol = obj('NetworkPolicy', 'db', {}, undefined, { namespace: 'prod' });
    const rows = lines(renderList('NetworkPolicy', [pol], 'table', { allNamespaces: true, now: NOW }));
    assert.deepEqual(rows[0], ['NAMESPACE', 'NAME', 'AGE']);
    assert.deepEqual(rows[1], ['prod', 'db', '5m']);
  });

  void it('shows a volume\'s DRIVER, NODE and STATE (PATH when wide)', () => {
    const bound = obj('Volume', 'data', { driver: 'local' }, { node: 'node2', state: 'bound', path: '/var/lib/flotilla/volumes/default/data' });
    const fresh = obj('Volume', 'logs', { driver: 'local' });
    const rows = lines(renderList('Volume', [bound, fresh], 'wide', { allNamespaces: false, now: NOW }));
    assert.deepEqual(rows[0], ['NAME', 'DRIVER', 'NODE', 'STATE', 'AGE', 'PATH']);
    assert.deepEqual(rows[1], ['data', 'local', 'node2', 'bound', '5m', '/var/lib/flotilla/volumes/default/data']);
    assert.deepEqual(rows[2], ['logs', 'local', '-', 'unbound', '5m', '-']);
  });
});

void describe('json and yaml', () => {
  void it('prints one JSON object: {items} for a list, the object for a name', () => {
    const list: unknown = JSON.parse(renderList('Task', [task, pending], 'json', { allNamespaces: false, now: NOW }));
    assert.deepEqual(list, { items: [task, pending] });
    const one: unknown = JSON.parse(renderOne(task, 'json', NOW));
    assert.deepEqual(one, task);
  });

  void it('prints the same documents in YAML', () => {
    assert.deepEqual(parseYaml(renderList('Node', [node], 'yaml', { allNamespaces: false, now: NOW })), { items: [node] });
    assert.deepEqual(parseYaml(renderOne(web, 'yaml', NOW)), web);
  });

  void it('prints an empty list as {"items": []}', () => {
    assert.deepEqual(JSON.parse(renderList('Service', [], 'json', { allNamespaces: false, now: NOW })), { items: [] });
  });
});

void describe('describe', () => {
  void it('shows a service with its spec, status, tasks and events', () => {
    const svcEvent = obj('Event', 'ev2', { involved: 'Service/default/web', type: 'Normal', reason: 'Scaled', message: 'replicas 2 -> 3', source: 'service-controller', count: 1, lastTimestamp: NOW.toISOString() });
    const text = describeObject(web, { tasks: [task, pending], events: [svcEvent] }, NOW);
    assert.match(text, /^Name: +web$/m);
    assert.match(text, /^Namespace: +default$/m);
    assert.match(text, /^Labels: +app=web$/m);
    assert.match(text, /^ {2}Replicas: +3$/m);
    assert.match(text, /^ {2}Image: +reg\/demo:1$/m);
    assert.match(text, /^ {2}Ports: +80->8080\/tcp$/m);
    assert.match(text, /^ {2}Replicas: +2\/3 ready$/m);
    assert.match(text, /^Tasks:\n {2}NAME +NODE +STATE/m);
    assert.match(text, /^ {2}web-2-def +- +pending/m);
    assert.match(text, /^Events:\n {2}LAST +TYPE +REASON +MESSAGE\n {2}0s +Normal +Scaled +replicas 2 -> 3$/m);
  });

  void it('shows a task with its message, and <none> without events', () => {
    const text = describeObject(pending, { events: [] }, NOW);
    assert.match(text, /^ {2}Message: +0\/2 nodes: 2 insufficient memory$/m);
    assert.match(text, /^Events:\n {2}<none>$/m);
    assert.doesNotMatch(text, /^Tasks:/m);
  });

  void it('shows secret sizes, never values', () => {
    const text = describeObject(secret, { events: [] }, NOW);
    assert.match(text, /^ {2}password: +19 bytes$/m);
    assert.doesNotMatch(text, /hunter2|aHVudGVy/);
  });

  void it('describes a volume: driver, node, state, path', () => {
    const vol = obj('Volume', 'data', { driver: 'local' }, { node: 'node2', state: 'bound', path: '/d/volumes/default/data', boundAt: NOW.toISOString() });
    const text = describeObject(vol, { events: [] }, NOW);
    assert.match(text, /^ {2}Driver: +local$/m);
    assert.match(text, /^ {2}Node: +node2$/m);
    assert.match(text, /^ {2}State: +bound$/m);
    assert.match(text, /^ {2}Path: +\/d\/volumes\/default\/data$/m);
  });
});
