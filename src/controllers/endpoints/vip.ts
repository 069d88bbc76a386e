/**
 * Service virtual IPs, decided purely (STYLE.md 5): every Service gets one address out of the
 * service CIDR, kept for its whole life (clients and DNS caches hold it), released when the
 * Service is deleted (the address is simply no longer in use by any stored Service).
 */

/** The default service CIDR (as Kubernetes' 10.96.0.0/12, a /16 here). */
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/16';

/** An IPv4 CIDR as numbers: first address and prefix length. */
export interface Cidr4 {
  base: number;
  bits: number;
  /** Number of addresses in the range. */
  size: number;
}

const CIDR_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/n` (the base is masked to the prefix); throws on anything else. */
export function parseCidr4(cidr: string): Cidr4 {
  const m = CIDR_RE.exec(cidr.trim());
  const bits = m === null ? NaN : Number(m[5]);
  const octets = m === null ? [] : m.slice(1, 5).map(Number);
  if (m === null || octets.some((o) => o > 255) || bits < 8 || bits > 30) {
    throw new Error(`service CIDR: expected an IPv4 CIDR like 10.96.0.0/16 with a prefix from /8 to /30, found ${JSON.stringify(cidr)}`);
  }
  const raw = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - bits);
  return { base: raw - (raw % size), bits, size };
}

/** `10.96.0.7` from its number. */
export function ipToString(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** The number of a dotted IPv4 address; NaN when it is not one. */
export function ipToNumber(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return NaN;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** True when `ip` is a usable host address of the range (not its network or broadcast address). */
export function inCidr(c: Cidr4, ip: string): boolean {
  const n = ipToNumber(ip);
  return n > c.base && n < c.base + c.size - 1;
}

/** One service as the allocator sees it: its key, when it was made, the VIP it has. */
export interface VipHolder {
  key: string;
  created: string;
  vip?: string;
}

/** What the allocator decided: new addresses per key, and keys left without one (range full). */
export interface VipPlan {
  assign: Map<string, string>;
  exhausted: string[];
}

/**
 * Keeps every valid, unique VIP; gives the lowest free address to services that have none, an
 * address outside the range, or one an older service holds. Deterministic: older services first.
 */
export function planVips(holders: readonly VipHolder[], cidr: Cidr4): VipPlan {
  const ordered = [...holders].sort((a, b) => a.created.localeCompare(b.created) || a.key.localeCompare(b.key));
  const used = new Set<number>();
  const needs: string[] = [];
  for (const h of ordered) {
    const n = h.vip !== undefined && inCidr(cidr, h.vip) ? ipToNumber(h.vip) : NaN;
    if (!Number.isNaN(n) && !used.has(n)) used.add(n);
    else needs.push(h.key);
  }
  const plan: VipPlan = { assign: new Map(), exhausted: [] };
  let next = cidr.base + 1;
  const last = cidr.base + cidr.size - 2;
  for (const key of needs) {
    while (next <= last && used.has(next)) next++;
    if (next > last) {
      plan.exhausted.push(key);
      continue;
    }
    used.add(next);
    plan.assign.set(key, ipToString(next));
  }
  return plan;
}
