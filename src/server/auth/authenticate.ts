/**
 * Authentication of one request: a bearer token, else a client certificate that the TLS layer
 * verified against the cluster CA (the server requests one but does not require it).
 *
 *   Authorization: Bearer T --known--> Identity(token)   --unknown--> 401
 *   Authorization: Bearer flt-user-NAME.S --User NAME in the store, hash matches--> Identity(user)
 *   no header, CA-signed cert "node:NAME" ---------------> Identity(node NAME)
 *                (revoked, or by a retired CA: 401, auth/revocations.ts)
 *   nothing ------------------------------------------------> 401 (except public paths)
 *
 * The identity of a certificate is read once per TLS connection (getPeerCertificate decodes the
 * whole certificate: 3-8% of the server's CPU at scale, when keep-alive connections carry
 * thousands of requests) and kept with the socket. It cannot go stale: the connection's
 * renegotiation (the only way its peer certificate could change) is turned off when the
 * identity is first cached, and the cache entry dies with the socket (WeakMap).
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { UnauthorizedError } from '../../api/errors.js';
import type { Identity, IdentityKind } from './identity.js';
import type { CertificateCheck } from './revocations.js';
import type { TokenAuthenticator } from './tokens.js';

const CERT_KINDS: ReadonlySet<string> = new Set<IdentityKind>(['node', 'user', 'serviceaccount']);

/** Looks up a user token (`flt-user-...`) in the store; undefined when unknown or revoked. */
export type UserTokenLookup = (token: string) => Promise<Identity | undefined>;

/** Turns a request into an Identity, or throws UnauthorizedError. */
export class RequestAuthenticator {
  constructor(private readonly tokens: TokenAuthenticator, private readonly users?: UserTokenLookup, private readonly certificates?: CertificateCheck) {}

  /** The caller's identity; a Promise only for user tokens (read from the store each time). */
  authenticate(req: IncomingMessage): Identity | Promise<Identity> {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (m === null) throw new UnauthorizedError('Authorization header must be "Bearer TOKEN"');
      const token = m[1] as string;
      if (this.users !== undefined && token.startsWith('flt-user-')) return this.userIdentity(this.users, token);
      const id = this.tokens.authenticate(token);
      if (id === undefined) throw new UnauthorizedError('unknown or revoked bearer token');
      return id;
    }
    const fromCert = identityFromCertificate(req.socket as TLSSocket);
    if (fromCert !== undefined) {
      // Revoked certificates and certificates of a retired CA: 401 (auth/revocations.ts).
      this.certificates?.check(req.socket as TLSSocket, fromCert);
      return fromCert;
    }
    throw new UnauthorizedError('no credential: send "Authorization: Bearer TOKEN" or a client certificate signed by the cluster CA');
  }

  private async userIdentity(users: UserTokenLookup, token: string): Promise<Identity> {
    const id = await users(token);
    if (id === undefined) throw new UnauthorizedError('unknown or revoked user token (was the user deleted?)');
    return id;
  }
}

/** Identity (or null: none) of the certificate of each TLS connection, read once; see the file comment. */
const identityBySocket = new WeakMap<TLSSocket, Identity | null>();

/**
 * The identity in a verified client certificate's CN (`node:NAME`), if any; cached per
 * connection, whose renegotiation is then disabled so that the certificate cannot change.
 */
export function identityFromCertificate(socket: TLSSocket): Identity | undefined {
  const cached = identityBySocket.get(socket);
  if (cached !== undefined) return cached ?? undefined;
  const id = readCertificateIdentity(socket);
  if (typeof socket.disableRenegotiation === 'function') {
    socket.disableRenegotiation();
    identityBySocket.set(socket, id === undefined ? null : Object.freeze(id));
  }
  return id;
}

function readCertificateIdentity(socket: TLSSocket): Identity | undefined {
  if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return undefined;
  const cn = socket.getPeerCertificate().subject?.CN;
  if (typeof cn !== 'string') return undefined;
  const i = cn.indexOf(':');
  const kind = cn.slice(0, i);
  const name = cn.slice(i + 1);
  if (i <= 0 || name === '' || !CERT_KINDS.has(kind)) return undefined;
  return { kind: kind as IdentityKind, name, via: 'certificate' };
}
