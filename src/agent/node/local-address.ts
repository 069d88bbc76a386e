/**
 * The address an agent advertises when it is given no `--address`: the local address of its
 * own TLS connection to the server (CONTRACT "token create"). That is the source address the
 * kernel picks on the route to the server, so the server (and, on a flat network, the other
 * nodes) can reach the agent there; 127.0.0.1 only when the server itself is on loopback.
 */
import tls from 'node:tls';
import { isIP } from 'node:net';
import { UnavailableError } from '../../api/errors.js';
import { unmapIpv4 } from '../../server/reachable.js';

/** What the probe connection needs: the server URL and the cluster CA (and the node's pair, for mTLS). */
export interface LocalAddressOptions {
  server: string;
  caPem: string;
  certPem?: string;
  keyPem?: string;
  timeoutMs?: number;
}

/** Opens one verified TLS connection to the server and answers its local address. */
export function localAddressTo(o: LocalAddressOptions): Promise<string> {
  const url = new URL(o.server);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port === '' ? 443 : url.port);
  return new Promise<string>((resolve, reject) => {
    const socket = tls.connect({
      host, port, ca: o.caPem, cert: o.certPem, key: o.keyPem,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      timeout: o.timeoutMs ?? 15_000,
    }, () => {
      const local = socket.localAddress;
      socket.end();
      if (local === undefined || local === '') reject(new UnavailableError(`connection to ${o.server} has no local address`));
      else resolve(unmapIpv4(local));
    });
    socket.once('timeout', () => socket.destroy(new UnavailableError(`cannot reach ${o.server}: no TLS handshake within ${o.timeoutMs ?? 15_000} ms`)));
    socket.once('error', (err) => reject(err instanceof UnavailableError ? err : new UnavailableError(`cannot reach ${o.server}: ${err.message}`)));
  });
}
