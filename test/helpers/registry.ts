/**
 * A real registry (Debian's docker-registry, distribution 2.8) on a loopback port for tests,
 * with its own config in a temp dir: optional TLS (self-signed cert, SAN 127.0.0.1), htpasswd
 * basic auth (bcrypt), or token auth against a tiny token server this helper runs (JWTs
 * signed by a key whose cert is in the registry's rootcertbundle, per the distribution token
 * spec). `stop()` kills the process and removes what it made; so does a failed start.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';

const run = promisify(execFile);

/** What startRegistry can turn on. */
export interface RegistryOptions {
  tls?: boolean;
  basicAuth?: { user: string; password: string };
  /** Bearer tokens from a helper token server; with basicAuth the token server checks those credentials. */
  tokenAuth?: boolean;
  /** Serve this storage dir (kept on stop) instead of a fresh one. */
  storageDir?: string;
}

/** A running registry. */
export interface TestRegistry {
  url: string;
  /** `127.0.0.1:PORT`, for image references. */
  host: string;
  caPem?: string;
  storageDir: string;
  /** Tokens the token server issued so far (token auth only). */
  tokensIssued(): number;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** Registry processes this helper started that have not been stopped (tests assert 0). */
export function runningRegistries(): number {
  return live.size;
}

/** A free loopback TCP port (listen on 0, close). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** A self-signed cert (SAN 127.0.0.1) and key, written to dir/NAME.{crt,key}. */
async function makeCert(dir: string, name: string, cn: string): Promise<{ cert: string; key: string; certPem: string }> {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', `/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']);
  return { cert, key, certPem: await readFile(cert, 'utf8') };
}

interface TokenServer {
  realm: string;
  issued: () => number;
  close(): Promise<void>;
}

const SERVICE = 'flotilla-test-registry';
const ISSUER = 'flotilla-test-issuer';

function b64url(b: Buffer | string): string {
  return Buffer.from(b).toString('base64url');
}

/** The token server of the distribution token spec: GET /token?service&scope -> {token}. */
async function startTokenServer(keyPem: string, certPem: string, creds?: { user: string; password: string }): Promise<TokenServer> {
  const key = createPrivateKey(keyPem);
  const x5c = [new X509Certificate(certPem).raw.toString('base64')];
  let issued = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization ?? '';
    const [user, password] = Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString().split(':');
    if (creds !== undefined && (user !== creds.user || password !== creds.password)) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"details":"bad credentials"}');
      return;
    }
    const access = url.searchParams.getAll('scope').map((s) => {
      const [type, name, actions] = s.split(':');
      return { type, name, actions: (actions ?? '').split(',').filter((a) => a !== '') };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'ES256', x5c };
    const claims = { iss: ISSUER, sub: user ?? '', aud: url.searchParams.get('service'), exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const token = `${input}.${b64url(sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }))}`;
    issued++;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300 }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    issued: () => issued,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

function registryConfig(storage: string, port: number, parts: { tls?: { cert: string; key: string }; htpasswd?: string; token?: { realm: string; bundle: string } }): string {
  const lines = [
    'version: 0.1',
    'log: {level: error, accesslog: {disabled: true}}',
    'storage:',
    `  filesystem: {rootdirectory: ${JSON.stringify(storage)}}`,
    '  delete: {enabled: true}',
    '  maintenance: {uploadpurging: {enabled: false}}',
    'http:',
    `  addr: 127.0.0.1:${port}`,
  ];
  if (parts.tls) lines.push(`  tls: {certificate: ${JSON.stringify(parts.tls.cert)}, key: ${JSON.stringify(parts.tls.key)}}`);
  if (parts.htpasswd !== undefined) lines.push('auth:', `  htpasswd: {realm: flotilla-test, path: ${JSON.stringify(parts.htpasswd)}}`);
  if (parts.token) {
    lines.push('auth:', `  token: {realm: ${JSON.stringify(parts.token.realm)}, service: ${SERVICE}, issuer: ${ISSUER}, rootcertbundle: ${JSON.stringify(parts.token.bundle)}}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Waits until GET /v2/ answers (200 or 401), or the process exits. */
async function waitReady(url: string, ca: string | undefined, child: ChildProcess, deadlineMs: number): Promise<void> {
  while (Date.now() < deadlineMs) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`docker-registry exited (${child.exitCode ?? child.signalCode})`);
    const status = await new Promise<number>((resolve) => {
      const mod = url.startsWith('https') ? https : http;
      const req = mod.get(`${url}/v2/`, { ...(ca !== undefined ? { ca } : {}), agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
      req.setTimeout(1000, () => req.destroy());
    });
    if (status === 200 || status === 401) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('docker-registry did not answer within 10 s');
}

function kill(child: ChildProcess): Promise<void> {
  live.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Starts a registry on a free loopback port; see RegistryOptions. */
export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(path.join(tmpdir(), 'flotilla-registry-'));
  const storageDir = opts.storageDir ?? path.join(dir, 'storage');
  let child: ChildProcess | undefined;
  let tokens: TokenServer | undefined;
  const cleanup = async (): Promise<void> => {
    if (child !== undefined) await kill(child);
    await tokens?.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const tls = opts.tls ? await makeCert(dir, 'tls', '127.0.0.1') : undefined;
    let htpasswd: string | undefined;
    if (opts.basicAuth !== undefined && !opts.tokenAuth) {
      htpasswd = path.join(dir, 'htpasswd');
      await writeFile(htpasswd, `${opts.basicAuth.user}:${bcrypt.hashSync(opts.basicAuth.password, 6).replace(/^\$2b\$/, '$2y$')}\n`);
    }
    let token: { realm: string; bundle: string } | undefined;
    if (opts.tokenAuth) {
      const signer = await makeCert(dir, 'token-signer', 'flotilla-test-token-signer');
      tokens = await startTokenServer(await readFile(signer.key, 'utf8'), signer.certPem, opts.basicAuth);
      token = { realm: tokens.realm, bundle: signer.cert };
    }
    let lastErr: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const config = path.join(dir, 'config.yml');
      await writeFile(config, registryConfig(storageDir, port, { tls, htpasswd, token }));
      const log = path.join(dir, 'registry.log');
      const out = openSync(log, 'a');
      child = spawn('/usr/bin/docker-registry', ['serve', config], { stdio: ['ignore', out, out] });
      closeSync(out);
      live.add(child);
      const scheme = tls ? 'https' : 'http';
      const url = `${scheme}://127.0.0.1:${port}`;
      try {
        await waitReady(url, tls?.certPem, child, Date.now() + 10_000);
      } catch (err) {
        lastErr = new Error(`${(err as Error).message}; log: ${(await readFile(log, 'utf8').catch(() => '')).slice(-2000)}`);
        await kill(child);
        child = undefined;
        continue;
      }
      const t = tokens;
      return { url, host: `127.0.0.1:${port}`, caPem: tls?.certPem, storageDir, tokensIssued: () => t?.issued() ?? 0, stop: once(cleanup) };
    }
    throw lastErr;
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function once(f: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= f());
}
