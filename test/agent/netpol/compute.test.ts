/**
 * The pure parts of the network policies: which tasks a policy selects and what its peers
 * stand for (select.ts), set elements without overlaps (addresses.ts), and the rendered rule
 * set (compute.ts): isolation sets, one rule line per allow rule, the ct/DNS/node exceptions,
 * stable text. The last case feeds the text to the kernel in a test namespace.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderNetpolRemoval, renderNetpolRuleset, type NetpolInput } from '../../../src/agent/netpol/compute.js';
import { inCidr, setElements } from '../../../src/agent/netpol/addresses.js';
import { peerMatch, policyTasks, selects } from '../../../src/agent/netpol/select.js';
import { service, task } from '../../controllers/fixtures.js';
import { NodeNamespace } from '../../helpers/netns.js';
import { policy, ptask } from './fixtures.js';

const DB = ptask('db', '10.88.2.5', { node: 'node2', labels: { tier: 'db' } });
const API = ptask('api', '10.88.1.4', { labels: { tier: 'api' } });
const WEB = ptask('web', '10.88.1.7', { labels: { tier: 'web' } });
const OTHER = ptask('db', '10.88.3.9', { namespace: 'shop' });
const TASKS = [DB, API, WEB, OTHER];
const DB_FROM_API = policy('db-from-api', { selector: { services: ['db'] }, ingress: [{ from: [{ service: 'api' }], ports: [8080] }] });

/** The lines of a chain in rendered text. */
function chainOf(text: string, name: string): string[] {
  const start = text.indexOf(`  chain ${name} {`);
  const end = text.indexOf('  }', start);
  return text.slice(start, end).split('\n').slice(1).map((l) => l.trim()).filter((l) => l !== '');
}

/** The elements of a set in rendered text ([] when it has none). */
function setOf(text: string, name: string): string[] {
  const start = text.indexOf(`  set ${name} {`);
  assert.ok(start >= 0, `no set ${name}`);
  const body = text.slice(start, text.indexOf('  }', start));
  const m = /elements = \{ (.*) \}/.exec(body);
  return m === null ? [] : (m[1] as string).split(', ');
}

void describe('policy selection', () => {
  void it('selects by service and/or labels, in its own namespace only', () => {
    assert.deepEqual(TASKS.filter((t) => selects(DB_FROM_API, t)), [DB]);
    const byLabel = policy('p', { selector: { labels: { tier: 'db' } } });
    assert.deepEqual(TASKS.filter((t) => selects(byLabel, t)), [DB]);
    const both = policy('p', { selector: { services: ['db'], labels: { tier: 'x' } } });
    assert.deepEqual(TASKS.filter((t) => selects(both, t)), []);
    assert.deepEqual(TASKS.filter((t) => selects(policy('p', { selector: { services: ['db'] } }, 'shop'), t)), [OTHER]);
  });
  void it('peers: service, labels, namespace (alone or narrowing), cidr', () => {
    const ips = (peer: Parameters<typeof peerMatch>[1]): string[] => {
      const m = peerMatch('default', peer);
      return m.kind === 'cidr' ? [m.cidr] : TASKS.filter((t) => m.match(t)).map((t) => t.ip);
    };
    assert.deepEqual(ips({ service: 'api' }), [API.ip]);
    assert.deepEqual(ips({ labels: { tier: 'web' } }), [WEB.ip]);
    assert.deepEqual(ips({ namespace: 'shop' }), [OTHER.ip]);
    assert.deepEqual(ips({ service: 'db', namespace: 'shop' }), [OTHER.ip]);
    assert.deepEqual(ips({ service: 'db' }), [DB.ip]);
    assert.deepEqual(ips({ cidr: '10.0.0.0/8' }), ['10.0.0.0/8']);
  });
  void it('policyTasks: live tasks with an address; service labels under task labels', () => {
    const svc = service('db');
    svc.metadata.labels = { tier: 'db', team: 'a' };
    const running = task(svc, 1, 'running', { node: 'n1', name: 'r' });
    running.status = { ...running.status!, ip: '10.88.0.2' };
    running.metadata.labels = { ...running.metadata.labels, team: 'b' };
    const failed = task(svc, 2, 'failed', { node: 'n1', name: 'f' });
    failed.status = { ...failed.status!, ip: '10.88.0.3' };
    const noIp = task(svc, 3, 'starting', { node: 'n1', name: 'n' });
    const out = policyTasks([running, failed, noIp], [svc]);
    assert.equal(out.length, 1);
    assert.equal(out[0]?.ip, '10.88.0.2');
    assert.equal(out[0]?.labels.tier, 'db');
    assert.equal(out[0]?.labels.team, 'b');
  });
});

void describe('set elements', () => {
  void it('normalizes CIDRs and drops what another element covers', () => {
    assert.deepEqual(setElements(['10.88.1.4', '10.88.0.0/16', '10.1.2.3/8', '10.88.1.4', '192.168.1.1', '192.168.1.0/31']), ['10.0.0.0/8', '192.168.1.0/31']);
    assert.deepEqual(setElements(['10.0.0.2', '10.0.0.1']), ['10.0.0.1', '10.0.0.2']);
    assert.ok(inCidr('10.88.1.4', '10.88.0.0/16'));
    assert.ok(!inCidr('10.89.1.4', '10.88.0.0/16'));
  });
});

void describe('rendered rule set', () => {
  const input = (over: Partial<NetpolInput> = {}): NetpolInput => ({ policies: [DB_FROM_API], tasks: TASKS, nodeAddresses: ['172.31.250.11', '172.31.250.12'], ...over });

  void it('no policy: nothing isolated, the chains only accept established traffic and refuse nothing else', () => {
    const text = renderNetpolRuleset(input({ policies: [] }));
    assert.deepEqual(setOf(text, 'ingress-isolated'), []);
    assert.deepEqual(setOf(text, 'egress-isolated'), []);
    assert.deepEqual(chainOf(text, 'forward'), [
      'type filter hook forward priority filter; policy accept;',
      'ct state established,related accept',
      'ip saddr @egress-isolated jump egress',
      'ip daddr @ingress-isolated jump ingress',
    ]);
  });
  void it('db from api: db isolated for ingress, one accept line with api addresses and the port', () => {
    const text = renderNetpolRuleset(input());
    assert.deepEqual(setOf(text, 'ingress-isolated'), [DB.ip]);
    assert.deepEqual(setOf(text, 'egress-isolated'), []);
    assert.deepEqual(setOf(text, 'p0-sel'), [DB.ip]);
    assert.deepEqual(setOf(text, 'p0-i0'), [API.ip]);
    assert.deepEqual(setOf(text, 'nodes'), ['172.31.250.11', '172.31.250.12']);
    assert.deepEqual(chainOf(text, 'ingress'), [
      'ip saddr @nodes accept',
      '# default/db-from-api',
      'ip daddr @p0-sel ip saddr @p0-i0 meta l4proto { tcp, udp } th dport { 8080 } accept',
      'meta l4proto tcp reject with tcp reset',
      'reject',
    ]);
    assert.equal(text.split('\n')[0], 'table ip flotilla-netpol {}');
    assert.equal(text.split('\n')[1], 'delete table ip flotilla-netpol');
  });
  void it('policies union: a second policy selecting db adds its rules; any-peer and any-port rules', () => {
    const more = policy('db-open-9000', { selector: { labels: { tier: 'db' } }, ingress: [{ ports: [9000] }, { from: [{ cidr: '192.168.0.0/24' }] }] });
    const text = renderNetpolRuleset(input({ policies: [more, DB_FROM_API] }));
    const lines = chainOf(text, 'ingress');
    assert.ok(lines.includes('ip daddr @p1-sel meta l4proto { tcp, udp } th dport { 9000 } accept'), lines.join('\n'));
    assert.ok(lines.includes('ip daddr @p1-sel ip saddr @p1-i1 accept'), lines.join('\n'));
    assert.deepEqual(setOf(text, 'p1-i1'), ['192.168.0.0/24']);
    assert.ok(lines.indexOf('# default/db-from-api') < lines.indexOf('# default/db-open-9000'), 'sorted by name');
  });
  void it('ingress [] denies all: isolated with no accept line; a peer without tasks adds no line', () => {
    const text = renderNetpolRuleset(input({ policies: [policy('deny', { selector: { services: ['db'] }, ingress: [] }), policy('ghost', { selector: { services: ['web'] }, ingress: [{ from: [{ service: 'nobody' }] }] })] }));
    assert.deepEqual(setOf(text, 'ingress-isolated'), [DB.ip, WEB.ip].sort());
    assert.deepEqual(chainOf(text, 'ingress').filter((l) => l.includes('accept')), ['ip saddr @nodes accept']);
  });
  void it('egress only for policies with an egress list; DNS to the node stays allowed', () => {
    const text = renderNetpolRuleset(input({ policies: [policy('web-out', { selector: { services: ['web'] }, egress: [{ to: [{ service: 'api' }], ports: [80] }] }), DB_FROM_API] }));
    assert.deepEqual(setOf(text, 'egress-isolated'), [WEB.ip]);
    assert.deepEqual(setOf(text, 'ingress-isolated'), [DB.ip]);
    assert.deepEqual(chainOf(text, 'egress'), [
      '# default/web-out',
      'ip saddr @p1-sel ip daddr @p1-e0 meta l4proto { tcp, udp } th dport { 80 } return',
      'meta l4proto tcp reject with tcp reset',
      'reject',
    ]);
    assert.ok(chainOf(text, 'input').includes('ip saddr @egress-isolated meta l4proto { tcp, udp } th dport 53 accept'));
  });
  void it('is stable: same input, same text, whatever the order of policies and tasks', () => {
    const a = renderNetpolRuleset(input({ policies: [DB_FROM_API, policy('x', { selector: { services: ['web'] }, ingress: [] })] }));
    const b = renderNetpolRuleset(input({ policies: [policy('x', { selector: { services: ['web'] }, ingress: [] }), DB_FROM_API], tasks: [...TASKS].reverse() }));
    assert.equal(a, b);
    assert.equal(renderNetpolRemoval('t'), 'table ip t {}\ndelete table ip t\n');
  });
});

void describe('the kernel accepts the rule set (test netns)', () => {
  let ns: NodeNamespace | undefined;
  after(async () => { await ns?.stop(); });
  void it('applies twice (replace), then the removal', async () => {
    ns = await NodeNamespace.create('npc');
    const text = renderNetpolRuleset({
      policies: [DB_FROM_API, policy('web-out', { selector: { services: ['web'] }, egress: [] }), policy('cidr', { selector: { labels: { tier: 'db' } }, ingress: [{ from: [{ cidr: '10.1.2.3/8' }, { namespace: 'shop' }] }] })],
      tasks: TASKS, nodeAddresses: ['172.31.250.11'],
    });
    for (let i = 0; i < 2; i++) {
      const r = await ns.run(['sh', '-c', `nft -f - <<'EOF'\n${text}EOF`]);
      assert.equal(r.code, 0, r.stderr);
    }
    const listed = await ns.run(['nft', 'list', 'table', 'ip', 'flotilla-netpol']);
    assert.match(listed.stdout, /10\.0\.0\.0\/8/);
    const gone = await ns.run(['sh', '-c', `nft -f - <<'EOF'\n${renderNetpolRemoval()}EOF`]);
    assert.equal(gone.code, 0, gone.stderr);
    assert.notEqual((await ns.run(['nft', 'list', 'table', 'ip', 'flotilla-netpol'])).code, 0);
  });
});
