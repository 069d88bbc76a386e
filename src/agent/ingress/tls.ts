/**
 * TLS for the ingress: the certificate of each host comes from a Secret named by an Ingress's
 * `tls` entry (`tls.crt` and `tls.key`, PEM, base64 in `spec.data`). The server picks the
 * context by SNI: exact host, then a `*.domain` entry; a name no entry covers fails the handshake.
 */
import tls from 'node:tls';
import type { SecretSpec } from '../../api/kinds.js';
import type { IngressSource } from './routes.js';

/** Contexts by host (`*.example.com` entries under that key), and why some entries have none. */
export interface TlsContexts {
  byHost: Map<string, tls.SecureContext>;
  problems: string[];
}

/** Builds the SNI table; `secretOf(namespace, name)` returns a Secret's spec or undefined. */
export function buildTlsContexts(ingresses: readonly IngressSource[], secretOf: (namespace: string, name: string) => SecretSpec | undefined): TlsContexts {
  const out: TlsContexts = { byHost: new Map(), problems: [] };
  const made = new Map<string, tls.SecureContext | undefined>();
  for (const ing of ingresses) {
    for (const entry of ing.spec.tls) {
      const ref = `${ing.namespace}/${entry.secret}`;
      if (!made.has(ref)) made.set(ref, contextOf(ref, secretOf(ing.namespace, entry.secret), out.problems));
      const ctx = made.get(ref);
      if (ctx === undefined) continue;
      for (const h of entry.hosts) if (!out.byHost.has(h)) out.byHost.set(h, ctx);
    }
  }
  return out;
}

function contextOf(ref: string, secret: SecretSpec | undefined, problems: string[]): tls.SecureContext | undefined {
  const crt = secret?.data['tls.crt'];
  const key = secret?.data['tls.key'];
  if (secret === undefined) problems.push(`secret ${ref} does not exist`);
  else if (crt === undefined || key === undefined) problems.push(`secret ${ref} lacks tls.crt or tls.key`);
  if (crt === undefined || key === undefined) return undefined;
  try {
    return tls.createSecureContext({ cert: Buffer.from(crt, 'base64'), key: Buffer.from(key, 'base64') });
  } catch (err) {
    problems.push(`secret ${ref}: ${(err as Error).message}`);
    return undefined;
  }
}

/** The context for an SNI name: exact, then wildcard one label up. */
export function contextFor(c: TlsContexts, servername: string): tls.SecureContext | undefined {
  const name = servername.toLowerCase();
  const exact = c.byHost.get(name);
  if (exact !== undefined) return exact;
  const dot = name.indexOf('.');
  return dot > 0 ? c.byHost.get(`*.${name.slice(dot + 1)}`) : undefined;
}
