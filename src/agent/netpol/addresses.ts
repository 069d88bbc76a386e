/**
 * IPv4 addresses and CIDRs as nft set elements: normalized (host bits cleared) and without
 * overlaps (an element inside another is dropped), since nft refuses overlapping intervals.
 */

/** An address or CIDR as a range of 32-bit integers. */
interface Range {
  lo: number;
  hi: number;
  text: string;
}

function toInt(ip: string): number {
  let n = 0;
  let octet = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      n = n * 256 + octet;
      octet = 0;
    } else octet = octet * 10 + (c - 48);
  }
  return n * 256 + octet;
}

function toIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

function range(element: string): Range {
  const slash = element.indexOf('/');
  if (slash < 0) {
    const n = toInt(element);
    return { lo: n, hi: n, text: element };
  }
  const ip = element.slice(0, slash);
  const len = Number(element.slice(slash + 1));
  const size = 2 ** (32 - len);
  const lo = Math.floor(toInt(ip) / size) * size;
  const text = len === 32 ? toIp(lo) : `${toIp(lo)}/${len}`;
  return { lo, hi: lo + size - 1, text };
}

/** Sorted, deduplicated, normalized elements with every element covered by another one removed. */
export function setElements(elements: Iterable<string>): string[] {
  const ranges = [...new Set(elements)].map(range).sort((a, b) => a.lo - b.lo || b.hi - a.hi);
  const out: Range[] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last !== undefined && r.lo >= last.lo && r.hi <= last.hi) continue;
    out.push(r);
  }
  return out.map((r) => r.text);
}

/** True when `ip` lies in `cidr` (or equals it, for a plain address). */
export function inCidr(ip: string, cidr: string): boolean {
  const r = range(cidr);
  const n = toInt(ip);
  return n >= r.lo && n <= r.hi;
}
