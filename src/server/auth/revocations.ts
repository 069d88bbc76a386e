/**
 * Enforcement of certificate revocation and CA retirement on the API server. Revocations
 * (kinds.ts RevocationSpec) are kept in memory by an informer; each TLS connection that
 * authenticates with a client certificate is described once (subject, issue time, issuing CA)
 * and tracked per subject, so that
 *
 *   request with a certificate -> issuing CA still trusted? -> no: 401 (retired CA)
 *                              -> Revocation of its subject with issuedBefore > issued? -> 401
 *   Revocation added/changed   -> open connections of that subject with a revoked cert: destroyed
 *   trust bundle changed       -> open connections whose issuer left the bundle: destroyed
 *
 * "Issued" is notBefore + the skew the PKI puts before it (pki/index.ts issuedAtMs). Renewals go
 * through the same check (POST /api/v1/join/renew authenticates first): a revoked certificate
 * cannot renew itself.
 */
import type { TLSSocket } from 'node:tls';
import { UnauthorizedError } from '../../api/errors.js';
import type { Revocation } from '../../api/kinds.js';
import { Informer } from '../../controllers/framework/informer.js';
import type { Disposable } from '../../lifecycle.js';
import type { Store } from '../../store/store.js';
import { issuedAtMs, type ClusterPki } from '../pki/index.js';
import type { Identity } from './identity.js';

/** What the authenticator asks about a request's certificate. */
export interface CertificateCheck {
  /** Throws UnauthorizedError when the connection's certificate is revoked or its CA retired. */
  check(socket: TLSSocket, identity: Identity): void;
}

/** A connection's certificate, described once. */
interface PeerInfo {
  subject: string;
  issuedAtMs: number;
  /** Fingerprint of the trusted CA that signed it (undefined: none did). */
  issuer: string | undefined;
}

/** Why a certificate issued at `issuedMs` is refused by a revocation, or undefined. */
export function revocationRefusal(r: Revocation | undefined, issuedMs: number): string | undefined {
  if (r === undefined) return undefined;
  const before = Date.parse(r.spec.issuedBefore);
  if (!(issuedMs < before)) return undefined;
  return `certificate of ${r.spec.subject} (issued ${new Date(issuedMs).toISOString()}) is revoked by Revocation ${r.metadata.name} (${r.spec.reason}): certificates issued before ${r.spec.issuedBefore} are refused`;
}

/** See the file comment. */
export class CertificateGuard implements CertificateCheck, Disposable {
  private readonly informer: Informer<Revocation>;
  private readonly peers = new WeakMap<TLSSocket, PeerInfo>();
  private readonly bySubject = new Map<string, Set<TLSSocket>>();
  /** Subject -> its Revocation with the latest issuedBefore (several objects may name one subject). */
  private readonly revocations = new Map<string, Revocation>();
  private readonly unlisten: () => void;

  constructor(store: Store, private readonly pki: ClusterPki, private readonly log: (line: string) => void = () => undefined) {
    this.informer = new Informer<Revocation>({ store, kind: 'Revocation', log });
    this.informer.addHandler({
      onAdd: (r) => this.changed(r.spec.subject),
      onUpdate: (o, r) => { this.changed(o.spec.subject); this.changed(r.spec.subject); },
      onDelete: (r) => this.changed(r.spec.subject),
    });
    this.unlisten = pki.onChange(() => this.sweepAll());
  }

  /** Lists the Revocations; resolves once they are in memory. */
  start(): Promise<void> {
    return this.informer.start();
  }

  async stop(): Promise<void> {
    this.unlisten();
    await this.informer.stop();
  }

  /** Recomputes the Revocation of `subject` from the cache, then closes what it refuses. */
  private changed(subject: string): void {
    let best: Revocation | undefined;
    for (const r of this.informer.list()) {
      if (r.spec.subject === subject && (best === undefined || Date.parse(r.spec.issuedBefore) > Date.parse(best.spec.issuedBefore))) best = r;
    }
    if (best === undefined) this.revocations.delete(subject);
    else this.revocations.set(subject, best);
    this.sweepSubject(subject);
  }

  check(socket: TLSSocket, identity: Identity): void {
    const why = this.refusal(this.describe(socket, identity));
    if (why !== undefined) throw new UnauthorizedError(why);
  }

  private refusal(p: PeerInfo): string | undefined {
    if (p.issuer === undefined || !this.pki.trusts(p.issuer)) {
      return `certificate of ${p.subject} was issued by a CA this cluster no longer trusts (retired by \`flotilla ca rotate\`): the node must join again with a new token`;
    }
    return revocationRefusal(this.revocations.get(p.subject), p.issuedAtMs);
  }

  private describe(socket: TLSSocket, identity: Identity): PeerInfo {
    const known = this.peers.get(socket);
    if (known !== undefined) return known;
    const cert = socket.getPeerX509Certificate();
    const info: PeerInfo = {
      subject: `${identity.kind}:${identity.name}`,
      issuedAtMs: cert !== undefined ? issuedAtMs(cert.validFrom) : 0,
      issuer: cert !== undefined ? this.pki.issuerOf(cert) : undefined,
    };
    this.peers.set(socket, info);
    let set = this.bySubject.get(info.subject);
    if (set === undefined) this.bySubject.set(info.subject, (set = new Set()));
    set.add(socket);
    socket.once('close', () => {
      set.delete(socket);
      if (set.size === 0 && this.bySubject.get(info.subject) === set) this.bySubject.delete(info.subject);
    });
    return info;
  }

  /** Closes the open connections of `subject` whose certificate is now refused. */
  private sweepSubject(subject: string): void {
    for (const s of this.bySubject.get(subject) ?? []) this.closeIfRefused(s);
  }

  private sweepAll(): void {
    for (const set of this.bySubject.values()) for (const s of set) this.closeIfRefused(s);
  }

  private closeIfRefused(s: TLSSocket): void {
    const p = this.peers.get(s);
    const why = p !== undefined ? this.refusal(p) : undefined;
    if (why === undefined) return;
    this.log(`closing a connection: ${why}`);
    s.destroy();
  }
}
