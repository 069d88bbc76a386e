/**
 * The load balancer's nftables rule set, rendered purely from the endpoints view (STYLE.md 5):
 * the same input always gives the same text, so the applier can skip writes that change
 * nothing and tests can read the rules without a kernel.
 *
 * The text is ONE `nft -f` transaction: create the table if absent, delete it, define it
 * again. nft applies a file atomically, and connections already NATed keep their mapping in
 * conntrack, so a rewrite never drops a connection nor shows a half-written rule set.
 *
 *   prerouting/output (nat) ─► dispatch
 *     ip daddr . l4proto . dport  vmap @services   ─► svc-<id>: dnat to numgen inc mod N map {i: ip . port}
 *                                                    weighted groups: svc-<id>: numgen random mod 100 vmap
 *                                                      {0-19 : goto svc-<id>-g1, 20-99 : goto svc-<id>-g0}
 *                                                      svc-<id>-g<i>: dnat to numgen inc mod N map {...}
 *     local daddr . l4proto . dport vmap @published ─► mesh-<id>: mark 0x4000, goto svc-<id>
 *   postrouting (nat): mark 0x4000 ─► masquerade (mesh: the reply must come back through this node)
 *                      dnat + saddr and daddr in this node's subnet (or: out by the task bridge) ─► masquerade (hairpin)
 *   forward/output/input (filter): VIP or published port without ready tasks ─► reject
 */
import { createHash } from 'node:crypto';

/** One port of a service as the balancer needs it. */
export interface LbPort {
  port: number;
  targetPort: number;
  protocol: 'tcp' | 'udp';
  publish?: number;
}

/** One weighted group of a service's backends (a revision during a canary). */
export interface LbGroup {
  /** Percent of new connections (0..100). */
  weight: number;
  /** Addresses of its ready tasks; none: its share goes to the other groups. */
  backends: string[];
}

/** One service: its VIP, ports and the addresses of its ready tasks. */
export interface LbService {
  /** `namespace/name`. */
  ref: string;
  vip?: string;
  ports: LbPort[];
  /** Addresses of ready tasks (any node); used when `groups` is absent. */
  backends: string[];
  /** Weighted split (canary): chain `svc-<id>-g<i>` per group, picked by `numgen random mod 100`. */
  groups?: LbGroup[];
}

/** Node facts the rules depend on. */
export interface RulesetOptions {
  /** nft table name (family ip). Default `flotilla`. */
  table?: string;
  /** This node's task subnet: a task reaching itself or a neighbour through a VIP is masqueraded. */
  localSubnet?: string;
  /** This node's task bridge: without localSubnet, DNATed traffic leaving by it is masqueraded (hairpin). */
  bridge?: string;
  /** Packet mark bit for "masquerade me". Default 0x4000. */
  masqueradeMark?: number;
}

/** The text to feed `nft -f`, and published ports two services asked for (the older one wins). */
export interface RenderedRuleset {
  text: string;
  conflicts: string[];
}

/** The default nft table of the balancer. */
export const DEFAULT_TABLE = 'flotilla';

/** Short stable id of a service port, used in chain names. */
export function chainId(ref: string, p: LbPort): string {
  return createHash('sha256').update(`${ref}/${p.protocol}/${p.port}`).digest('hex').slice(0, 12);
}

function elements(items: string[]): string[] {
  return items.length === 0 ? [] : [`    elements = { ${items.join(',\n      ')} }`];
}

/** One nft chain block of a table, its lines indented (shared with the network policies' rule set). */
export function chain(name: string, lines: string[]): string[] {
  return [`  chain ${name} {`, ...lines.map((l) => `    ${l}`), '  }'];
}

interface Collected {
  services: string[];
  published: string[];
  noEndpoints: string[];
  noEndpointsPublished: string[];
  chains: string[];
  conflicts: string[];
}

/** A group that gets traffic: its index in LbService.groups (chain name), buckets of 100, backends. */
export interface GroupShare {
  index: number;
  buckets: number;
  backends: string[];
}

/**
 * The shares of 100 buckets among the groups with backends (largest remainder, ties to the
 * lower index); groups left with 0 buckets are dropped. All weights 0: equal shares.
 */
export function shares(groups: readonly LbGroup[]): GroupShare[] {
  const ready = groups.map((g, index) => ({ index, weight: Math.max(0, g.weight), backends: [...new Set(g.backends)].sort() })).filter((g) => g.backends.length > 0);
  const total = ready.reduce((a, g) => a + g.weight, 0);
  const weighed = total > 0 ? ready : ready.map((g) => ({ ...g, weight: 1 }));
  const sum = total > 0 ? total : ready.length;
  const out = weighed.map((g) => ({ index: g.index, exact: (g.weight * 100) / sum, buckets: Math.floor((g.weight * 100) / sum), backends: g.backends }));
  let left = 100 - out.reduce((a, g) => a + g.buckets, 0);
  for (const g of [...out].sort((a, b) => (b.exact - b.buckets) - (a.exact - a.buckets) || a.index - b.index)) {
    if (left <= 0) break;
    g.buckets++;
    left--;
  }
  return out.filter((g) => g.buckets > 0).map(({ index, buckets, backends }) => ({ index, buckets, backends }));
}

/** The groups that share a service's traffic: its groups, or one group of all its backends. */
function sharesOf(s: LbService): GroupShare[] {
  return shares(s.groups ?? [{ weight: 100, backends: s.backends }]);
}

function dnatLine(protocol: string, backends: string[], targetPort: number): string {
  const map = backends.map((ip, i) => `${i} : ${ip} . ${targetPort}`).join(', ');
  return `meta l4proto ${protocol} dnat ip to numgen inc mod ${backends.length} map { ${map} }`;
}

/**
 * Chains of one service port: one group, `svc-<id>` round-robins over it (as without groups);
 * several, `svc-<id>` picks one by `numgen random mod 100` over ranges (the last group lowest:
 * a canary of weight w owns 0..w-1) and `svc-<id>-g<i>` round-robins over group i.
 */
function serviceChains(id: string, comment: string, p: LbPort, parts: GroupShare[]): string[] {
  const only = parts.length === 1 ? parts[0] : undefined;
  if (only !== undefined) return chain(`svc-${id}`, [comment, dnatLine(p.protocol, only.backends, p.targetPort)]);
  let from = 0;
  const ranges: string[] = [];
  for (const g of [...parts].reverse()) {
    ranges.push(`${from}-${from + g.buckets - 1} : goto svc-${id}-g${g.index}`);
    from += g.buckets;
  }
  const out = chain(`svc-${id}`, [comment, `numgen random mod 100 vmap { ${ranges.join(', ')} }`]);
  for (const g of parts) out.push(...chain(`svc-${id}-g${g.index}`, [`# group ${g.index}: ${g.buckets}%`, dnatLine(p.protocol, g.backends, p.targetPort)]));
  return out;
}

/** The published port of `p`, unless an earlier service holds it (then the clash is recorded). */
function claimPublish(c: Collected, publishedBy: Map<string, string>, ref: string, p: LbPort): number | undefined {
  if (p.publish === undefined) return undefined;
  const holder = publishedBy.get(`${p.protocol}/${p.publish}`);
  if (holder !== undefined) {
    c.conflicts.push(`${p.protocol} port ${p.publish}: published by ${holder} and ${ref}; ${ref} is not published`);
    return undefined;
  }
  publishedBy.set(`${p.protocol}/${p.publish}`, ref);
  return p.publish;
}

/** The VIP of `s` for port `p`, unless an earlier service holds the same VIP and port (then the clash is recorded). */
function claimVip(c: Collected, vipBy: Map<string, string>, s: LbService, p: LbPort): string | undefined {
  if (s.vip === undefined) return undefined;
  const k = `${s.vip} . ${p.protocol} . ${p.port}`;
  const holder = vipBy.get(k);
  if (holder !== undefined) {
    c.conflicts.push(`${k}: VIP of ${holder} and ${s.ref}; ${s.ref} is not served there`);
    return undefined;
  }
  vipBy.set(k, s.ref);
  return s.vip;
}

function collect(services: readonly LbService[], mark: string): Collected {
  const c: Collected = { services: [], published: [], noEndpoints: [], noEndpointsPublished: [], chains: [], conflicts: [] };
  const publishedBy = new Map<string, string>();
  const vipBy = new Map<string, string>();
  for (const s of [...services].sort((a, b) => a.ref.localeCompare(b.ref))) {
    const parts = sharesOf(s);
    for (const p of s.ports) {
      const id = chainId(s.ref, p);
      const publish = claimPublish(c, publishedBy, s.ref, p);
      const vip = claimVip(c, vipBy, s, p);
      if (parts.length === 0) {
        if (vip !== undefined) c.noEndpoints.push(`${vip} . ${p.protocol} . ${p.port}`);
        if (publish !== undefined) c.noEndpointsPublished.push(`${p.protocol} . ${publish}`);
        continue;
      }
      if (vip === undefined && publish === undefined) continue;
      c.chains.push(...serviceChains(id, `# ${s.ref} ${p.protocol}/${p.port} -> ${p.targetPort}`, p, parts));
      if (vip !== undefined) c.services.push(`${vip} . ${p.protocol} . ${p.port} : goto svc-${id}`);
      if (publish !== undefined) {
        c.published.push(`${p.protocol} . ${publish} : goto mesh-${id}`);
        c.chains.push(...chain(`mesh-${id}`, [`meta mark set meta mark or ${mark}`, `goto svc-${id}`]));
      }
    }
  }
  return c;
}

/** Renders the whole rule set; see the file comment. */
export function renderRuleset(services: readonly LbService[], opts: RulesetOptions = {}): RenderedRuleset {
  const table = opts.table ?? DEFAULT_TABLE;
  const mark = `0x${(opts.masqueradeMark ?? 0x4000).toString(16)}`;
  const c = collect(services, mark);
  const reject = (set: string, local: boolean): string => `${local ? 'fib daddr type local ' : 'ip daddr . '}meta l4proto . th dport @${set} reject`;
  const hairpin = opts.localSubnet !== undefined ? [`ct status dnat ip saddr ${opts.localSubnet} ip daddr ${opts.localSubnet} masquerade`]
    : opts.bridge !== undefined ? [`ct status dnat oifname ${JSON.stringify(opts.bridge)} masquerade`] : [];
  const lines = [
    `table ip ${table} {}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    '  map services {', '    type ipv4_addr . inet_proto . inet_service : verdict', ...elements(c.services), '  }',
    '  map published {', '    type inet_proto . inet_service : verdict', ...elements(c.published), '  }',
    '  set no-endpoints {', '    type ipv4_addr . inet_proto . inet_service', ...elements(c.noEndpoints), '  }',
    '  set no-endpoints-published {', '    type inet_proto . inet_service', ...elements(c.noEndpointsPublished), '  }',
    ...chain('prerouting', ['type nat hook prerouting priority dstnat; policy accept;', 'jump dispatch']),
    ...chain('output', ['type nat hook output priority -100; policy accept;', 'jump dispatch']),
    ...chain('dispatch', [
      'ip daddr . meta l4proto . th dport vmap @services',
      // Loopback sources cannot be DNATed off the node (martians): the mesh serves node addresses.
      'fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @published',
    ]),
    ...c.chains,
    ...chain('postrouting', ['type nat hook postrouting priority srcnat; policy accept;', `meta mark & ${mark} == ${mark} masquerade`, ...hairpin]),
    ...chain('filter-forward', ['type filter hook forward priority filter; policy accept;', reject('no-endpoints', false)]),
    ...chain('filter-output', ['type filter hook output priority filter; policy accept;', reject('no-endpoints', false)]),
    ...chain('filter-input', ['type filter hook input priority filter; policy accept;', reject('no-endpoints-published', true)]),
    '}',
    '',
  ];
  return { text: lines.join('\n'), conflicts: c.conflicts };
}

/** The transaction that removes the table (tests, `flotilla agent --clean`): absent is fine. */
export function renderRemoval(table = DEFAULT_TABLE): string {
  return `table ip ${table} {}\ndelete table ip ${table}\n`;
}
