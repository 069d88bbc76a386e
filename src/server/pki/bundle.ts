/**
 * The trust bundle and the stored state of the cluster CA(s), as plain data: what servers share
 * through the store (src/server/pki/ca-store.ts) and what `flotilla ca rotate` moves through
 * its phases (src/server/pki/rotation.ts).
 *
 *   idle:      cas [A]     signer A  serving A
 *   renewing:  cas [A, B]  signer B  serving A   every ready node renews (cert by B, bundle [A, B])
 *   retiring:  cas [B]     signer B  serving B   server certs by B; nodes renew again (bundle [B])
 *   idle:      cas [B]     signer B  serving B   retired [A]
 */
import { createHash, X509Certificate } from 'node:crypto';

/** One CA as stored: its certificate and (PKCS#8) key. */
export interface StoredCa {
  certPem: string;
  keyPem: string;
}

/** Where a rotation is; see the file comment. */
export interface CaRotation {
  phase: 'renewing' | 'retiring';
  /** Fingerprints of the CA being retired and of the new one. */
  from: string;
  to: string;
  /** RFC 3339. */
  startedAt: string;
  /** RFC 3339: after it, `renewing` moves on without the nodes that did not renew. */
  deadline: string;
  /** Nodes that hold a certificate of the phase (renewing: by the new CA; retiring: with the new bundle). */
  renewed: string[];
  /** Ready nodes that failed to renew before the deadline (they must join again). */
  skipped: string[];
  /** Last problem seen (a node that could not be reached...). */
  message?: string;
}

/** The cluster CA state every server of one store shares. */
export interface CaState {
  /** The trusted CAs (the trust bundle). */
  cas: StoredCa[];
  /** Fingerprint of the CA that signs node certificates (and that new join tokens pin). */
  signer: string;
  /** Fingerprint of the CA that signs the servers' TLS and `flotilla:server` certificates. */
  serving: string;
  /** Fingerprints of retired CAs (kept to explain refused join tokens). */
  retired: string[];
  rotation?: CaRotation;
}

const PEM_CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle, each as its own PEM (with a final newline). */
export function splitPemBundle(pem: string): string[] {
  return (pem.match(PEM_CERT_RE) ?? []).map((c) => `${c}\n`);
}

/** Lowercase hex SHA-256 of the DER of one PEM certificate (what a join token pins). */
export function pemFingerprint(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

/** Fingerprints of every certificate of a bundle. */
export function bundleFingerprints(pem: string): string[] {
  return splitPemBundle(pem).map(pemFingerprint);
}

/** The bundle PEM of a state's trusted CAs. */
export function bundleOf(state: CaState): string {
  return state.cas.map((c) => (c.certPem.endsWith('\n') ? c.certPem : `${c.certPem}\n`)).join('');
}

/** Checks the invariants of a state read from the store; a message for the first one broken. */
export function caStateProblem(s: CaState): string | undefined {
  if (!Array.isArray(s.cas) || s.cas.length === 0) return 'no CA';
  const fps = s.cas.map((c) => pemFingerprint(c.certPem));
  if (!fps.includes(s.signer)) return `signer ${s.signer} is not a trusted CA`;
  if (!fps.includes(s.serving)) return `serving CA ${s.serving} is not a trusted CA`;
  return undefined;
}

/** The state after `flotilla ca rotate` starts with the new CA `next`; refused while one runs. */
export function startRotation(s: CaState, next: StoredCa, now: Date, deadlineMs: number): CaState {
  if (s.rotation !== undefined) throw new Error(`a CA rotation is already under way (phase ${s.rotation.phase}, started ${s.rotation.startedAt})`);
  const to = pemFingerprint(next.certPem);
  return {
    ...s,
    cas: [...s.cas, next],
    signer: to,
    rotation: { phase: 'renewing', from: s.signer, to, startedAt: now.toISOString(), deadline: new Date(now.getTime() + deadlineMs).toISOString(), renewed: [], skipped: [] },
  };
}

/** `renewing` -> `retiring`: the old CA leaves the bundle, servers serve with the new one. */
export function retireOldCa(s: CaState): CaState {
  const r = s.rotation;
  if (r === undefined || r.phase !== 'renewing') return s;
  return {
    ...s,
    cas: s.cas.filter((c) => pemFingerprint(c.certPem) !== r.from),
    serving: r.to,
    retired: [...new Set([...s.retired, r.from])],
    rotation: { ...r, phase: 'retiring', renewed: [], message: undefined },
  };
}

/** `retiring` -> idle. */
export function finishRotation(s: CaState): CaState {
  const { rotation: _done, ...rest } = s;
  void _done;
  return rest;
}
