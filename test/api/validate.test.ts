import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeSpec, Secret, ServiceSpec } from '../../src/api/kinds.js';
import { isImageReference, specEqual, validateObject, validateSpec, validateStatus } from '../../src/api/validate/index.js';
import { ValidationError } from '../../src/api/errors.js';
import { issueAt, issuesOf } from './issues.js';

const svc = (spec: Record<string, unknown>, metadata: Record<string, unknown> = { name: 'web' }) => ({ kind: 'Service', metadata, spec: { image: 'busybox:1', ...spec } });
const serviceSpec = (spec: Record<string, unknown>): ServiceSpec => validateObject(svc(spec)).spec as ServiceSpec;

void describe('envelope and metadata', () => {
  void it('fills metadata: default namespace, empty labels, zero server fields; drops status', () => {
    const o = validateObject({ apiVersion: 'flotilla/v1', kind: 'Service', metadata: { name: 'web' }, spec: { image: 'busybox' }, status: { replicas: 3 } });
    assert.deepEqual(o.metadata, { name: 'web', namespace: 'default', uid: '', labels: {}, revision: 0, generation: 0, creationTimestamp: '' });
    assert.equal(o.status, undefined);
    assert.equal('status' in o, false);
  });
  void it('cluster-scoped kinds get namespace ""', () => {
    assert.equal(validateObject({ kind: 'Node', metadata: { name: 'n1' } }).metadata.namespace, '');
    assert.equal(validateObject({ kind: 'JoinToken', metadata: { name: 'admin', namespace: 'x' }, spec: {} }).metadata.namespace, '');
  });
  void it('keeps a given namespace, labels (coerced to strings) and annotations', () => {
    const o = validateObject(svc({}, { name: 'web', namespace: 'prod', labels: { app: 'web', ssd: true, 'example.com/tier': 3 }, annotations: { note: 'x' } }));
    assert.equal(o.metadata.namespace, 'prod');
    assert.deepEqual(o.metadata.labels, { app: 'web', ssd: 'true', 'example.com/tier': '3' });
    assert.deepEqual(o.metadata.annotations, { note: 'x' });
  });
  void it('rejects a wrong apiVersion, an unknown kind and unknown top-level fields, all at once', () => {
    const issues = issuesOf({ apiVersion: 'v1', kind: 'Servce', metadata: { name: 'web' }, spce: {} });
    assert.match(issueAt(issues, 'apiVersion').expected, /flotilla\/v1/);
    const k = issueAt(issues, 'kind');
    assert.match(k.expected, /one of Node, Service/);
    assert.match(k.expected, /did you mean Service/);
    assert.equal(k.found, '"Servce"');
    assert.match(issueAt(issues, 'spce').found ?? '', /unknown field "spce"/);
  });
  void it('a missing kind says it is required', () => {
    assert.match(issueAt(issuesOf({ metadata: { name: 'a' } }), 'kind').found ?? '', /required/);
  });
  void it('names, namespaces and label keys must be DNS labels, and says so', () => {
    const issues = issuesOf(svc({}, { name: 'Web_1', namespace: 'Prod', labels: { 'Bad_Key': 'x', ok: 'has space' } }));
    for (const p of ['metadata.name', 'metadata.namespace']) {
      const i = issueAt(issues, p);
      assert.match(i.expected, /DNS label \(RFC 1123/);
    }
    assert.match(issueAt(issues, 'metadata.labels.Bad_Key').expected, /label key.*DNS label/);
    assert.equal(issueAt(issues, 'metadata.labels.Bad_Key').found, 'key "Bad_Key"');
    assert.match(issueAt(issues, 'metadata.labels.ok').expected, /label value/);
  });
  void it('rejects names longer than 63 characters', () => {
    issueAt(issuesOf(svc({}, { name: 'a'.repeat(64) })), 'metadata.name');
    assert.equal(validateObject(svc({}, { name: 'a'.repeat(63) })).metadata.name.length, 63);
  });
  void it('node names may be DNS subdomains (host names)', () => {
    assert.equal(validateObject({ kind: 'Node', metadata: { name: 'host1.example.com' } }).metadata.name, 'host1.example.com');
  });
  void it('requires metadata and says so', () => {
    assert.match(issueAt(issuesOf({ kind: 'Service', spec: { image: 'x' } }), 'metadata').expected, /mapping \(required\)/);
  });
  void it('non-objects are rejected as a whole', () => {
    assert.match(issueAt(issuesOf([1, 2]), '').expected, /mapping with kind/);
    issuesOf('kind: Service');
  });
  void it('carries file, document and line from where', () => {
    try {
      validateObject(svc({ replicas: -1 }), { file: 'a.yaml', document: 2, lineOf: (p) => p.length * 10 });
      assert.fail('no error');
    } catch (e) {
      assert.ok(e instanceof ValidationError);
      assert.deepEqual(e.issues, [{ path: 'spec.replicas', expected: 'an integer >= 0', found: '-1', file: 'a.yaml', document: 2, line: 20 }]);
      assert.equal(e.message, 'a.yaml, document 2, line 20: spec.replicas: expected an integer >= 0, found -1');
      assert.equal(e.status, 422);
    }
  });
});

void describe('Service defaults', () => {
  void it('fills every default', () => {
    assert.deepEqual(serviceSpec({}), {
      mode: 'replicated', replicas: 1, image: 'busybox:1', env: {}, ports: [],
      resources: { requests: {}, limits: {} },
      placement: { constraints: [], spread: [], tolerations: [] },
      probes: {},
      update: { strategy: 'rolling', parallelism: 1, delaySeconds: 0, failureAction: 'pause', order: 'stop-first', monitorSeconds: 5, maxFailureRatio: 0, progressDeadlineSeconds: 300, scaleDownDelaySeconds: 30, steps: [] },
      restart: { condition: 'any', delaySeconds: 1, maxDelaySeconds: 60 },
      secrets: [], configs: [], volumes: [], stopGracePeriodSeconds: 10,
    });
  });
  void it('ports: targetPort defaults to port, protocol to tcp', () => {
    assert.deepEqual(serviceSpec({ ports: [{ port: 80 }, { name: 'dns', port: 53, targetPort: 5353, protocol: 'udp', publish: 30053 }] }).ports, [
      { port: 80, targetPort: 80, protocol: 'tcp' },
      { name: 'dns', port: 53, targetPort: 5353, protocol: 'udp', publish: 30053 },
    ]);
  });
  void it('probes: timing defaults and http path "/"', () => {
    const p = serviceSpec({ probes: { readiness: { http: { port: 8080 }, periodSeconds: 2 }, liveness: { exec: { command: ['true'] } }, startup: { tcp: { port: 1 } } } }).probes;
    assert.deepEqual(p.readiness, { http: { path: '/', port: 8080, scheme: 'http', headers: {} }, initialDelaySeconds: 0, periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1 });
    assert.deepEqual(p.liveness?.exec, { command: ['true'] });
    assert.deepEqual(p.startup?.tcp, { port: 1 });
  });
  void it('env: numbers and booleans become strings', () => {
    assert.deepEqual(serviceSpec({ env: { A: 1, B: true, C: 'x', D: 1.5 } }).env, { A: '1', B: 'true', C: 'x', D: '1.5' });
  });
  void it('resources: numbers become quantity strings; limits equal to requests are fine', () => {
    const r = serviceSpec({ resources: { requests: { cpu: 0.5, memory: '64Mi', pids: 10 }, limits: { cpu: '500m', memory: 67108864, pids: 10 } } }).resources;
    assert.deepEqual(r, { requests: { cpu: '0.5', memory: '64Mi', pids: 10 }, limits: { cpu: '500m', memory: '67108864', pids: 10 } });
  });
  void it('tolerations operator Equal', () => {
    const s = serviceSpec({ placement: { tolerations: [{ key: 'gpu', value: 'yes' }] } });
    assert.deepEqual(s.placement.tolerations, [{ key: 'gpu', operator: 'Equal', value: 'yes' }]);
  });
  void it('accepts the CONTRACT example as is', () => {
    const s = serviceSpec({
      mode: 'replicated', replicas: 3, image: '127.0.0.1:5000/demo/busybox:1',
      command: ['httpd', '-f', '-p', '8080', '-h', '/www'], env: { GREETING: 'hello' },
      ports: [{ name: 'http', port: 80, targetPort: 8080 }],
      resources: { requests: { cpu: '250m', memory: '32Mi' }, limits: { cpu: '500m', memory: '64Mi' } },
      placement: { constraints: ['node.labels.ssd == true'], spread: ['node.labels.datacenter'] },
      probes: { readiness: { http: { path: '/', port: 8080 }, periodSeconds: 2 }, liveness: { exec: { command: ['true'] } } },
      update: { strategy: 'rolling', parallelism: 1, failureAction: 'rollback' },
    });
    assert.equal(s.replicas, 3);
    assert.equal(s.update.failureAction, 'rollback');
    assert.equal(s.update.order, 'stop-first');
  });
  void it('defaults are fresh objects, never shared between results', () => {
    const a = serviceSpec({});
    a.env.X = '1';
    a.ports.push({ port: 1, targetPort: 1, protocol: 'tcp' });
    a.placement.constraints.push('node.name == x');
    const b = serviceSpec({});
    assert.deepEqual([b.env, b.ports, b.placement.constraints], [{}, [], []]);
  });
  void it('validating twice gives the same result (defaults are idempotent)', () => {
    const once = validateObject(svc({ ports: [{ port: 80 }], probes: { readiness: { tcp: { port: 80 } } } }));
    const twice = validateObject(JSON.parse(JSON.stringify(once)));
    assert.ok(specEqual(once, twice));
  });
});

void describe('Service errors', () => {
  const table: [string, Record<string, unknown>, string, RegExp, string?][] = [
    ['negative replicas', { replicas: -1 }, 'spec.replicas', /^an integer >= 0$/, '-1'],
    ['fractional replicas', { replicas: 1.5 }, 'spec.replicas', /integer/, '1.5'],
    ['replicas as text', { replicas: 'three' }, 'spec.replicas', /integer/, '"three"'],
    ['mode', { mode: 'daemon' }, 'spec.mode', /one of replicated, global/, '"daemon"'],
    ['image empty', { image: '' }, 'spec.image', /image reference/, '""'],
    ['image uppercase', { image: 'Busybox' }, 'spec.image', /image reference/],
    ['image bad digest', { image: 'busybox@sha256:abc' }, 'spec.image', /image reference/],
    ['command not a list', { command: 'httpd -f' }, 'spec.command', /a list/],
    ['env null value', { env: { A: null } }, 'spec.env.A', /a string/, 'null'],
    ['port 0', { ports: [{ port: 0 }] }, 'spec.ports[0].port', /from 1 to 65535/, '0'],
    ['port missing', { ports: [{ targetPort: 80 }] }, 'spec.ports[0].port', /required/, 'nothing'],
    ['protocol', { ports: [{ port: 80, protocol: 'sctp' }] }, 'spec.ports[0].protocol', /one of tcp, udp/],
    ['port name', { ports: [{ port: 80, name: 'HTTP' }] }, 'spec.ports[0].name', /DNS label/],
    ['publish', { ports: [{ port: 80, publish: 70000 }] }, 'spec.ports[0].publish', /from 1 to 65535/],
    ['duplicate port', { ports: [{ port: 80 }, { port: 80 }] }, 'spec.ports[1].port', /not already used by ports\[0\]/],
    ['memory garbage', { resources: { limits: { memory: '64MB' } } }, 'spec.resources.limits.memory', /quantity like/, '"64MB"'],
    ['negative cpu', { resources: { requests: { cpu: '-1' } } }, 'spec.resources.requests.cpu', /quantity/],
    ['pids zero', { resources: { limits: { pids: 0 } } }, 'spec.resources.limits.pids', /integer >= 1/],
    ['limit below request', { resources: { requests: { memory: '64Mi' }, limits: { memory: '32Mi' } } }, 'spec.resources.limits.memory', /limit >= its request \(requests.memory is 64Mi\)/, '"32Mi"'],
    ['cpu limit below request', { resources: { requests: { cpu: 1 }, limits: { cpu: '999m' } } }, 'spec.resources.limits.cpu', /limit >= its request/],
    ['bad constraint', { placement: { constraints: ['node.labels.ssd == true', 'node.labels.ssd = true'] } }, 'spec.placement.constraints[1]', /use == \(not =\)/, '"node.labels.ssd = true"'],
    ['bad spread', { placement: { spread: ['datacenter'] } }, 'spec.placement.spread[0]', /node\.labels\.datacenter/],
    ['strategy', { placement: { strategy: 'random' } }, 'spec.placement.strategy', /one of spread, binpack/],
    ['probe with none', { probes: { readiness: { periodSeconds: 2 } } }, 'spec.probes.readiness', /exactly one of http, tcp or exec/],
    ['probe with two', { probes: { readiness: { tcp: { port: 1 }, exec: { command: ['x'] } } } }, 'spec.probes.readiness', /not tcp and exec/],
    ['probe period 0', { probes: { liveness: { tcp: { port: 1 }, periodSeconds: 0 } } }, 'spec.probes.liveness.periodSeconds', /integer >= 1/],
    ['probe kind', { probes: { readyness: { tcp: { port: 1 } } } }, 'spec.probes.readyness', /did you mean "readiness"/],
    ['probe kind far off', { probes: { ready: { tcp: { port: 1 } } } }, 'spec.probes.ready', /one of readiness, liveness, startup/],
    ['http path', { probes: { readiness: { http: { port: 1, path: 'health' } } } }, 'spec.probes.readiness.http.path', /starting with \//],
    ['update strategy', { update: { strategy: 'recreate' } }, 'spec.update.strategy', /one of rolling, blue-green, canary/],
    ['parallelism below 0', { update: { parallelism: -1 } }, 'spec.update.parallelism', /integer >= 0/],
    ['steps on rolling', { update: { steps: [{ weight: 10 }] } }, 'spec.update.steps', /no steps with strategy rolling/],
    ['canary weights must rise', { update: { strategy: 'canary', steps: [{ weight: 50 }, { pause: {} }, { weight: 20 }] } }, 'spec.update.steps[2].weight', /above the previous step's 50/],
    ['canary weight over 100', { update: { strategy: 'canary', steps: [{ weight: 120 }] } }, 'spec.update.steps[0].weight', /integer from 1 to 100/],
    ['probe without handler', { probes: { readiness: { periodSeconds: 1 } } }, 'spec.probes.readiness', /exactly one of http, tcp or exec/],
    ['probe with two handlers', { probes: { liveness: { tcp: { port: 80 }, exec: { command: ['true'] } } } }, 'spec.probes.liveness', /not tcp and exec/],
    ['probe port', { probes: { readiness: { tcp: { port: 70000 } } } }, 'spec.probes.readiness.tcp.port', /65535/],
    ['probe threshold', { probes: { readiness: { tcp: { port: 80 }, failureThreshold: 0 } } }, 'spec.probes.readiness.failureThreshold', /integer >= 1/],
    ['liveness successThreshold', { probes: { liveness: { tcp: { port: 80 }, successThreshold: 2 } } }, 'spec.probes.liveness.successThreshold', /a liveness probe passes on one success/],
    ['global blue-green', { mode: 'global', update: { strategy: 'blue-green' } }, 'spec.update.strategy', /not supported yet for mode: global/],
    ['maxFailureRatio', { update: { maxFailureRatio: 2 } }, 'spec.update.maxFailureRatio', /from 0 to 1/],
    ['failureAction', { update: { failureAction: 'retry' } }, 'spec.update.failureAction', /one of pause, continue, rollback/],
    ['order', { update: { order: 'first' } }, 'spec.update.order', /stop-first, start-first/],
    ['restart condition', { restart: { condition: 'always' } }, 'spec.restart.condition', /one of any, on-failure, none/],
    ['restart max < delay', { restart: { delaySeconds: 10, maxDelaySeconds: 5 } }, 'spec.restart.maxDelaySeconds', />= delaySeconds/],
    ['volume target relative', { volumes: [{ source: 'data', target: 'data' }] }, 'spec.volumes[0].target', /absolute path/],
    ['volume type', { volumes: [{ source: 'data', target: '/d', type: 'nfs' }] }, 'spec.volumes[0].type', /volume, tmpfs, bind/],
    ['secret source', { secrets: [{ source: 'Bad_Name' }] }, 'spec.secrets[0].source', /DNS label/],
    ['grace negative', { stopGracePeriodSeconds: -5 }, 'spec.stopGracePeriodSeconds', /integer >= 0/],
    ['typo', { replcas: 3 }, 'spec.replcas', /a known field of spec \(did you mean "replicas"\?\)/, 'unknown field "replcas"'],
    ['nested typo', { update: { paralelism: 2 } }, 'spec.update.paralelism', /did you mean "parallelism"/],
  ];
  for (const [name, spec, path, expected, found] of table) {
    void it(name, () => {
      const i = issueAt(issuesOf(svc(spec)), path);
      assert.match(i.expected, expected);
      if (found !== undefined) assert.equal(i.found, found);
    });
  }
  void it('a missing image is required', () => {
    const i = issueAt(issuesOf({ kind: 'Service', metadata: { name: 'web' } }), 'spec.image');
    assert.match(i.expected, /image reference.*\(required\)/);
    assert.equal(i.found, 'nothing');
  });
  void it('lists every issue, not just the first', () => {
    const issues = issuesOf({ kind: 'Service', metadata: { name: 'Web' }, spec: { replicas: -1, image: '', replcas: 2, ports: [{ port: 0 }], update: { parallelism: -1 } } });
    assert.deepEqual(issues.map((i) => i.path).sort(), ['metadata.name', 'spec.image', 'spec.ports[0].port', 'spec.replcas', 'spec.replicas', 'spec.update.parallelism']);
  });
});

void describe('image references', () => {
  const good = ['busybox', 'busybox:1', 'library/busybox:1.35', '127.0.0.1:5000/demo/busybox:1', 'localhost/x', 'registry.example.com/a/b/c:v1.2-rc_1', `busybox@sha256:${'a'.repeat(64)}`, `r:5000/x:1@sha256:${'0'.repeat(64)}`, 'a__b/c-d.e', 'a---b'];
  const bad = ['', 'Busybox', 'busybox:', ':1', '/busybox', 'busybox//x', 'a b', 'busybox@sha256:zz', `x:${'t'.repeat(129)}`, 'http://registry/x', 'x-', 'a'.repeat(600)];
  for (const g of good) void it(`accepts ${g}`, () => assert.ok(isImageReference(g)));
  for (const b of bad) void it(`rejects ${b.slice(0, 40)}`, () => assert.ok(!isImageReference(b)));
  void it('does not backtrack catastrophically', () => {
    const t = Date.now();
    isImageReference(`${'a-'.repeat(200)}!`);
    isImageReference(`${'a.'.repeat(200)}/`);
    assert.ok(Date.now() - t < 200);
  });
});

void describe('Node', () => {
  void it('defaults', () => {
    assert.deepEqual(validateObject({ kind: 'Node', metadata: { name: 'n1' } }).spec, { availability: 'active', role: 'worker', taints: [] } satisfies NodeSpec);
  });
  void it('taints and errors', () => {
    const spec = validateObject({ kind: 'Node', metadata: { name: 'n1' }, spec: { availability: 'drain', role: 'manager', taints: [{ key: 'gpu', value: true, effect: 'NoSchedule' }] } }).spec as NodeSpec;
    assert.deepEqual(spec.taints, [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }]);
    const issues = issuesOf({ kind: 'Node', metadata: { name: 'n1' }, spec: { availability: 'off', role: 'boss', taints: [{ key: 'x' }] } });
    assert.match(issueAt(issues, 'spec.availability').expected, /active, pause, drain/);
    assert.match(issueAt(issues, 'spec.role').expected, /worker, manager/);
    assert.match(issueAt(issues, 'spec.taints[0].effect').expected, /NoSchedule, NoExecute, PreferNoSchedule \(required\)/);
  });
});

void describe('Secret and Config', () => {
  void it('Secret stringData becomes base64 in data', () => {
    const s = validateObject({ kind: 'Secret', metadata: { name: 'db' }, spec: { data: { a: 'aGk=' }, stringData: { b: 'hello', port: 5432 } } }) as Secret;
    assert.deepEqual(s.spec, { data: { a: 'aGk=', b: 'aGVsbG8=', port: 'NTQzMg==' } });
  });
  void it('Secret data must be base64, keys file-name-like', () => {
    const issues = issuesOf({ kind: 'Secret', metadata: { name: 'db' }, spec: { data: { a: 'not base64!', 'b/c': 'aGk=' } } });
    assert.match(issueAt(issues, 'spec.data.a').expected, /base64.*stringData/);
    assert.match(issueAt(issues, 'spec.data.b/c').expected, /data key/);
  });
  void it('Config data is a map of strings with defaults', () => {
    assert.deepEqual(validateObject({ kind: 'Config', metadata: { name: 'c' }, spec: { data: { 'app.conf': 'x=1', n: 3 } } }).spec, { data: { 'app.conf': 'x=1', n: '3' } });
    assert.deepEqual(validateObject({ kind: 'Config', metadata: { name: 'c' } }).spec, { data: {} });
    issueAt(issuesOf({ kind: 'Config', metadata: { name: 'c' }, spec: { data: { a: { nested: 1 } } } }), 'spec.data.a');
  });
});

void describe('Task, Event and open kinds', () => {
  const template = serviceSpec({});
  void it('Task spec with defaults', () => {
    const t = validateObject({ kind: 'Task', metadata: { name: 'web-1-abc' }, spec: { service: 'web', image: 'busybox:1', template } });
    assert.deepEqual(t.spec, { service: 'web', serviceGeneration: 0, slot: 0, node: '', image: 'busybox:1', desiredState: 'running', template });
    issueAt(issuesOf({ kind: 'Task', metadata: { name: 't' }, spec: { service: 'web', image: 'x', template, desiredState: 'gone' } }), 'spec.desiredState');
  });
  void it('Event spec with defaults', () => {
    const e = validateObject({ kind: 'Event', metadata: { name: 'web.17a3f' }, spec: { involved: 'Service/default/web', reason: 'Scaled' } });
    assert.deepEqual(e.spec, { involved: 'Service/default/web', type: 'Normal', reason: 'Scaled', message: '', source: '', count: 1, firstTimestamp: '', lastTimestamp: '' });
  });
  void it('Role, Grant and User have their schemas (issue 9)', () => {
    assert.deepEqual(validateObject({ kind: 'Grant', metadata: { name: 'g' }, spec: { subject: 'user:ann', role: 'view', collection: { namespace: 'prod', labels: { team: 'a' } } } }).spec, { subject: 'user:ann', role: 'view', collection: { namespace: 'prod', labels: { team: 'a' } } });
    assert.match(issueAt(issuesOf({ kind: 'Grant', metadata: { name: 'g' }, spec: { subject: 'ann', role: 'view', collection: { namespace: 'prod' } } }), 'spec.subject').expected, /user:NAME/);
    assert.match(issueAt(issuesOf({ kind: 'Role', metadata: { name: 'r' }, spec: { rules: [{ kinds: ['Service'], verbs: ['fly'] }] } }), 'spec.rules[0].verbs[0]').expected, /get/);
    assert.deepEqual(validateObject({ kind: 'User', metadata: { name: 'ann' }, spec: { tokenSha256: 'a'.repeat(64) } }).spec, { groups: [], tokenSha256: 'a'.repeat(64) });
  });
  void it('every kind has a schema of its own (none is refused as "not supported yet" any more)', () => {
    for (const kind of ['NetworkPolicy', 'TrustPolicy', 'Revocation']) {
      assert.doesNotMatch(JSON.stringify(issuesOf({ kind, metadata: { name: 'x' }, spec: {} })), /not supported yet/);
    }
    assert.deepEqual(validateObject({ kind: 'Ingress', metadata: { name: 'i' } }).spec, { rules: [], tls: [] }, 'Ingress has its own schema now');
    issueAt(issuesOf({ kind: 'Volume', metadata: { name: 'Data' }, spec: {} }), 'metadata.name');
  });
});

void describe('validateSpec and validateStatus', () => {
  void it('validateSpec defaults a spec alone', () => {
    assert.equal((validateSpec('Service', { image: 'x', replicas: 5 }) as ServiceSpec).replicas, 5);
    assert.throws(() => validateSpec('Service', { image: 'x', replicas: -5 }), (e: unknown) => e instanceof ValidationError && e.issues[0]?.path === 'spec.replicas');
  });
  void it('Task status: defaults, known fields checked, extra facts kept', () => {
    assert.deepEqual(validateStatus('Task', { state: 'running', pid: 42, extra: 'x' }), { state: 'running', desiredState: 'running', ready: false, pid: 42, timestamp: '', extra: 'x' });
    try {
      validateStatus('Task', { state: 'exploded', ready: 'yes' });
      assert.fail('no error');
    } catch (e) {
      assert.ok(e instanceof ValidationError);
      assert.match(issueAt(e.issues, 'status.state').expected, /new, pending, assigned/);
      assert.match(issueAt(e.issues, 'status.ready').expected, /true or false/);
    }
  });
  void it('Node status', () => {
    const st = { state: 'ready', capacity: { cpu: '2', memory: '4Gi' }, allocatable: { cpu: '1800m', memory: '3Gi' }, heartbeat: '2026-01-01T00:00:00Z' };
    assert.deepEqual(validateStatus('Node', st), st);
    assert.throws(() => validateStatus('Node', { state: 'up', capacity: { cpu: 'lots', memory: '1Gi' } }), (e: unknown) => e instanceof ValidationError && e.issues.length === 3);
  });
});

void describe('specEqual', () => {
  const table: [unknown, unknown, boolean][] = [
    [{ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }, true],
    [{ a: 1 }, { a: 1, b: undefined }, true],
    [{ a: [1, 2] }, { a: [2, 1] }, false],
    [{ a: 1 }, { a: '1' }, false],
    [{ a: null }, { a: undefined }, false],
    [[], {}, false],
    [{ a: {} }, { a: { x: 1 } }, false],
    ['x', 'x', true],
  ];
  table.forEach(([a, b, want], i) => void it(`case ${i}`, () => {
    assert.equal(specEqual(a, b), want);
    assert.equal(specEqual(b, a), want);
  }));
});
