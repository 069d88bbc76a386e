/**
 * IPv4 CIDR arithmetic for the node subnet allocator: parse `10.88.0.0/16`, cut it into
 * per-node blocks (`/24`), and tell whether a block lies inside it. Addresses are numbers
 * (0 .. 2^32-1) so the arithmetic is exact.
 */
import { ValidationError } from '../../api/errors.js';

/** An IPv4 range: first address (masked) and prefix length. */
export interface Ipv4Cidr {
  base: number;
  bits: number;
}

const CIDR_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/n`; the base is masked to the prefix. Throws ValidationError at `field`. */
export function parseIpv4Cidr(text: string, field = 'clusterCidr'): Ipv4Cidr {
  const m = CIDR_RE.exec(text.trim());
  const octets = m === null ? [] : m.slice(1, 5).map(Number);
  const bits = m === null ? NaN : Number(m[5]);
  if (m === null || octets.some((o) => o > 255) || !(bits >= 0 && bits <= 32)) {
    throw new ValidationError([{ path: field, expected: 'an IPv4 CIDR such as 10.88.0.0/16', found: text }]);
  }
  const raw = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - bits);
  return { base: raw - (raw % size), bits };
}

/** `10.88.3.0/24`. */
export function formatIpv4Cidr(c: Ipv4Cidr): string {
  return `${ipv4ToString(c.base)}/${c.bits}`;
}

/** Dotted form of an address number. */
export function ipv4ToString(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** Number of `/blockBits` blocks in `c` (0 when the blocks are larger than the range). */
export function blockCount(c: Ipv4Cidr, blockBits: number): number {
  return blockBits < c.bits ? 0 : 2 ** (blockBits - c.bits);
}

/** The i-th `/blockBits` block of `c`. */
export function blockAt(c: Ipv4Cidr, blockBits: number, i: number): Ipv4Cidr {
  return { base: c.base + i * 2 ** (32 - blockBits), bits: blockBits };
}

/** Index of `block` among the `/blockBits` blocks of `c`, or undefined when it is not one of them. */
export function blockIndex(c: Ipv4Cidr, blockBits: number, block: string): number | undefined {
  let b: Ipv4Cidr;
  try {
    b = parseIpv4Cidr(block);
  } catch {
    return undefined;
  }
  if (b.bits !== blockBits || b.base < c.base || b.base >= c.base + 2 ** (32 - c.bits)) return undefined;
  return (b.base - c.base) / 2 ** (32 - blockBits);
}
