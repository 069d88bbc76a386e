/**
 * The agent's side of joining (DESIGN.md "Security"): trust the server only once its CA
 * matches the fingerprint pinned in the join token, send a CSR with the token, keep the
 * short-lived node certificate that comes back (DATA_DIR/node-credentials.json, mode 0600),
 * and renew it with the certificate itself before it expires.
 *
 *   token -> GET /api/v1/join/ca (unverified TLS) -> sha256(CA) == token's fingerprint?
 *         -> POST /api/v1/join {token, node, csr} (TLS verified by that CA) -> certificate
 *   later: POST /api/v1/join/renew {csr} over mTLS -> new certificate + trust bundle
 *
 * The join answer lists every API server of the cluster (servers on one etcd publish their URLs);
 * the agent keeps them beside the ones it was given. With several servers, each step goes to the next server when
 * one cannot be reached (UnavailableError): repeating a join or a renewal is harmless (a new key
 * and certificate; the one not received is never used).
 */
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { errorFromJSON, UnauthorizedError, UnavailableError } from '../../api/errors.js';
import { createNodeCsr } from '../../server/pki/csr.js';
import { parseJoinToken } from '../../server/join/token.js';
import { bundleFingerprints } from '../../server/pki/bundle.js';

export { pemFingerprint } from '../../server/pki/bundle.js';

/** What a joined node keeps: its key never leaves the node. */
export interface NodeCredentials {
  /** The server the agent was given first (saved credentials are for it). */
  server: string;
  /** Every server the agent may talk to, `server` first (several servers on one etcd): joins and renewals fail over. */
  servers?: string[];
  nodeName: string;
  /** The trust bundle (one PEM or several): the cluster CA(s); renewals bring the current one. */
  caPem: string;
  certPem: string;
  keyPem: string;
  /** Fingerprint of the CA the join token pinned (a restart with the same token reuses these credentials after a CA rotation). */
  joinedCa?: string;
}

const CREDENTIALS_FILE = 'node-credentials.json';

interface RequestOpts {
  ca?: string;
  cert?: string;
  key?: string;
  insecure?: boolean;
}

/** One HTTPS request with a JSON (or text) answer; network failures are UnavailableError. */
export function requestJson<T>(url: string, method: string, body: unknown, o: RequestOpts): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(url, {
      method,
      ca: o.ca, cert: o.cert, key: o.key,
      rejectUnauthorized: o.insecure !== true,
      headers: data !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {},
      timeout: 15_000,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          return reject(new UnavailableError(`${method} ${url}: answer is not JSON (status ${res.statusCode})`));
        }
        if ((res.statusCode ?? 500) >= 400) return reject(errorFromJSON(parsed as { code?: string; message?: string }));
        resolve(parsed as T);
      });
    });
    req.on('timeout', () => req.destroy(new UnavailableError(`${method} ${url}: no answer within 15 s`)));
    req.on('error', (err) => reject(err instanceof UnavailableError ? err : certificateClockError(url, err) ?? new UnavailableError(`cannot reach ${url}: ${err.message}`)));
    req.end(data);
  });
}

/** A TLS failure on certificate dates, which a wrong clock here causes: said so, not retried. */
function certificateClockError(url: string, err: Error): Error | undefined {
  const code = (err as { code?: unknown }).code;
  if (code !== 'CERT_NOT_YET_VALID' && code !== 'CERT_HAS_EXPIRED') return undefined;
  return new UnauthorizedError(`cannot trust ${url}: ${err.message} by this machine's clock (${new Date().toISOString()}): is the clock wrong? fix it (NTP) and start the agent again`);
}

/** Loads the saved credentials of an earlier join, when they are for this server and still valid. */
export async function loadCredentials(dataDir: string, server: string): Promise<NodeCredentials | undefined> {
  try {
    const c = JSON.parse(await fs.readFile(path.join(dataDir, CREDENTIALS_FILE), 'utf8')) as NodeCredentials;
    if (c.server !== server) return undefined;
    if (Date.parse(new X509Certificate(c.certPem).validTo) <= Date.now()) return undefined;
    return c;
  } catch {
    return undefined;
  }
}

async function saveCredentials(dataDir: string, c: NodeCredentials): Promise<void> {
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, CREDENTIALS_FILE);
  await fs.writeFile(`${file}.tmp`, JSON.stringify(c, null, 2), { mode: 0o600 });
  await fs.rename(`${file}.tmp`, file);
}

/** Runs `step` against each server in turn until one is reachable; the last UnavailableError otherwise. */
export async function onFirstReachable<T>(servers: readonly string[], step: (server: string) => Promise<T>): Promise<T> {
  let last: unknown;
  for (const server of servers) {
    try {
      return await step(server);
    } catch (err) {
      if (!(err instanceof UnavailableError)) throw err;
      last = err;
    }
  }
  throw last ?? new UnavailableError('no server to join');
}

/** Joins with a token (or reuses valid saved credentials); see the file comment. */
export async function joinCluster(opts: { server: string; servers?: string[]; token: string; nodeName: string; dataDir: string }): Promise<NodeCredentials> {
  const servers = [...new Set([opts.server, ...(opts.servers ?? [])])];
  // The servers given, then those the cluster published at join time (the join answer's `servers`).
  const withServers = (c: NodeCredentials): NodeCredentials => {
    const all = [...new Set([...servers, ...(c.servers ?? [])])];
    return all.length > 1 ? { ...c, servers: all } : c;
  };
  const parsed = parseJoinToken(opts.token);
  const saved = await loadCredentials(opts.dataDir, opts.server);
  if (saved !== undefined && saved.nodeName === opts.nodeName && (saved.joinedCa === parsed.caFingerprint || bundleFingerprints(saved.caPem).includes(parsed.caFingerprint))) {
    // Credentials from before CA rotations existed: remember the token's CA so that they outlive one.
    if (saved.joinedCa !== undefined) return withServers(saved);
    const remembered: NodeCredentials = withServers({ ...saved, joinedCa: parsed.caFingerprint });
    await saveCredentials(opts.dataDir, remembered);
    return remembered;
  }
  return onFirstReachable(servers, async (server) => withServers(await joinAt(server, opts, parsed.caFingerprint)));
}

async function joinAt(server: string, opts: { server: string; token: string; nodeName: string; dataDir: string }, pinned: string): Promise<NodeCredentials> {
  const parsed = { caFingerprint: pinned };
  const { ca, retired } = await requestJson<{ ca: string; retired?: string[] }>(`${server}/api/v1/join/ca`, 'GET', undefined, { insecure: true });
  const got = bundleFingerprints(ca);
  if (!got.includes(parsed.caFingerprint) && retired?.includes(parsed.caFingerprint) === true && got.length > 0) {
    // Only a hint (this answer is not verified yet): the join fails either way.
    throw new UnauthorizedError(`the join token pins CA ${parsed.caFingerprint.slice(0, 16)}, which the cluster at ${server} says \`flotilla ca rotate\` retired: create a new token (\`flotilla token create\`)`);
  }
  if (!got.includes(parsed.caFingerprint)) {
    throw new UnauthorizedError(`the server at ${server} is not the cluster this token is for: its CA is sha256 ${got.join(' + ')}, the token expects ${parsed.caFingerprint}`);
  }
  const csr = await createNodeCsr(opts.nodeName);
  const answer = await requestJson<{ certificate: string; ca?: string; servers?: string[] }>(`${server}/api/v1/join`, 'POST', { token: opts.token, node: opts.nodeName, csr: csr.csrPem }, { ca });
  const learned = (answer.servers ?? []).filter((u) => typeof u === 'string' && /^https:\/\//.test(u));
  const creds: NodeCredentials = { server: opts.server, nodeName: opts.nodeName, caPem: answer.ca ?? ca, certPem: answer.certificate, keyPem: csr.keyPem, joinedCa: parsed.caFingerprint, ...(learned.length > 0 ? { servers: learned } : {}) };
  await saveCredentials(opts.dataDir, creds);
  return creds;
}

/**
 * Gets a fresh certificate (new key) with the current one, and the server's trust bundle (during
 * `flotilla ca rotate` first [old, new], then [new]); saves and returns the new credentials.
 */
export async function renewCredentials(c: NodeCredentials, dataDir: string): Promise<NodeCredentials> {
  const csr = await createNodeCsr(c.nodeName);
  const { certificate, ca } = await onFirstReachable(c.servers ?? [c.server], (server) => requestJson<{ certificate: string; ca?: string }>(`${server}/api/v1/join/renew`, 'POST', { csr: csr.csrPem }, { ca: c.caPem, cert: c.certPem, key: c.keyPem }));
  const next: NodeCredentials = { ...c, caPem: ca !== undefined && bundleFingerprints(ca).length > 0 ? ca : c.caPem, certPem: certificate, keyPem: csr.keyPem };
  await saveCredentials(dataDir, next);
  return next;
}

/** When to renew: at two thirds of the certificate's lifetime. */
export function renewDelayMs(certPem: string, now = Date.now()): number {
  const cert = new X509Certificate(certPem);
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  return Math.max(1_000, from + ((to - from) * 2) / 3 - now);
}
