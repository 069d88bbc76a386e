/**
 * Service load balancing, routing mesh and ingress on three real nodes (test/helpers/cluster.ts):
 * a `web` service of 3 replicas (one per node) answering its hostname (= task name), a client
 * task on node 1 calling the VIP 300 times, a replica killed while calls go on, the published
 * port on every node's address, and the ingress routing two hosts (HTTP and HTTPS with a
 * certificate from a Secret). Every nft table and the service route are removed from every
 * node namespace in `after`, then the namespaces themselves.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Cluster, eventually, namespacesLeft, type TaskJson } from '../helpers/cluster.js';

const rnd = (lo: number, n: number): number => lo + Math.floor(Math.random() * n);
const PUBLISH = rnd(30_000, 2_000);
const INGRESS_HTTP = rnd(41_000, 1_000);
const INGRESS_HTTPS = rnd(42_000, 1_000);

const SERVE_HOSTNAME = '["sh", "-c", "mkdir -p /tmp/www && hostname > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"]';

/** Runs `n` HTTP calls from inside a task; returns one line per call (body, or FAIL). */
async function callsFrom(c: Cluster, task: string, url: string, n: number): Promise<string[]> {
  const script = `i=0; while [ $i -lt ${n} ]; do timeout 5 wget -q -O- ${url} 2>/dev/null || echo FAIL; i=$((i+1)); done`;
  const r = await c.cli(['exec', task, '--', 'sh', '-c', script], { timeoutMs: 180_000 });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** Runs a node.js snippet inside a namespace and returns its stdout (the HTTP(S) client of the test). */
async function nodeIn(c: Cluster, where: string | number, code: string): Promise<string> {
  const r = await c.exec(where, [process.execPath, '-e', code], 30_000);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

describe('service VIPs, routing mesh and ingress on 3 nodes', { timeout: 600_000 }, () => {
  let c: Cluster;
  let certDir: string;
  let web: TaskJson[] = [];
  let client: TaskJson;
  let vip = '';

  before(async () => {
    certDir = mkdtempSync(path.join(tmpdir(), 'lb-e2e-'));
    c = await Cluster.start({ nodes: 3, agentArgs: () => ['--ingress-http', String(INGRESS_HTTP), '--ingress-https', String(INGRESS_HTTPS)] });
    const image = (await c.buildImage('test/lbweb', '1')).ref;
    await c.apply(`kind: Service
metadata: {name: web}
spec:
  image: ${image}
  replicas: 3
  command: ${SERVE_HOSTNAME}
  ports: [{port: 80, targetPort: 8080, publish: ${PUBLISH}}]
  placement: {spread: ["node.labels.node"]}
---
kind: Service
metadata: {name: api}
spec:
  image: ${image}
  replicas: 1
  command: ${SERVE_HOSTNAME}
  ports: [{name: http, port: 80, targetPort: 8080}]
  placement: {constraints: ["node.labels.node == node3"]}
---
kind: Service
metadata: {name: client}
spec:
  image: ${image}
  replicas: 1
  command: ["sleep", "3600"]
  placement: {constraints: ["node.labels.node == node1"]}
`);
    web = await c.runningTasks('web', 3);
    await c.runningTasks('api', 1);
    client = (await c.runningTasks('client', 1))[0] as TaskJson;
    vip = await eventually('the VIP of web', 30_000, async () => {
      const svc = JSON.parse((await c.cli(['get', 'service', 'web', '-o', 'json'])).stdout) as { status?: { vip?: string } };
      return svc.status?.vip;
    });
  });

  after(async () => {
    const names = c?.namespaceNames() ?? [];
    if (c !== undefined) {
      await c.removeLoadBalancers();
      await c.stop();
    }
    if (certDir !== undefined) rmSync(certDir, { recursive: true, force: true });
    assert.deepEqual(namespacesLeft(names), []);
  });

  it('spreads 300 calls to the VIP over the 3 replicas, each 20-47%', async () => {
    assert.match(vip, /^10\.96\.\d+\.\d+$/);
    assert.deepEqual(web.map((t) => t.spec.node).sort(), ['node1', 'node2', 'node3']);
    const answers = await callsFrom(c, client.metadata.name, `http://${vip}:80/`, 300);
    const counts = new Map<string, number>();
    for (const a of answers) counts.set(a, (counts.get(a) ?? 0) + 1);
    assert.equal(counts.get('FAIL'), undefined, `failed calls: ${JSON.stringify([...counts])}\n${c.logs()}`);
    assert.deepEqual([...counts.keys()].sort(), web.map((t) => t.metadata.name).sort());
    for (const [name, n] of counts) assert.ok(n >= 60 && n <= 141, `${name}: ${n} of 300`);
    console.log(`VIP ${vip}: ${JSON.stringify(Object.fromEntries(counts))}`);
  });

  it('takes a killed replica out of rotation quickly; no call fails after that', async () => {
    const victim = web.find((t) => t.spec.node === 'node2') as TaskJson;
    const node2 = c.node('node2');
    const root = path.join(node2.dataDir, 'runtime/runc');
    const ids = execFileSync('runc', ['--root', root, 'list', '-q']).toString().split('\n').filter((l) => l.includes(victim.metadata.name) || l !== '');
    const id = ids.find((l) => l.includes(victim.metadata.name)) ?? ids[0] as string;
    const killedAt = Date.now();
    execFileSync('runc', ['--root', root, 'kill', id, 'KILL']);
    await eventually('the victim out of the rules on node1', 20_000, async () => {
      const r = await c.exec('node1', ['nft', 'list', 'table', 'ip', 'flotilla']);
      return r.code === 0 && !r.stdout.includes(`${victim.status?.ip ?? 'x'} . 8080`) ? true : undefined;
    });
    const outAfterMs = Date.now() - killedAt;
    console.log(`killed replica out of rotation on node1 after ${outAfterMs} ms`);
    const answers = await callsFrom(c, client.metadata.name, `http://${vip}:80/`, 60);
    assert.deepEqual(answers.filter((a) => a === 'FAIL'), []);
    assert.ok(!answers.includes(victim.metadata.name));
    assert.ok(outAfterMs < 3_000, `${outAfterMs} ms`);
  });

  it('answers on the published port of every node, from outside the nodes', async () => {
    for (const n of c.nodes) {
      const r = await c.exec('server', ['/bin/busybox', 'timeout', '5', '/bin/busybox', 'wget', '-q', '-O-', `http://${n.address}:${PUBLISH}/`]);
      assert.equal(r.code, 0, `${n.name}: ${r.stderr}`);
      assert.match(r.stdout, /^web-/);
    }
  });

  it('refuses a second service asking for the same published port', async () => {
    await assert.rejects(c.apply(`kind: Service
metadata: {name: other}
spec:
  image: ${web[0]?.spec.image ?? ''}
  ports: [{port: 80, publish: ${PUBLISH}}]
`), /spec\.ports\[0\]\.publish: expected a port no other service publishes, found \d+\/tcp \(published by service default\/web\)/);
  });

  it('routes two hosts to two services over HTTP and HTTPS; 503 for a missing service', async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=web.test', '-addext', 'subjectAltName=DNS:web.test,DNS:api.test',
      '-keyout', path.join(certDir, 'key.pem'), '-out', path.join(certDir, 'crt.pem')], { stdio: 'ignore' });
    const b64 = (f: string): string => readFileSync(path.join(certDir, f)).toString('base64');
    await c.apply(`kind: Secret
metadata: {name: tls-test}
spec:
  data: {tls.crt: ${b64('crt.pem')}, tls.key: ${b64('key.pem')}}
---
kind: Ingress
metadata: {name: front}
spec:
  rules:
    - host: web.test
      paths: [{path: /, backend: {service: web, port: 80}}]
    - host: api.test
      paths: [{path: /, backend: {service: api, port: http}}]
    - host: ghost.test
      paths: [{path: /, backend: {service: ghost, port: 80}}]
  tls: [{hosts: [web.test, api.test], secret: tls-test}]
`);
    const ca = JSON.stringify(readFileSync(path.join(certDir, 'crt.pem'), 'utf8'));
    const addr = c.node('node2').address;
    const client = (proto: 'http' | 'https', host: string): string => `
      const m = require('node:${proto}');
      const req = m.get({ host: '${addr}', port: ${proto === 'http' ? INGRESS_HTTP : INGRESS_HTTPS}, path: '/', servername: '${host}', ca: ${ca}, headers: { host: '${host}' }, agent: false }, (res) => {
        let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => console.log(res.statusCode + ' ' + b.trim()));
      });
      req.setTimeout(5000, () => req.destroy(new Error('timeout')));
      req.on('error', (e) => { console.log('ERR ' + e.message); });`;
    const webAnswer = await eventually('ingress route to web', 20_000, async () => {
      const out = await nodeIn(c, 'server', client('http', 'web.test'));
      return out.startsWith('200 ') ? out : undefined;
    });
    assert.match(webAnswer, /^200 web-/);
    assert.match(await nodeIn(c, 'server', client('http', 'api.test')), /^200 api-/);
    assert.match(await nodeIn(c, 'server', client('https', 'web.test')), /^200 web-/);
    assert.match(await nodeIn(c, 'server', client('https', 'api.test')), /^200 api-/);
    assert.match(await nodeIn(c, 'server', client('http', 'ghost.test')), /^503 503 service unavailable: .*service default\/ghost does not exist/);
    const events = await c.list<{ spec: { reason: string; involved: string } }>('events');
    assert.ok(events.some((e) => e.spec.reason === 'BackendServiceMissing' && e.spec.involved === 'Ingress/default/front'), JSON.stringify(events.map((e) => e.spec.reason)));
  });
});
