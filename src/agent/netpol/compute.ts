/**
 * The network policy rule set of one node, computed purely from the policies, every live task
 * of the cluster (policyTasks) and the node addresses (STYLE.md 5): the same input gives the
 * same text, so the applier skips writes that change nothing.
 *
 * The text is ONE `nft -f` transaction (create the table if absent, delete it, define it again):
 * atomic, and connections already established stay up (conntrack, `ct state` first).
 *
 *   forward (filter; after prerouting, so after the load balancer's DNAT: VIPs and published
 *            ports are checked against the task that really gets the packet; bridged traffic
 *            between tasks of one node passes it too: br_netfilter, bridge-nf-call-iptables=1)
 *     ct state established,related accept
 *     ip saddr @egress-isolated jump egress      egress: allowed ─► return; else reject
 *     ip daddr @ingress-isolated jump ingress    ingress: node address ─► accept; allowed ─► accept; else reject
 *   input (filter): traffic of an egress-isolated task to the node itself:
 *     ct established,related accept; DNS (port 53: the node's resolver) accept; jump egress
 *   Per policy k (sorted by namespace/name): set p<k>-sel (its tasks), per rule j a set of
 *   peers p<k>-i<j> / p<k>-e<j> (task addresses and CIDRs), and one rule line.
 *   Traffic from the node to its own tasks (probes) never passes forward: it stays allowed.
 */
import type { NetworkPolicy, NetworkPolicyRule } from '../../api/kinds.js';
import { chain } from '../lb/ruleset.js';
import { setElements } from './addresses.js';
import { peerMatch, selects, type PolicyTask } from './select.js';

/** What the rule set is made from. */
export interface NetpolInput {
  policies: readonly NetworkPolicy[];
  /** Every live task of the cluster with an address (policyTasks). */
  tasks: readonly PolicyTask[];
  /**
   * Addresses of every node: trusted sources. The routing mesh masquerades a connection to the
   * node of its task after the entry node checked the real client; node processes are trusted.
   */
  nodeAddresses: readonly string[];
}

/** Node facts the text depends on. */
export interface NetpolRulesetOptions {
  /** nft table (family ip). Default `flotilla-netpol`. */
  table?: string;
}

/** The default table of the network policies (apart from the load balancer's `flotilla`). */
export const NETPOL_TABLE = 'flotilla-netpol';

/** Sets and rule lines collected from the policies. */
interface Collected {
  sets: string[];
  ingress: string[];
  egress: string[];
  ingressIsolated: Set<string>;
  egressIsolated: Set<string>;
}

function set(name: string, elements: string[], interval: boolean): string[] {
  return [
    `  set ${name} {`,
    '    type ipv4_addr',
    ...(interval ? ['    flags interval'] : []),
    ...(elements.length > 0 ? [`    elements = { ${elements.join(', ')} }`] : []),
    '  }',
  ];
}

/** The tasks, and their addresses by `namespace/service` (service peers are the common case). */
interface TaskIndex {
  all: readonly PolicyTask[];
  byService: Map<string, string[]>;
}

function indexTasks(tasks: readonly PolicyTask[]): TaskIndex {
  const byService = new Map<string, string[]>();
  for (const t of tasks) {
    const k = `${t.namespace}/${t.service}`;
    const ips = byService.get(k);
    if (ips === undefined) byService.set(k, [t.ip]);
    else ips.push(t.ip);
  }
  return { all: tasks, byService };
}

/** The peer addresses of a rule (task addresses and CIDRs); undefined when it names none (any peer). */
function peerElements(ns: string, rule: NetworkPolicyRule, direction: 'from' | 'to', tasks: TaskIndex): string[] | undefined {
  const peers = rule[direction] ?? [];
  if (peers.length === 0) return undefined;
  const out: string[] = [];
  for (const p of peers) {
    if (p.service !== undefined) {
      out.push(...(tasks.byService.get(`${p.namespace ?? ns}/${p.service}`) ?? []));
      continue;
    }
    const m = peerMatch(ns, p);
    if (m.kind === 'cidr') out.push(m.cidr);
    else for (const t of tasks.all) if (m.match(t)) out.push(t.ip);
  }
  return setElements(out);
}

function portsMatch(rule: NetworkPolicyRule): string {
  const ports = [...new Set(rule.ports ?? [])].sort((a, b) => a - b);
  return ports.length === 0 ? '' : ` meta l4proto { tcp, udp } th dport { ${ports.join(', ')} }`;
}

/** Adds policy k's sets and rule lines; a rule whose peers resolve to nothing is left out. */
function collectPolicy(c: Collected, k: number, p: NetworkPolicy, tasks: TaskIndex): void {
  const ns = p.metadata.namespace;
  const selected = tasks.all.filter((t) => selects(p, t)).map((t) => t.ip);
  c.sets.push(`  # ${ns}/${p.metadata.name}`, ...set(`p${k}-sel`, setElements(selected), false));
  const directions = [['ingress', p.spec.ingress, 'from', 'i'], ['egress', p.spec.egress, 'to', 'e']] as const;
  for (const [dir, rules, side, letter] of directions) {
    if (rules === undefined) continue;
    for (const ip of selected) (dir === 'ingress' ? c.ingressIsolated : c.egressIsolated).add(ip);
    const lines = dir === 'ingress' ? c.ingress : c.egress;
    lines.push(`# ${ns}/${p.metadata.name}`);
    rules.forEach((r, j) => {
      const peers = peerElements(ns, r, side, tasks);
      if (peers !== undefined && peers.length === 0) return;
      const own = dir === 'ingress' ? 'daddr' : 'saddr';
      const other = dir === 'ingress' ? 'saddr' : 'daddr';
      let line = `ip ${own} @p${k}-sel`;
      if (peers !== undefined) {
        c.sets.push(...set(`p${k}-${letter}${j}`, peers, true));
        line += ` ip ${other} @p${k}-${letter}${j}`;
      }
      lines.push(`${line}${portsMatch(r)} ${dir === 'ingress' ? 'accept' : 'return'}`);
    });
  }
}

/** Refusal of what no policy allows: TCP gets a reset (fails at once), anything else ICMP. */
const REFUSE = ['meta l4proto tcp reject with tcp reset', 'reject'];

/** Renders the whole transaction; see the file comment. */
export function renderNetpolRuleset(input: NetpolInput, opts: NetpolRulesetOptions = {}): string {
  const table = opts.table ?? NETPOL_TABLE;
  const c: Collected = { sets: [], ingress: [], egress: [], ingressIsolated: new Set(), egressIsolated: new Set() };
  const policies = [...input.policies].sort((a, b) => a.metadata.namespace.localeCompare(b.metadata.namespace) || a.metadata.name.localeCompare(b.metadata.name));
  const index = indexTasks(input.tasks);
  policies.forEach((p, k) => collectPolicy(c, k, p, index));
  const lines = [
    `table ip ${table} {}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    ...set('nodes', setElements(input.nodeAddresses), true),
    ...set('ingress-isolated', setElements(c.ingressIsolated), false),
    ...set('egress-isolated', setElements(c.egressIsolated), false),
    ...c.sets,
    ...chain('forward', [
      'type filter hook forward priority filter; policy accept;',
      'ct state established,related accept',
      'ip saddr @egress-isolated jump egress',
      'ip daddr @ingress-isolated jump ingress',
    ]),
    ...chain('input', [
      'type filter hook input priority filter; policy accept;',
      'ct state established,related accept',
      'ip saddr @egress-isolated meta l4proto { tcp, udp } th dport 53 accept',
      'ip saddr @egress-isolated jump egress',
    ]),
    ...chain('ingress', ['ip saddr @nodes accept', ...c.ingress, ...REFUSE]),
    ...chain('egress', [...c.egress, ...REFUSE]),
    '}',
    '',
  ];
  return lines.join('\n');
}

/** The transaction that removes the table (agent stop, tests): absent is fine. */
export function renderNetpolRemoval(table = NETPOL_TABLE): string {
  return `table ip ${table} {}\ndelete table ip ${table}\n`;
}
