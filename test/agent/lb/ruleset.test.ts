/**
 * The nftables rule set of the service load balancer: pure rendering (what goes to nft for a
 * view), and the same text accepted twice by the real kernel in a namespace the test makes.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderRuleset, renderRemoval, type LbService } from '../../../src/agent/lb/ruleset.js';
import { lbServices } from '../../../src/agent/lb/balancer.js';
import { NodeNamespace } from '../../helpers/netns.js';

const web: LbService = { ref: 'default/web', vip: '10.96.0.1', ports: [{ port: 80, targetPort: 8080, protocol: 'tcp', publish: 30080 }], backends: ['10.88.2.2', '10.88.1.2', '10.88.3.2'] };
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

describe('the kernel accepts the rule set', { timeout: 30_000 }, () => {
  let ns: NodeNamespace | undefined;
  after(async () => { await ns?.stop(); });

  it('applies, re-applies atomically and removes in a test namespace', async () => {
    ns = await NodeNamespace.create('lb');
    const text = renderRuleset([web, empty], { bridge: 'flotilla0' }).text;
    for (let i = 0; i < 2; i++) {
      const r = await ns.run(['sh', '-c', `printf '%s' "$0" | nft -f -`, text]);
      assert.equal(r.code, 0, r.stderr);
    }
    const listed = await ns.run(['nft', 'list', 'table', 'ip', 'flotilla']);
    assert.match(listed.stdout, /numgen inc mod 3/);
    const rm = await ns.run(['sh', '-c', `printf '%s' "$0" | nft -f -`, renderRemoval()]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal((await ns.run(['nft', 'list', 'tables'])).stdout.trim(), '');
  });
});
