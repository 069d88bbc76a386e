/**
 * `--listen HOST:PORT` parsing and the URL clients should use for it.
 */
import { isIP } from 'node:net';
import { BadRequestError } from '../api/errors.js';

/** A parsed listen address. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** Parses `HOST:PORT`, `[V6]:PORT`, `:PORT` (all interfaces) or `PORT` (loopback). Port 0 = any. */
export function parseListen(listen: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(listen.trim()) ?? /^()()(\d+)$/.exec(listen.trim());
  if (m === null) throw new BadRequestError(`--listen: expected HOST:PORT (e.g. 127.0.0.1:6443), got ${JSON.stringify(listen)}`);
  const port = Number(m[3]);
  if (port > 65535) throw new BadRequestError(`--listen: port ${port} is out of range`);
  const host = m[1] ?? m[2] ?? '';
  if (host === '' && !listen.includes(':')) return { host: '127.0.0.1', port };
  return { host: host === '' ? '0.0.0.0' : host, port };
}

/** The URL a client on this machine uses: wildcard hosts become 127.0.0.1. */
export function clientUrl(host: string, port: number): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return `https://127.0.0.1:${port}`;
  return isIP(host) === 6 ? `https://[${host}]:${port}` : `https://${host}:${port}`;
}
