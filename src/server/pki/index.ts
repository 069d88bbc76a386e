/**
 * The cluster PKI: the trusted CA(s) (10 years each), the server certificate the serving CA signs
 * for the API's TLS, and short-lived node client certificates signed from CSRs (the node-join
 * flow). The CA state is shared by every server of one store (pki/ca-store.ts; a first server
 * seeds it with DATA_DIR/pki/ca.*); the server certificate is per server (DATA_DIR/pki/server.*,
 * mode 0600 keys). `flotilla ca rotate` moves the state through the phases of pki/bundle.ts and
 * every server `adopt`s each new state: new trust bundle, re-issued server certificate, listeners
 * told (the API server hot-swaps its TLS context).
 *
 *   first start:  generate CA key+cert -> generate server key -> CA signs server cert -> write
 *   later starts: read CA -> reuse server cert unless it expires soon, lacks a wanted SAN or is
 *                 not signed by the serving CA
 *   join:         agent CSR -> signNodeCsr(csr, name, ttl) -> cert with CN "node:NAME" (signer CA)
 */
import 'reflect-metadata';
import { X509Certificate as NodeX509 } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import { BadRequestError } from '../../api/errors.js';
import { bundleOf, caStateProblem, pemFingerprint, type CaState, type StoredCa } from './bundle.js';
import { interfaceAddresses, isWildcard } from '../reachable.js';
import { EC_ALG, crypto, generateKeyPair, keyPairFromPem, privateKeyToPem, randomSerial } from './pem.js';

export { createNodeCsr, type NodeCsr } from './csr.js';

const DAY_MS = 24 * 3600 * 1000;
const CA_TTL_MS = 3650 * DAY_MS;
const SERVER_TTL_MS = 365 * DAY_MS;
/** Re-issue the server certificate when less than this is left. */
const SERVER_RENEW_BEFORE_MS = 30 * DAY_MS;
/** Node certificates never outlive this, whatever the caller asks. */
const MAX_NODE_TTL_MS = 90 * DAY_MS;
/** Clock skew allowance on notBefore: a certificate was issued at notBefore + SKEW_MS. */
export const SKEW_MS = 5 * 60 * 1000;
/**
 * Certificates that agents check with their own clock (the CA, the API's serving certificate,
 * the server's client certificate towards agent endpoints) are valid from this long before
 * their issue, so an agent whose clock is behind (up to an hour) still trusts them. Node and user
 * certificates keep SKEW_MS: the server checks them with its own clock, and revocations compute
 * their issue time from notBefore (issuedAtMs).
 */
export const PEER_CLOCK_SKEW_MS = 60 * 60 * 1000;

/** Prefix of the common name of node client certificates: `node:NAME`. */
export const NODE_CN_PREFIX = 'node:';

/** Common name of the API server's client certificate towards agent endpoints (logs, exec). */
export const SERVER_CLIENT_CN = 'flotilla:server';

/** When a certificate was issued: its notBefore plus the skew the PKI applies. */
export function issuedAtMs(notBefore: Date | string): number {
  return new Date(notBefore).getTime() + SKEW_MS;
}

/** Options of loadOrCreatePki. */
export interface PkiOptions {
  /** Extra SANs for the server certificate: IP addresses or DNS names. */
  extraSans?: string[];
}

/** One trusted CA, loaded. */
interface CaEntry {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
  /** The same certificate for node:crypto (issuer checks of peer certificates). */
  nodeCert: NodeX509;
  fingerprint: string;
}

/** The loaded cluster PKI: what the HTTPS server and the join flow need. */
export class ClusterPki {
  /** PEM of the server's TLS certificate (signed by the serving CA). */
  serverCertPem: string;
  /** PKCS#8 PEM of the server's TLS key. */
  serverKeyPem: string;
  /** Grows by one with every adopted state: holders of derived credentials re-issue them. */
  generation = 0;
  private readonly listeners = new Set<() => void>();
  private trustedSet: ReadonlySet<string>;

  private constructor(
    private readonly dir: string,
    private readonly sans: string[],
    private state: CaState,
    private entries: CaEntry[],
    server: { certPem: string; keyPem: string },
  ) {
    this.serverCertPem = server.certPem;
    this.serverKeyPem = server.keyPem;
    this.trustedSet = new Set(entries.map((e) => e.fingerprint));
  }

  /** Loads DATA_DIR/pki/ (dir is that folder), creating what is missing; the seed CA is the only one. */
  static async loadOrCreate(dir: string, opts: PkiOptions = {}): Promise<ClusterPki> {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const seed = await loadOrCreateCa(dir);
    const entry = await loadEntry(seed);
    const sans = serverSans(opts.extraSans ?? []);
    const server = await loadOrCreateServerCert(dir, entry, sans);
    const state: CaState = { cas: [seed], signer: entry.fingerprint, serving: entry.fingerprint, retired: [] };
    return new ClusterPki(dir, sans, state, [entry], server);
  }

  /** PEM bundle of the trusted CAs: what clients, agents and TLS verification trust. */
  get caCertPem(): string {
    return bundleOf(this.state);
  }

  /** Lowercase hex SHA-256 of the signing CA's DER: new join tokens pin it. */
  caFingerprint(): string {
    return this.state.signer;
  }

  /** Fingerprints of the trusted CAs (a join token pinning any of them is for this cluster). */
  trustedFingerprints(): string[] {
    return this.entries.map((e) => e.fingerprint);
  }

  /** Whether the CA with this fingerprint is trusted (O(1): asked on every request with a certificate). */
  trusts(fingerprint: string): boolean {
    return this.trustedSet.has(fingerprint);
  }

  /** The shared state as it is now (a copy). */
  caState(): CaState {
    return structuredClone(this.state);
  }

  /** Registers a listener of adopted states; returns its remover. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Takes a (new) shared state: loads its CAs, re-issues this server's certificate when it is not
   * signed by the serving CA, then tells the listeners. Throws (and keeps the old state) when the
   * state is broken.
   */
  async adopt(next: CaState): Promise<void> {
    const problem = caStateProblem(next);
    if (problem !== undefined) throw new Error(`cluster CA state: ${problem}`);
    const have = new Map(this.entries.map((e) => [e.fingerprint, e]));
    const entries = await Promise.all(next.cas.map(async (c) => have.get(pemFingerprint(c.certPem)) ?? loadEntry(c)));
    const serving = entries.find((e) => e.fingerprint === next.serving) as CaEntry;
    const server = await loadOrCreateServerCert(this.dir, serving, this.sans);
    this.state = structuredClone(next);
    this.entries = entries;
    this.trustedSet = new Set(entries.map((e) => e.fingerprint));
    this.serverCertPem = server.certPem;
    this.serverKeyPem = server.keyPem;
    this.generation++;
    for (const fn of this.listeners) fn();
  }

  /** Fingerprint of the trusted CA that signed `cert`, or undefined (untrusted or retired issuer). */
  issuerOf(cert: NodeX509): string | undefined {
    for (const e of this.entries) {
      if (cert.checkIssued(e.nodeCert) && cert.verify(e.nodeCert.publicKey)) return e.fingerprint;
    }
    return undefined;
  }

  private entry(fp: string): CaEntry {
    return this.entries.find((e) => e.fingerprint === fp) as CaEntry;
  }

  /**
   * Signs a node's CSR into a client certificate with CN `node:NAME` (whatever the CSR asked),
   * valid for ttlMs (capped at 90 days), by the signing CA. Fails with BadRequestError on a bad
   * CSR or signature.
   */
  async signNodeCsr(csrPem: string, nodeName: string, ttlMs: number): Promise<string> {
    let csr: x509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(csrPem);
    } catch (err) {
      throw new BadRequestError(`CSR is not a PEM PKCS#10 request: ${(err as Error).message}`);
    }
    if (!(await csr.verify(crypto))) throw new BadRequestError('CSR signature does not verify');
    if (!/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(nodeName)) throw new BadRequestError(`node name ${JSON.stringify(nodeName)} is not a DNS name`);
    const ca = this.entry(this.state.signer);
    const now = Date.now();
    const ttl = Math.min(Math.max(ttlMs, 60_000), MAX_NODE_TTL_MS);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: [{ CN: [`${NODE_CN_PREFIX}${nodeName}`] }, { O: ['flotilla:nodes'] }],
      issuer: ca.cert.subject,
      notBefore: new Date(now - SKEW_MS),
      notAfter: new Date(Math.min(now + ttl, ca.cert.notAfter.getTime())),
      signingAlgorithm: EC_ALG,
      publicKey: csr.publicKey,
      signingKey: ca.keys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth, x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: nodeName }]),
        await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey, false, crypto),
      ],
    }, crypto);
    return cert.toString('pem');
  }

  /**
   * Issues a fresh client certificate (new key) for an internal component with common name
   * `cn`, e.g. `flotilla:server` for the API server calling agents, by the serving CA. Its CN has
   * no `node:`/`user:` prefix, so the API's authenticator gives it no identity: it opens agents,
   * not the API.
   */
  async issueClientCertificate(cn: string, ttlMs: number): Promise<{ certPem: string; keyPem: string; notAfter: Date }> {
    const ca = this.entry(this.state.serving);
    const keys = await generateKeyPair();
    const now = Date.now();
    const notAfter = new Date(Math.min(now + Math.min(Math.max(ttlMs, 60_000), MAX_NODE_TTL_MS), ca.cert.notAfter.getTime()));
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: [{ CN: [cn] }, { O: ['flotilla'] }],
      issuer: ca.cert.subject,
      notBefore: new Date(now - PEER_CLOCK_SKEW_MS),
      notAfter,
      signingAlgorithm: EC_ALG,
      publicKey: keys.publicKey,
      signingKey: ca.keys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
        await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey, false, crypto),
      ],
    }, crypto);
    return { certPem: cert.toString('pem'), keyPem: await privateKeyToPem(keys.privateKey), notAfter };
  }
}

/** The SANs every server certificate carries, plus the extra ones (deduplicated); a wildcard extra adds the interface addresses. */
function serverSans(extra: string[]): string[] {
  const all = ['127.0.0.1', '::1', 'localhost', os.hostname(), ...extra, ...(extra.some(isWildcard) ? interfaceAddresses() : [])].filter((s) => s !== '' && s !== '0.0.0.0' && s !== '::');
  return [...new Set(all)];
}

async function loadEntry(ca: StoredCa): Promise<CaEntry> {
  const cert = new x509.X509Certificate(ca.certPem);
  return { cert, keys: await keyPairFromPem(ca.keyPem, cert), nodeCert: new NodeX509(ca.certPem), fingerprint: pemFingerprint(ca.certPem) };
}

/** A new self-signed CA (10 years) with common name `cn`; CAs of one cluster have distinct names. */
export async function createCa(cn: string): Promise<StoredCa> {
  const keys = await generateKeyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [cn] }, { O: ['flotilla'] }],
    notBefore: new Date(now - PEER_CLOCK_SKEW_MS),
    notAfter: new Date(now + CA_TTL_MS),
    signingAlgorithm: EC_ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
    ],
  }, crypto);
  return { certPem: cert.toString('pem'), keyPem: await privateKeyToPem(keys.privateKey) };
}

async function loadOrCreateCa(dir: string): Promise<StoredCa> {
  const certPath = path.join(dir, 'ca.crt');
  const keyPath = path.join(dir, 'ca.key');
  const existing = await readPair(certPath, keyPath);
  if (existing !== undefined) return existing;
  const ca = await createCa('flotilla cluster CA');
  // Key first: a crash between the two writes leaves no cert without its key.
  await writeSecret(keyPath, ca.keyPem);
  await fs.writeFile(certPath, ca.certPem, { mode: 0o644 });
  return ca;
}

async function loadOrCreateServerCert(dir: string, ca: CaEntry, sans: string[]): Promise<{ certPem: string; keyPem: string }> {
  const certPath = path.join(dir, 'server.crt');
  const keyPath = path.join(dir, 'server.key');
  const existing = await readPair(certPath, keyPath);
  if (existing !== undefined && serverCertUsable(new NodeX509(existing.certPem), ca, sans)) return existing;
  const keys = existing !== undefined ? await keyPairFromPem(existing.keyPem, new x509.X509Certificate(existing.certPem)) : await generateKeyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: ['flotilla server'] }, { O: ['flotilla'] }],
    issuer: ca.cert.subject,
    notBefore: new Date(now - PEER_CLOCK_SKEW_MS),
    notAfter: new Date(Math.min(now + SERVER_TTL_MS, ca.cert.notAfter.getTime())),
    signingAlgorithm: EC_ALG,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(sans.map((s) => (isIP(s) !== 0 ? { type: 'ip' as const, value: s } : { type: 'dns' as const, value: s }))),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey, false, crypto),
    ],
  }, crypto);
  const keyPem = existing?.keyPem ?? (await privateKeyToPem(keys.privateKey));
  await writeSecret(keyPath, keyPem);
  await fs.writeFile(certPath, cert.toString('pem'), { mode: 0o644 });
  return { certPem: cert.toString('pem'), keyPem };
}

/** Reuse only a certificate signed by this CA, far from expiry, that already names every wanted SAN. */
function serverCertUsable(cert: NodeX509, ca: CaEntry, sans: string[]): boolean {
  if (!cert.checkIssued(ca.nodeCert) || !cert.verify(ca.nodeCert.publicKey)) return false;
  if (Date.parse(cert.validTo) - Date.now() < SERVER_RENEW_BEFORE_MS) return false;
  const ext = new x509.X509Certificate(cert.raw).getExtension(x509.SubjectAlternativeNameExtension);
  const have = new Set((ext?.names.items ?? []).map((n) => n.value));
  return sans.every((s) => have.has(s));
}

async function readPair(certPath: string, keyPath: string): Promise<StoredCa | undefined> {
  try {
    const [certPem, keyPem] = await Promise.all([fs.readFile(certPath, 'utf8'), fs.readFile(keyPath, 'utf8')]);
    return { certPem, keyPem };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes a private file atomically (temp + rename) with mode 0600. */
export async function writeSecret(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, content, { mode: 0o600 });
  await fs.chmod(tmp, 0o600);
  await fs.rename(tmp, file);
}
