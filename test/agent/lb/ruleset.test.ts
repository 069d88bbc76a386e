/**
 * The nftables rule set of the service load balancer: pure rendering (what goes to nft for a
 * view, weighted canary groups included), and the same text accepted twice by the real kernel
 * in a namespace the test makes.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderRuleset, renderRemoval, shares, type LbService } from '../../../src/agent/lb/ruleset.js';
import { lbServices } from '../../../src/agent/lb/balancer.js';
import { NodeNamespace } from '../../helpers/netns.js';

const web: LbService = { ref: 'default/web', vip: '10.96.0.1', ports: [{ port: 80, targetPort: 8080, protocol: 'tcp', publish: 30080 }], backends: ['10.88.2.2', '10.88.1.2', '10.88.3.2'] };
const weighted: LbService = { ref: 'default/cn', vip: '10.96.0.3', ports: [{ port: 80, targetPort: 8080, protocol: 'tcp' }], backends: ['10.88.1.7', '10.88.2.7', '10.88.3.7'], groups: [{ weight: 75, backends: ['10.88.1.7', '10.88.2.7'] }, { weight: 25, backends: ['10.88.3.7'] }] };
const empty: LbService = { ref: 'default/empty', vip: '10.96.0.2', ports: [{ port: 80, targetPort: 8080, protocol: 'tcp', publish: 30081 }, { port: 53, targetPort: 5353, protocol: 'udp' }], backends: [] };

describe('renderRuleset', { timeout: 20_000 }, () => {
  it('is one transaction that recreates the table', () => {
    const { text } = renderRuleset([web]);
    const lines = text.split('\n');
    assert.deepEqual(lines.slice(0, 3), ['table ip flotilla {}', 'delete table ip flotilla', 'table ip flotilla {']);
    assert.equal(renderRuleset([web], { table: 'flt-n1' }).text.split('\n')[1], 'delete table ip flt-n1');
  });

  it('DNATs VIP:port round-robin over every ready task, sorted, to the target port', () => {
    const { text } = renderRuleset([web]);
    assert.match(text, /10\.96\.0\.1 \. tcp \. 80 : goto svc-[0-9a-f]{12}/);
    assert.match(text, /meta l4proto tcp dnat ip to numgen inc mod 3 map \{ 0 : 10\.88\.1\.2 \. 8080, 1 : 10\.88\.2\.2 \. 8080, 2 : 10\.88\.3\.2 \. 8080 \}/);
  });

  it('publishes on every local address through a chain that marks for masquerade', () => {
    const { text } = renderRuleset([web]);
    assert.match(text, /tcp \. 30080 : goto mesh-[0-9a-f]{12}/);
    assert.match(text, /chain mesh-[0-9a-f]{12} \{\n\s+meta mark set meta mark or 0x4000\n\s+goto svc-/);
    assert.match(text, /fib daddr type local ip daddr != 127\.0\.0\.0\/8 meta l4proto \. th dport vmap @published/);
    assert.match(text, /meta mark & 0x4000 == 0x4000 masquerade/);
  });

  it('rejects VIPs and published ports without ready tasks instead of DNATing them', () => {
    const { text } = renderRuleset([empty]);
    assert.match(text, /set no-endpoints \{[^}]*elements = \{ 10\.96\.0\.2 \. tcp \. 80,\s+10\.96\.0\.2 \. udp \. 53 \}/);
    assert.match(text, /set no-endpoints-published \{[^}]*elements = \{ tcp \. 30081 \}/);
    assert.doesNotMatch(text, /numgen/);
  });

  it('masquerades hairpin traffic by subnet, or by bridge when the subnet is unknown', () => {
    assert.match(renderRuleset([web], { localSubnet: '10.88.1.0/24' }).text, /ct status dnat ip saddr 10\.88\.1\.0\/24 ip daddr 10\.88\.1\.0\/24 masquerade/);
    assert.match(renderRuleset([web], { bridge: 'flotilla0' }).text, /ct status dnat oifname "flotilla0" masquerade/);
  });

  it('gives a clashing published port to the first service only and reports it', () => {
    const other: LbService = { ...web, ref: 'team/zz', vip: '10.96.0.9' };
    const r = renderRuleset([other, web]);
    assert.equal(r.conflicts.length, 1);
    assert.match(r.conflicts[0] as string, /30080: published by default\/web and team\/zz/);
    assert.equal(r.text.match(/tcp \. 30080 : goto/g)?.length, 1);
  });

  it('is deterministic whatever the input order', () => {
    assert.equal(renderRuleset([web, empty]).text, renderRuleset([empty, { ...web, backends: [...web.backends].reverse() }]).text);
  });

  it('lbServices keeps services with a VIP or a published port', () => {
    const view = new Map([
      ['default/a', { namespace: 'default', name: 'a', uid: 'u1', vip: '10.96.0.5', ports: [{ port: 80, targetPort: 80, protocol: 'tcp' as const }], endpoints: [{ task: 't1', node: 'n1', ip: '10.88.1.5' }] }],
      ['default/b', { namespace: 'default', name: 'b', uid: 'u2', ports: [{ port: 80, targetPort: 80, protocol: 'tcp' as const }], endpoints: [] }],
    ]);
    assert.deepEqual(lbServices(view), [{ ref: 'default/a', vip: '10.96.0.5', ports: [{ port: 80, targetPort: 80, protocol: 'tcp' }], backends: ['10.88.1.5'] }]);
  });
});

describe('renderRuleset with weighted groups (canary)', () => {
  const canary = (stable: string[], next: string[], weight = 20): LbService => ({
    ref: 'default/canary', vip: '10.96.0.7', ports: [{ port: 80, targetPort: 8080, protocol: 'tcp', publish: 30090 }],
    backends: [...stable, ...next], groups: [{ weight: 100 - weight, backends: stable }, { weight, backends: next }],
  });
  const chainBody = (text: string, name: string): string => new RegExp(`chain ${name} \\{\\n([\\s\\S]*?)\\n  \\}`).exec(text)?.[1] ?? '';

  it('picks a group with numgen random mod 100 over ranges (canary lowest), each group round-robins over its backends', () => {
    const { text } = renderRuleset([canary(['10.88.2.2', '10.88.1.2'], ['10.88.3.2'])]);
    const id = /goto (svc-[0-9a-f]{12})/.exec(text)?.[1] as string;
    assert.match(chainBody(text, id), /numgen random mod 100 vmap \{ 0-19 : goto svc-[0-9a-f]{12}-g1, 20-99 : goto svc-[0-9a-f]{12}-g0 \}/);
    assert.match(chainBody(text, `${id}-g0`), /meta l4proto tcp dnat ip to numgen inc mod 2 map \{ 0 : 10\.88\.1\.2 \. 8080, 1 : 10\.88\.2\.2 \. 8080 \}/);
    assert.match(chainBody(text, `${id}-g1`), /meta l4proto tcp dnat ip to numgen inc mod 1 map \{ 0 : 10\.88\.3\.2 \. 8080 \}/);
    assert.match(text, new RegExp(`chain mesh-[0-9a-f]{12} \\{\\n\\s+meta mark set meta mark or 0x4000\\n\\s+goto ${id}\\n`));
  });

  it('a group without ready backends gives its share to the other: one plain round-robin chain', () => {
    for (const [svc, want] of [[canary(['10.88.1.2'], []), '10.88.1.2'], [canary([], ['10.88.3.2']), '10.88.3.2'], [canary(['10.88.1.2'], ['10.88.3.2'], 0), '10.88.1.2']] as const) {
      const { text } = renderRuleset([svc]);
      assert.doesNotMatch(text, /numgen random|-g[01] /);
      assert.match(text, new RegExp(`dnat ip to numgen inc mod 1 map \\{ 0 : ${want.replace(/\./g, '\\.')} \\. 8080 \\}`));
    }
  });

  it('both groups empty: the no-endpoints reject, no DNAT', () => {
    const { text } = renderRuleset([canary([], [])]);
    assert.match(text, /set no-endpoints \{[^}]*elements = \{ 10\.96\.0\.7 \. tcp \. 80 \}/);
    assert.match(text, /set no-endpoints-published \{[^}]*elements = \{ tcp \. 30090 \}/);
    assert.doesNotMatch(text, /numgen/);
  });

  it('is one transaction and the same text for the same input', () => {
    const a = renderRuleset([canary(['10.88.2.2', '10.88.1.2'], ['10.88.3.2']), web]).text;
    assert.equal(a, renderRuleset([web, canary(['10.88.1.2', '10.88.2.2'], ['10.88.3.2'])]).text);
    assert.equal(a.match(/^delete table/gm)?.length, 1);
  });

  it('shares: 100 buckets by weight (largest remainder), empty groups dropped, all-zero weights equal', () => {
    assert.deepEqual(shares([{ weight: 1, backends: ['a'] }, { weight: 1, backends: ['b'] }, { weight: 1, backends: ['c'] }]).map((g) => g.buckets), [34, 33, 33]);
    assert.deepEqual(shares([{ weight: 80, backends: ['a'] }, { weight: 20, backends: [] }]).map((g) => [g.index, g.buckets]), [[0, 100]]);
    assert.deepEqual(shares([{ weight: 0, backends: ['a'] }, { weight: 0, backends: ['b'] }]).map((g) => g.buckets), [50, 50]);
    assert.deepEqual(shares([{ weight: 99.5, backends: ['a'] }, { weight: 0.5, backends: ['b'] }]).map((g) => g.buckets), [100]);
  });

  it('two services on one VIP and port (a race): the first keeps it, the clash is reported', () => {
    const r = renderRuleset([{ ...web, ref: 'default/web-preview', ports: [{ port: 80, targetPort: 8080, protocol: 'tcp' }] }, web]);
    assert.equal(r.text.match(/10\.96\.0\.1 \. tcp \. 80 : goto/g)?.length, 1);
    assert.match(r.conflicts.join('\n'), /10\.96\.0\.1 \. tcp \. 80: VIP of default\/web and default\/web-preview/);
  });

  it('lbServices carries the groups, and a preview entry is one more service on its previewVip', () => {
    const ports = [{ port: 80, targetPort: 80, protocol: 'tcp' as const }];
    const ep = (ip: string): { task: string; node: string; ip: string } => ({ task: ip, node: 'n1', ip });
    const view = new Map([
      ['default/c', { namespace: 'default', name: 'c', uid: 'u1', vip: '10.96.0.5', ports, endpoints: [ep('10.88.1.5'), ep('10.88.1.6')], groups: [{ revision: 1, weight: 80, endpoints: [ep('10.88.1.5')] }, { revision: 2, weight: 20, endpoints: [ep('10.88.1.6')] }] }],
      ['default/c-preview', { namespace: 'default', name: 'c-preview', uid: 'u1', vip: '10.96.0.6', ports, endpoints: [ep('10.88.1.7')], previewOf: 'c' }],
    ]);
    assert.deepEqual(lbServices(view), [
      { ref: 'default/c', vip: '10.96.0.5', ports, backends: ['10.88.1.5', '10.88.1.6'], groups: [{ weight: 80, backends: ['10.88.1.5'] }, { weight: 20, backends: ['10.88.1.6'] }] },
      { ref: 'default/c-preview', vip: '10.96.0.6', ports, backends: ['10.88.1.7'] },
    ]);
  });
});

describe('the kernel accepts the rule set', { timeout: 30_000 }, () => {
  let ns: NodeNamespace | undefined;
  after(async () => { await ns?.stop(); });

  it('applies, re-applies atomically and removes in a test namespace', async () => {
    ns = await NodeNamespace.create('lb');
    const text = renderRuleset([web, empty, weighted], { bridge: 'flotilla0' }).text;
    for (let i = 0; i < 2; i++) {
      const r = await ns.run(['sh', '-c', `printf '%s' "$0" | nft -f -`, text]);
      assert.equal(r.code, 0, r.stderr);
    }
    const listed = await ns.run(['nft', 'list', 'table', 'ip', 'flotilla']);
    assert.match(listed.stdout, /numgen inc mod 3/);
    assert.match(listed.stdout, /numgen random mod 100 vmap \{ 0-24 : goto svc-[0-9a-f]{12}-g1, 25-99 : goto svc-[0-9a-f]{12}-g0 \}/);
    const rm = await ns.run(['sh', '-c', `printf '%s' "$0" | nft -f -`, renderRemoval()]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal((await ns.run(['nft', 'list', 'tables'])).stdout.trim(), '');
  });
});
