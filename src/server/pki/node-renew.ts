/**
 * Renewing a node's certificate from the server side: the server calls the node's agent
 * endpoint (`POST /certificate/renew`, mutual TLS with `flotilla:server`), the agent renews
 * with the server at once and answers its new certificate. `rotateNodeCertificate` then
 * revokes every older certificate of that node (`flotilla node rotate-cert NAME`).
 *
 *   rotate-cert NAME -> Node NAME (address, agentPort) -> agent POST /certificate/renew
 *     -> agent: POST /api/v1/join/renew (new key, new cert) -> {certificate}
 *     -> Revocation node.NAME {subject node:NAME, issuedBefore: issue time of the new cert}
 *     -> the old certificate is refused at once, its open connections closed
 */
import { randomUUID, X509Certificate } from 'node:crypto';
import { AlreadyExistsError, ConflictError, NotFoundError, UnavailableError } from '../../api/errors.js';
import type { NodeObject, Revocation } from '../../api/kinds.js';
import { revocationNameOf } from '../../api/validate/revocation.js';
import type { Store } from '../../store/store.js';
import type { AgentDialer, AgentTarget } from '../proxy/agent-dialer.js';
import { issuedAtMs, NODE_CN_PREFIX } from './index.js';

/** The agent endpoint of a registered node that is not down. */
export async function agentTargetOf(store: Store, name: string): Promise<AgentTarget> {
  const node = (await store.get({ kind: 'Node', namespace: '', name })) as NodeObject | undefined;
  if (node === undefined) throw new NotFoundError(`node ${name} not found`);
  if (node.status?.state === 'down') throw new UnavailableError(`node ${name} is down: its agent cannot renew its certificate now`);
  const address = node.status?.address;
  const port = node.status?.agentPort;
  if (address === undefined || address === '' || port === undefined || port <= 0) throw new UnavailableError(`node ${name} does not report an agent endpoint (status.address and status.agentPort): is its agent running?`);
  return { node: name, address, port };
}

/** Has the node's agent renew its certificate now; resolves with the new certificate's PEM. */
export async function renewNodeCertificate(dialer: AgentDialer, target: AgentTarget, timeoutMs = 30_000): Promise<string> {
  const signal = AbortSignal.timeout(timeoutMs);
  const res = await dialer.open(target, 'POST', '/certificate/renew', {}, signal);
  const chunks: Buffer[] = [];
  for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { certificate?: unknown };
  if (typeof body.certificate !== 'string') throw new UnavailableError(`node ${target.node}: the agent's renewal answer has no certificate`);
  return body.certificate;
}

/** What `node rotate-cert` answers. */
export interface RotateCertResult {
  node: string;
  /** RFC 3339: the new certificate's issue time; older certificates are revoked. */
  issuedAt: string;
  notAfter: string;
  revocation: string;
}

/** Upserts the Revocation of `subject` so that certificates issued before `issuedBefore` are refused (never moves it back). */
export async function revokeBefore(store: Store, subject: string, issuedBefore: Date, reason: string): Promise<Revocation> {
  const name = revocationNameOf(subject);
  for (let attempt = 0; ; attempt++) {
    const cur = (await store.get({ kind: 'Revocation', namespace: '', name })) as Revocation | undefined;
    const spec = { subject, issuedBefore: issuedBefore.toISOString(), reason };
    try {
      if (cur === undefined) {
        return (await store.create({ kind: 'Revocation', metadata: { name, namespace: '', uid: randomUUID(), labels: {}, revision: 0, generation: 1, creationTimestamp: new Date().toISOString() }, spec })) as Revocation;
      }
      if (Date.parse(cur.spec.issuedBefore) >= issuedBefore.getTime()) return cur;
      return (await store.update({ ...cur, metadata: { ...cur.metadata, generation: cur.metadata.generation + 1 }, spec }, cur.metadata.revision)) as Revocation;
    } catch (err) {
      if (attempt >= 5 || !(err instanceof ConflictError || err instanceof AlreadyExistsError)) throw err;
    }
  }
}

/** `flotilla node rotate-cert NAME`: a new certificate now, every older one revoked. */
export async function rotateNodeCertificate(store: Store, dialer: AgentDialer, name: string): Promise<RotateCertResult> {
  const pem = await renewNodeCertificate(dialer, await agentTargetOf(store, name));
  const cert = new X509Certificate(pem);
  const issuedAt = new Date(issuedAtMs(cert.validFrom));
  const subject = `${NODE_CN_PREFIX}${name}`;
  const r = await revokeBefore(store, subject, issuedAt, 'flotilla node rotate-cert');
  return { node: name, issuedAt: issuedAt.toISOString(), notAfter: new Date(cert.validTo).toISOString(), revocation: r.metadata.name };
}
