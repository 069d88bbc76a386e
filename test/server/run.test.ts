/**
 * runServer's lifecycle: the data dir lock (refusal naming dir and PID, stale lock takeover),
 * admin.json (mode 0600, a CA that works, a token that works and survives restarts), PKI reuse,
 * idempotent stop.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ApiClient, loadClientConfig, ClientConfigError } from '../../src/client/index.js';
import { ClusterPki } from '../../src/server/pki/index.js';
import { runServer, type RunningServer } from '../../src/server/run.js';
import { rawRequest, service, tempDir } from './helpers.js';

describe('runServer', { timeout: 60_000 }, () => {
  const dirs: string[] = [];
  const servers: RunningServer[] = [];
  after(async () => {
    for (const s of servers) await s.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  async function start(dir: string, listen = '127.0.0.1:0'): Promise<RunningServer> {
    const s = await runServer({ dataDir: dir, listen, store: 'sqlite', log: () => undefined });
    servers.push(s);
    return s;
  }
  function dir(): string {
    const d = tempDir();
    dirs.push(d);
    return d;
  }

  it('refuses a second server on the same data dir, naming the dir and the PID', async () => {
    const d = dir();
    const first = await start(d);
    await assert.rejects(runServer({ dataDir: d, listen: '127.0.0.1:0', store: 'sqlite', log: () => undefined }), (err: Error) => {
      assert.ok(err.message.includes(d), err.message);
      assert.ok(err.message.includes(`PID ${process.pid}`), err.message);
      return true;
    });
    // Another process is refused too (exit status and message).
    const script = `import('${path.resolve('src/server/run.ts')}').then((m) => m.runServer({ dataDir: ${JSON.stringify(d)}, listen: '127.0.0.1:0', store: 'sqlite' })).then(() => process.exit(0), (e) => { console.error(e.message); process.exit(3); })`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.status, 3, child.stderr);
    assert.match(child.stderr, new RegExp(`data dir ${d} is in use by another flotilla server \\(PID ${process.pid}`));
    assert.equal((await rawRequest(`${first.url}/healthz`, { ca: first.pki.caCertPem })).status, 200, 'the first one still serves');
    await first.stop();
    await first.stop();
    assert.equal(existsSync(path.join(d, 'server.lock')), false, 'lock removed on stop');
  });

  it('takes over a stale lock left by a dead process', async () => {
    const d = dir();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    assert.ok(deadPid > 0);
    writeFileSync(path.join(d, 'server.lock'), `${deadPid}\n`);
    const s = await start(d);
    assert.equal(readFileSync(path.join(d, 'server.lock'), 'utf8').trim(), String(process.pid));
    await s.stop();
  });

  it('writes admin.json (0600) with a CA and token that work, and keeps them across restarts', async () => {
    const d = dir();
    const s1 = await start(d);
    const file = path.join(d, 'admin.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(path.join(d, 'pki', 'ca.key')).mode & 0o777, 0o600);
    assert.equal(statSync(path.join(d, 'pki', 'server.key')).mode & 0o777, 0o600);
    const cfg = loadClientConfig(file);
    assert.equal(cfg.server, s1.url);
    assert.match(cfg.server, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(cfg.ca, s1.pki.caCertPem);
    assert.ok(!readFileSync(path.join(d, 'auth', 'admin-token.sha256'), 'utf8').includes(cfg.token as string), 'only the hash is stored');
    // The CA in admin.json verifies the server; another CA does not.
    assert.equal((await rawRequest(`${cfg.server}/healthz`, { ca: cfg.ca })).status, 200);
    const other = dir();
    const otherCa = (await ClusterPki.loadOrCreate(other)).caCertPem;
    await assert.rejects(rawRequest(`${cfg.server}/healthz`, { ca: otherCa }), /certificate/);
    const c1 = new ApiClient(cfg);
    await c1.create(service('kept'));
    await c1.close();
    const fp = s1.pki.caFingerprint();
    await s1.stop();

    const s2 = await start(d);
    const cfg2 = loadClientConfig(file);
    assert.equal(cfg2.token, cfg.token, 'admin token survives a restart');
    assert.equal(s2.pki.caFingerprint(), fp, 'CA reused');
    const c2 = new ApiClient(cfg2);
    assert.ok(await c2.get({ kind: 'Service', namespace: 'default', name: 'kept' }), 'state survives a restart');
    await c2.close();
    await s2.stop();
  });

  it('loadClientConfig: explicit path, then FLOTILLA_CONFIG, with a clear error when missing', () => {
    const d = dir();
    assert.throws(() => loadClientConfig(path.join(d, 'missing.json')), (err: Error) => err instanceof ClientConfigError && err.message.includes('missing.json') && err.message.includes('does not exist'));
    const saved = process.env.FLOTILLA_CONFIG;
    try {
      process.env.FLOTILLA_CONFIG = path.join(d, 'env.json');
      writeFileSync(process.env.FLOTILLA_CONFIG, JSON.stringify({ server: 'https://127.0.0.1:1', ca: '-----BEGIN CERTIFICATE-----', token: 't' }));
      assert.equal(loadClientConfig().token, 't');
      writeFileSync(process.env.FLOTILLA_CONFIG, JSON.stringify({ server: 'http://x', ca: '' }));
      assert.throws(() => loadClientConfig(), /server: expected an https:\/\/ URL/);
    } finally {
      if (saved === undefined) delete process.env.FLOTILLA_CONFIG;
      else process.env.FLOTILLA_CONFIG = saved;
    }
  });

  it('turns a server that is not there into UnavailableError', async () => {
    const d = dir();
    const s = await start(d);
    const cfg = loadClientConfig(path.join(d, 'admin.json'));
    await s.stop();
    const c = new ApiClient(cfg);
    await assert.rejects(c.list('Service'), (err: Error) => err.name === 'UnavailableError' && /cannot reach/.test(err.message));
    await c.close();
  });
});
