/**
 * The cluster PKI: a CA created on the first start of a server (10 years), a server certificate
 * it signs for the API's TLS, and short-lived node client certificates signed from CSRs (the
 * node-join flow). Everything lives in DATA_DIR/pki/; private keys are written with mode 0600.
 *
 *   first start:  generate CA key+cert -> generate server key -> CA signs server cert -> write
 *   later starts: read CA -> reuse server cert unless it expires soon or lacks a wanted SAN
 *   join:         agent CSR -> signNodeCsr(csr, name, ttl) -> cert with CN "node:NAME"
 */
import 'reflect-metadata';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import { BadRequestError } from '../../api/errors.js';
import { interfaceAddresses, isWildcard } from '../reachable.js';
import { EC_ALG, certFingerprint, crypto, generateKeyPair, keyPairFromPem, privateKeyToPem, randomSerial } from './pem.js';

export { createNodeCsr, type NodeCsr } from './csr.js';

const DAY_MS = 24 * 3600 * 1000;
const CA_TTL_MS = 3650 * DAY_MS;
const SERVER_TTL_MS = 365 * DAY_MS;
/** Re-issue the server certificate when less than this is left. */
const SERVER_RENEW_BEFORE_MS = 30 * DAY_MS;
/** Node certificates never outlive this, whatever the caller asks. */
const MAX_NODE_TTL_MS = 90 * DAY_MS;
/** Clock skew allowance on notBefore. */
const SKEW_MS = 5 * 60 * 1000;

/** Prefix of the common name of node client certificates: `node:NAME`. */
export const NODE_CN_PREFIX = 'node:';

/** Common name of the API server's client certificate towards agent endpoints (logs, exec). */
export const SERVER_CLIENT_CN = 'flotilla:server';

/** Options of loadOrCreatePki. */
export interface PkiOptions {
  /** Extra SANs for the server certificate: IP addresses or DNS names. */
  extraSans?: string[];
}

/** The loaded cluster PKI: what the HTTPS server and the join flow need. */
export class ClusterPki {
  private constructor(
    /** PEM of the cluster CA certificate: clients trust exactly this. */
    readonly caCertPem: string,
    /** PEM of the server's TLS certificate (signed by the CA). */
    readonly serverCertPem: string,
    /** PKCS#8 PEM of the server's TLS key. */
    readonly serverKeyPem: string,
    private readonly caCert: x509.X509Certificate,
    private readonly caKeys: CryptoKeyPair,
    private readonly fingerprint: string,
  ) {}

  /** Loads DATA_DIR/pki/ (dir is that folder), creating what is missing. */
  static async loadOrCreate(dir: string, opts: PkiOptions = {}): Promise<ClusterPki> {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const { cert: caCert, keys: caKeys } = await loadOrCreateCa(dir);
    const sans = serverSans(opts.extraSans ?? []);
    const server = await loadOrCreateServerCert(dir, caCert, caKeys, sans);
    return new ClusterPki(caCert.toString('pem'), server.certPem, server.keyPem, caCert, caKeys, await certFingerprint(caCert));
  }

  /** Lowercase hex SHA-256 of the CA certificate's DER: a join token pins it. */
  caFingerprint(): string {
    return this.fingerprint;
  }

  /**
   * Signs a node's CSR into a client certificate with CN `node:NAME` (whatever the CSR asked),
   * valid for ttlMs (capped at 90 days). Fails with BadRequestError on a bad CSR or signature.
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
    const now = Date.now();
    const ttl = Math.min(Math.max(ttlMs, 60_000), MAX_NODE_TTL_MS);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: [{ CN: [`${NODE_CN_PREFIX}${nodeName}`] }, { O: ['flotilla:nodes'] }],
      issuer: this.caCert.subject,
      notBefore: new Date(now - SKEW_MS),
      notAfter: new Date(Math.min(now + ttl, this.caCert.notAfter.getTime())),
      signingAlgorithm: EC_ALG,
      publicKey: csr.publicKey,
      signingKey: this.caKeys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth, x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: nodeName }]),
        await x509.AuthorityKeyIdentifierExtension.create(this.caKeys.publicKey, false, crypto),
      ],
    }, crypto);
    return cert.toString('pem');
  }

  /**
   * Issues a fresh client certificate (new key) for an internal component with common name
   * `cn`, e.g. `flotilla:server` for the API server calling agents. Its CN has no `node:`/`user:`
   * prefix, so the API's authenticator gives it no identity: it opens agents, not the API.
   */
  async issueClientCertificate(cn: string, ttlMs: number): Promise<{ certPem: string; keyPem: string; notAfter: Date }> {
    const keys = await generateKeyPair();
    const now = Date.now();
    const notAfter = new Date(Math.min(now + Math.min(Math.max(ttlMs, 60_000), MAX_NODE_TTL_MS), this.caCert.notAfter.getTime()));
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: [{ CN: [cn] }, { O: ['flotilla'] }],
      issuer: this.caCert.subject,
      notBefore: new Date(now - SKEW_MS),
      notAfter,
      signingAlgorithm: EC_ALG,
      publicKey: keys.publicKey,
      signingKey: this.caKeys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
        await x509.AuthorityKeyIdentifierExtension.create(this.caKeys.publicKey, false, crypto),
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

async function loadOrCreateCa(dir: string): Promise<{ cert: x509.X509Certificate; keys: CryptoKeyPair }> {
  const certPath = path.join(dir, 'ca.crt');
  const keyPath = path.join(dir, 'ca.key');
  const existing = await readPair(certPath, keyPath);
  if (existing !== undefined) return existing;
  const keys = await generateKeyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: ['flotilla cluster CA'] }, { O: ['flotilla'] }],
    notBefore: new Date(now - SKEW_MS),
    notAfter: new Date(now + CA_TTL_MS),
    signingAlgorithm: EC_ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
    ],
  }, crypto);
  // Key first: a crash between the two writes leaves no cert without its key.
  await writeSecret(keyPath, await privateKeyToPem(keys.privateKey));
  await fs.writeFile(certPath, cert.toString('pem'), { mode: 0o644 });
  return { cert, keys };
}

async function loadOrCreateServerCert(dir: string, caCert: x509.X509Certificate, caKeys: CryptoKeyPair, sans: string[]): Promise<{ certPem: string; keyPem: string }> {
  const certPath = path.join(dir, 'server.crt');
  const keyPath = path.join(dir, 'server.key');
  const existing = await readPair(certPath, keyPath);
  if (existing !== undefined && serverCertUsable(existing.cert, caCert, sans)) {
    return { certPem: existing.cert.toString('pem'), keyPem: await fs.readFile(keyPath, 'utf8') };
  }
  const keys = existing?.keys ?? (await generateKeyPair());
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: ['flotilla server'] }, { O: ['flotilla'] }],
    issuer: caCert.subject,
    notBefore: new Date(now - SKEW_MS),
    notAfter: new Date(Math.min(now + SERVER_TTL_MS, caCert.notAfter.getTime())),
    signingAlgorithm: EC_ALG,
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(sans.map((s) => (isIP(s) !== 0 ? { type: 'ip' as const, value: s } : { type: 'dns' as const, value: s }))),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
    ],
  }, crypto);
  const keyPem = await privateKeyToPem(keys.privateKey);
  await writeSecret(keyPath, keyPem);
  await fs.writeFile(certPath, cert.toString('pem'), { mode: 0o644 });
  return { certPem: cert.toString('pem'), keyPem };
}

/** Reuse only a certificate of this CA, far from expiry, that already names every wanted SAN. */
function serverCertUsable(cert: x509.X509Certificate, caCert: x509.X509Certificate, sans: string[]): boolean {
  if (cert.issuer !== caCert.subject) return false;
  if (cert.notAfter.getTime() - Date.now() < SERVER_RENEW_BEFORE_MS) return false;
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const have = new Set((ext?.names.items ?? []).map((n) => n.value));
  return sans.every((s) => have.has(s));
}

async function readPair(certPath: string, keyPath: string): Promise<{ cert: x509.X509Certificate; keys: CryptoKeyPair } | undefined> {
  let certPem: string;
  let keyPem: string;
  try {
    [certPem, keyPem] = await Promise.all([fs.readFile(certPath, 'utf8'), fs.readFile(keyPath, 'utf8')]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const cert = new x509.X509Certificate(certPem);
  return { cert, keys: await keyPairFromPem(keyPem, cert) };
}

/** Writes a private file atomically (temp + rename) with mode 0600. */
export async function writeSecret(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, content, { mode: 0o600 });
  await fs.chmod(tmp, 0o600);
  await fs.rename(tmp, file);
}
