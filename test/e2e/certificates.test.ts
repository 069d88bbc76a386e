/**
 * Certificates end to end: a real server and two real agents on network namespaces, running
 * tasks. `node rotate-cert` (the old certificate, copied before, is refused at once while the
 * agent goes on), `ca rotate` (no task restarted, agents on new-CA certificates and bundle,
 * logs/exec through the server, the old CA refused), and a Revocation closing a node's open
 * connection. Requests with a node's certificate run inside that node's namespace (probe.mjs).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Cluster, eventually, type TaskJson } from '../helpers/cluster.js';
import { bundleFingerprints } from '../../src/server/pki/bundle.js';

/** Runs in a node's namespace: `get URL` -> one status line; `watch URL THEN` -> writes progress to OUT. */
const PROBE = `
import https from 'node:https';
import { readFileSync, appendFileSync } from 'node:fs';
const [mode, url, dir, out] = process.argv.slice(2);
const tls = { ca: readFileSync(dir + '/ca.pem'), ...(mode.endsWith('anon') ? {} : { cert: readFileSync(dir + '/cert.pem'), key: readFileSync(dir + '/key.pem') }) };
const get = (u) => new Promise((resolve) => {
  const req = https.get(u, { ...tls, agent: false }, (res) => { let b = ''; res.on('data', (c) => { b += c; }); res.on('end', () => resolve(res.statusCode + ' ' + b.slice(0, 300))); });
  req.on('error', (e) => resolve('error ' + e.message));
});
if (mode.startsWith('get')) console.log(await get(url));
else {
  const req = https.get(url, { ...tls, agent: false }, (res) => {
    appendFileSync(out, 'open ' + res.statusCode + '\\n');
    res.on('data', () => undefined);
    res.on('close', async () => { appendFileSync(out, 'closed\\n'); appendFileSync(out, 'again ' + (await get(url.replace(/\\/watch.*/, '/nodes'))) + '\\n'); process.exit(0); });
  });
  req.on('error', (e) => appendFileSync(out, 'error ' + e.message + '\\n'));
  setTimeout(() => process.exit(3), 120000);
}
`;

interface Creds { caPem: string; certPem: string; keyPem: string }

describe('certificates: rotate-cert, ca rotate, revocation', { timeout: 600_000 }, () => {
  let c: Cluster;
  let probe = '';

  before(async () => {
    c = await Cluster.start({ nodes: 2 });
    probe = path.join(c.dir, 'probe.mjs');
    await writeFile(probe, PROBE);
    const image = (await c.buildImage('test/certs', '1')).ref;
    await c.apply(`kind: Service
metadata: {name: web}
spec:
  image: ${image}
  replicas: 2
  command: ["sh", "-c", "echo started; exec httpd -f -p 8080 -h /"]
  placement: {spread: ["node.labels.node"]}
`);
    await c.runningTasks('web', 2);
  });
  after(async () => {
    await c?.stop();
  });

  const credsOf = async (node: string): Promise<Creds> => JSON.parse(await readFile(path.join(c.node(node).dataDir, 'node-credentials.json'), 'utf8')) as Creds;
  /** Writes PEMs for probe.mjs; returns their dir. */
  const pemDir = async (name: string, p: Creds): Promise<string> => {
    const dir = path.join(c.dir, `pems-${name}`);
    await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
    await writeFile(path.join(dir, 'ca.pem'), p.caPem);
    await writeFile(path.join(dir, 'cert.pem'), p.certPem);
    await writeFile(path.join(dir, 'key.pem'), p.keyPem);
    return dir;
  };
  const probeGet = async (node: string, dir: string, anon = false): Promise<string> => {
    const r = await c.exec(node, [process.execPath, probe, anon ? 'get-anon' : 'get', `${c.serverUrl}/api/v1/nodes`, dir]);
    return r.stdout.trim() || r.stderr.trim();
  };
  const taskPids = async (): Promise<string[]> => (await c.runningTasks('web', 2)).map((t: TaskJson) => `${t.metadata.name}:${t.status?.pid}`).sort();

  it('node rotate-cert: the old certificate is refused at once; the agent goes on', async () => {
    const old = await credsOf('node1');
    const dir = await pemDir('node1-old', old);
    assert.match(await probeGet('node1', dir), /^200 /, 'the current certificate works before');
    const t0 = Date.now();
    const r = await c.cli(['node', 'rotate-cert', 'node1']);
    console.log(`figure: flotilla node rotate-cert took ${((Date.now() - t0) / 1000).toFixed(1)} s (CLI start included)`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /node\/node1 certificate rotated: new certificate issued .*Revocation node\.node1/);
    const refused = await probeGet('node1', dir);
    assert.match(refused, /^401 .*revoked by Revocation node\.node1/, 'the old certificate is refused at once');
    const now = await credsOf('node1');
    assert.notEqual(now.certPem, old.certPem, 'the agent saved its new certificate');
    assert.match(await probeGet('node1', await pemDir('node1-new', now)), /^200 /, 'the new certificate works');
    // The agent goes on: fresh heartbeats, exec through the server.
    const beat = async (): Promise<string> => ((await c.list<{ metadata: { name: string }; status?: { heartbeat?: string } }>('nodes')).find((n) => n.metadata.name === 'node1')?.status?.heartbeat ?? '');
    const b0 = await beat();
    await eventually('node1 heartbeats again', 30_000, async () => ((await beat()) > b0 ? true : undefined));
    const t1 = (await c.runningTasks('web', 2)).find((t) => t.spec.node === 'node1') as TaskJson;
    const e = await c.cli(['exec', t1.metadata.name, '--', 'echo', 'still-here']);
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stdout, /still-here/);
  });

  it('ca rotate: no task restarts; agents get new-CA certificates and bundle; logs/exec work; the old CA is refused', async () => {
    const tasksBefore = await taskPids();
    assert.ok(tasksBefore.every((x) => /:\d+$/.test(x)), `tasks report their PIDs: ${tasksBefore.join(' ')}`);
    const oldNode2 = await credsOf('node2');
    const oldCa = bundleFingerprints(oldNode2.caPem);
    const oldDir = await pemDir('node2-old', oldNode2);
    const t0 = Date.now();
    const r = await c.cli(['ca', 'rotate', '--deadline-seconds', '240'], { timeoutMs: 300_000 });
    console.log(`figure: flotilla ca rotate with 2 nodes took ${((Date.now() - t0) / 1000).toFixed(1)} s (CLI start included)\n${r.stdout}`);
    assert.equal(r.code, 0, `${r.stderr}\n${c.logs()}`);
    assert.match(r.stdout, /CA rotation begun: new CA/);
    assert.match(r.stdout, /phase renewing/);
    assert.match(r.stdout, /done: the cluster CA is/);
    const status = await c.cli(['ca', 'status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /rotation: none/);
    assert.match(status.stdout, /retired {2}/);
    const admin = JSON.parse(readFileSync(c.config, 'utf8')) as { ca: string };
    const newCa = bundleFingerprints(admin.ca);
    assert.equal(newCa.length, 1);
    assert.ok(!oldCa.includes(newCa[0] as string), 'admin.json trusts only the new CA');
    const caCert = new X509Certificate(admin.ca);
    for (const n of ['node1', 'node2']) {
      const creds = await credsOf(n);
      assert.deepEqual(bundleFingerprints(creds.caPem), newCa, `${n} trusts only the new CA`);
      assert.ok(new X509Certificate(creds.certPem).verify(caCert.publicKey), `${n}'s certificate is signed by the new CA`);
    }
    assert.deepEqual(await taskPids(), tasksBefore, 'same tasks, same PIDs: nothing restarted');
    const t2 = (await c.runningTasks('web', 2)).find((t) => t.spec.node === 'node2') as TaskJson;
    const e = await c.cli(['exec', t2.metadata.name, '--', 'echo', 'after-rotation']);
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stdout, /after-rotation/);
    const l = await c.cli(['logs', t2.metadata.name]);
    assert.equal(l.code, 0, l.stderr);
    assert.match(l.stdout, /started/);
    // The old CA is refused: as the server's issuer (TLS fails) and as the issuer of a client certificate (401).
    assert.match(await probeGet('node2', oldDir, true), /^error .*(certificate|self.signed|unable)/i, 'a client trusting only the old CA cannot talk to the server');
    const mixed = path.join(c.dir, 'pems-node2-oldcert-newca');
    await pemDir('node2-oldcert-newca', { ...oldNode2, caPem: admin.ca });
    assert.match(await probeGet('node2', mixed), /^401 /, 'an old-CA node certificate is refused');
    for (const n of ['node1', 'node2']) {
      const nodes = await c.list<{ metadata: { name: string }; status?: { state?: string } }>('nodes');
      assert.equal(nodes.find((x) => x.metadata.name === n)?.status?.state, 'ready', `${n} is still ready`);
    }
  });

  it('a Revocation closes the open connection of its node, whose requests are then refused', async () => {
    const dir = await pemDir('node2-now', await credsOf('node2'));
    const out = path.join(c.dir, 'watch-node2.log');
    await writeFile(out, '');
    const watching = c.exec('node2', [process.execPath, probe, 'watch', `${c.serverUrl}/api/v1/watch?kind=Node`, dir, out], 150_000);
    await eventually('watch open', 30_000, async () => ((await readFile(out, 'utf8')).includes('open 200') ? true : undefined));
    await new Promise((r) => setTimeout(r, 1_100));
    await c.apply(`kind: Revocation
metadata: {name: node.node2}
spec: {subject: "node:node2", issuedBefore: "${new Date().toISOString()}", reason: "e2e: key leaked"}
`);
    await eventually('watch closed and refused', 30_000, async () => {
      const text = await readFile(out, 'utf8');
      return text.includes('closed') && /again /.test(text) ? text : undefined;
    });
    const text = await readFile(out, 'utf8');
    assert.match(text, /again 401 .*revoked by Revocation node\.node2 \(e2e: key leaked\)/);
    await watching;
  });
});
