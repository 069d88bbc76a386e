/**
 * The NetworkPolicy part of `flotilla describe networkpolicy NAME`: the tasks the policy
 * selects now (name, node, address) and, per rule, its ports and the peers it allows with the
 * addresses they stand for now. Pure: the command fetches the tasks, this renders.
 */
import type { NetworkPolicy, NetworkPolicyRule } from '../../api/kinds.js';
import { peerMatch, selects, type PolicyTask } from '../../agent/netpol/select.js';
import { renderTable } from './table.js';

/** The sections (title, indented lines) describing what the policy does now. */
export function policySections(p: NetworkPolicy, tasks: readonly PolicyTask[]): [string, string[]][] {
  const selected = tasks.filter((t) => selects(p, t));
  const table = selected.length === 0 ? ['  <none>'] : renderTable(['NAME', 'NODE', 'IP'], selected.map((t) => [t.name, t.node !== '' ? t.node : '-', t.ip])).trimEnd().split('\n').map((l) => `  ${l}`);
  return [
    [`Selected tasks (${selected.length})`, table],
    ['Ingress', directionLines(p, p.spec.ingress, 'from', tasks)],
    ['Egress', directionLines(p, p.spec.egress, 'to', tasks)],
  ];
}

function directionLines(p: NetworkPolicy, rules: NetworkPolicyRule[] | undefined, side: 'from' | 'to', tasks: readonly PolicyTask[]): string[] {
  if (rules === undefined) return ['  unrestricted by this policy (no list)'];
  if (rules.length === 0) return [`  nothing allowed${side === 'to' ? ' (but DNS to the node)' : ''}`];
  const out: string[] = [];
  rules.forEach((r, i) => {
    const ports = r.ports !== undefined && r.ports.length > 0 ? `ports ${r.ports.join(', ')}` : 'every port';
    out.push(`  rule ${i + 1}: ${ports}`);
    const peers = r[side] ?? [];
    if (peers.length === 0) out.push(`    ${side} anywhere`);
    for (const peer of peers) {
      const m = peerMatch(p.metadata.namespace, peer);
      if (m.kind === 'cidr') {
        out.push(`    ${side} ${m.text}`);
        continue;
      }
      const ips = tasks.filter((t) => m.match(t)).map((t) => t.ip);
      out.push(`    ${side} ${m.text}: ${ips.length > 0 ? ips.join(', ') : '<no task now>'}`);
    }
  });
  return out;
}
