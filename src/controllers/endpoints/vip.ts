/**
 * Service virtual IPs, decided purely (STYLE.md 5): every Service gets one address out of the
 * service CIDR, kept for its whole life (clients and DNS caches hold it), released when the
 * Service is deleted (the address is simply no longer in use by any stored Service). A
 * blue-green Service gets a second one, `previewVip` (its `NAME-preview`), from the same range
 * and unique against every vip and previewVip, kept while it stays blue-green.
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

/** The holder key of a service's preview address (beside the service's own key). */
export function previewHolderKey(key: string): string {
  return `${key}#preview`;
}

/** One Service as the vip loop sees it: its addresses (stored or just written) and whether it wants a preview. */
export interface ServiceVips {
  key: string;
  created: string;
  vip?: string;
  previewVip?: string;
  /** spec.update.strategy is blue-green. */
  wantsPreview: boolean;
}

/** What to write for one service; undefined fields stay as they are. */
export interface ServiceVipChange {
  vip?: string;
  previewVip?: string;
  /** Drop status.previewVip (the service is no longer blue-green). */
  releasePreview: boolean;
  /** Which address the range had none left for. */
  exhausted: Array<'vip' | 'previewVip'>;
}

/**
 * The holders of the whole range: every service's vip, and a preview holder for a service that
 * wants one or still holds one (an address being released counts as used until it is gone).
 */
export function holdersOf(services: readonly ServiceVips[]): VipHolder[] {
  const out: VipHolder[] = [];
  for (const s of services) {
    out.push({ key: s.key, created: s.created, ...(s.vip !== undefined ? { vip: s.vip } : {}) });
    if (s.wantsPreview || s.previewVip !== undefined) {
      out.push({ key: previewHolderKey(s.key), created: s.created, ...(s.previewVip !== undefined ? { vip: s.previewVip } : {}) });
    }
  }
  return out;
}

/** The change of service `key` among `services` (planVips over holdersOf); undefined: nothing to write. */
export function vipChangeOf(key: string, services: readonly ServiceVips[], cidr: Cidr4): ServiceVipChange | undefined {
  const self = services.find((s) => s.key === key);
  if (self === undefined) return undefined;
  const plan = planVips(holdersOf(services), cidr);
  const change: ServiceVipChange = { releasePreview: false, exhausted: [] };
  const vip = plan.assign.get(key);
  if (vip !== undefined) change.vip = vip;
  if (plan.exhausted.includes(key)) change.exhausted.push('vip');
  const pkey = previewHolderKey(key);
  if (!self.wantsPreview) change.releasePreview = self.previewVip !== undefined;
  else {
    const preview = plan.assign.get(pkey);
    if (preview !== undefined) change.previewVip = preview;
    if (plan.exhausted.includes(pkey)) change.exhausted.push('previewVip');
  }
  const writes = change.vip !== undefined || change.previewVip !== undefined || change.releasePreview;
  return writes || change.exhausted.length > 0 ? change : undefined;
}
