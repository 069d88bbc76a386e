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

/** One service: its VIP, ports and the addresses of its ready tasks. */
export interface LbService {
  /** `namespace/name`. */
  ref: string;
  vip?: string;
  ports: LbPort[];
  /** Addresses of ready tasks (any node). */
  backends: string[];
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

function chain(name: string, lines: string[]): string[] {
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

function collect(services: readonly LbService[], mark: string): Collected {
  const c: Collected = { services: [], published: [], noEndpoints: [], noEndpointsPublished: [], chains: [], conflicts: [] };
  const publishedBy = new Map<string, string>();
  for (const s of [...services].sort((a, b) => a.ref.localeCompare(b.ref))) {
    const backends = [...new Set(s.backends)].sort();
    for (const p of s.ports) {
      const id = chainId(s.ref, p);
      let publish = p.publish;
      if (publish !== undefined) {
        const holder = publishedBy.get(`${p.protocol}/${publish}`);
        if (holder !== undefined) {
          c.conflicts.push(`${p.protocol} port ${publish}: published by ${holder} and ${s.ref}; ${s.ref} is not published`);
          publish = undefined;
        } else publishedBy.set(`${p.protocol}/${publish}`, s.ref);
      }
      if (backends.length === 0) {
        if (s.vip !== undefined) c.noEndpoints.push(`${s.vip} . ${p.protocol} . ${p.port}`);
        if (publish !== undefined) c.noEndpointsPublished.push(`${p.protocol} . ${publish}`);
        continue;
      }
      const map = backends.map((ip, i) => `${i} : ${ip} . ${p.targetPort}`).join(', ');
      c.chains.push(...chain(`svc-${id}`, [`# ${s.ref} ${p.protocol}/${p.port} -> ${p.targetPort}`, `meta l4proto ${p.protocol} dnat ip to numgen inc mod ${backends.length} map { ${map} }`]));
      if (s.vip !== undefined) c.services.push(`${s.vip} . ${p.protocol} . ${p.port} : goto svc-${id}`);
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
