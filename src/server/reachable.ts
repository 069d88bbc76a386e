/**
 * Which addresses of this machine another machine can reach a server at: used for the server
 * certificate's SANs when it listens on a wildcard (0.0.0.0 or ::) and for the URL that
 * `flotilla token create` prints. Loopback and link-local addresses are never "reachable".
 *
 *   listening on a specific host  -> that host
 *   listening on 0.0.0.0 / ::     -> every non-loopback, non-link-local interface address (IPv4 first)
 *   the address a client reached  -> that one first, when it is not loopback
 */
import os from 'node:os';
import { isIP } from 'node:net';

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopback(address: string): boolean {
  const a = unmapIpv4(address);
  return a === '::1' || a.startsWith('127.') || a === 'localhost';
}

/** `::ffff:10.0.0.1` -> `10.0.0.1` (what a dual-stack socket reports for IPv4 peers). */
export function unmapIpv4(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** Interface addresses as os.networkInterfaces() reports them. */
export type InterfaceTable = ReturnType<typeof os.networkInterfaces>;

/** Non-loopback, non-link-local addresses of this machine's interfaces, IPv4 first. */
export function interfaceAddresses(table: InterfaceTable = os.networkInterfaces()): string[] {
  const all = Object.values(table).flatMap((l) => l ?? []);
  const usable = all.filter((i) => !i.internal && !isLoopback(i.address) && !/^fe[89ab][0-9a-f]:/i.test(i.address));
  const v4 = usable.filter((i) => i.family === 'IPv4').map((i) => i.address);
  const v6 = usable.filter((i) => i.family === 'IPv6').map((i) => i.address);
  return [...new Set([...v4, ...v6])];
}

/** `https://HOST:PORT` with IPv6 hosts in brackets. */
export function httpsUrl(host: string, port: number): string {
  return isIP(host) === 6 ? `https://[${host}]:${port}` : `https://${host}:${port}`;
}

/** True for the hosts that mean "every interface". */
export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/**
 * URLs of this server that another machine may use, best first. A server on a specific host
 * has that one URL. On a wildcard: the address the asking client reached (when not loopback),
 * then the interface addresses; loopback only when there is nothing else.
 */
export function reachableUrls(listenHost: string, reachedAddress: string | undefined, port: number, table?: InterfaceTable): string[] {
  if (!isWildcard(listenHost)) return [httpsUrl(listenHost, port)];
  const reached = reachedAddress === undefined ? undefined : unmapIpv4(reachedAddress);
  const hosts = [...(reached !== undefined && !isLoopback(reached) ? [reached] : []), ...interfaceAddresses(table)];
  const unique = [...new Set(hosts)];
  return (unique.length > 0 ? unique : ['127.0.0.1']).map((h) => httpsUrl(h, port));
}
