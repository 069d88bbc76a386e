/**
 * The enforcer over a fake source and a fake command runner: one `nft -f -` at start, one per
 * burst of changes (debounced), none when the text is unchanged, a failed apply retried, and
 * the table removed on stop.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkPolicyEnforcer } from '../../../src/agent/netpol/enforcer.js';
import type { NetpolInput } from '../../../src/agent/netpol/compute.js';
import type { NetpolSource } from '../../../src/agent/netpol/source.js';
import { policy, ptask } from './fixtures.js';

class FakeSource implements NetpolSource {
  state: NetpolInput = { policies: [], tasks: [ptask('db', '10.88.0.2')], nodeAddresses: [] };
  private readonly fns = new Set<() => void>();
  input(): NetpolInput { return this.state; }
  onChange(fn: () => void): () => void { this.fns.add(fn); return () => this.fns.delete(fn); }
  change(next: Partial<NetpolInput>): void { this.state = { ...this.state, ...next }; for (const f of this.fns) f(); }
  get listeners(): number { return this.fns.size; }
}

function recorder(failFirst = 0): { calls: { argv: string[]; stdin: string }[]; run: (argv: string[], stdin?: string) => Promise<string> } {
  const calls: { argv: string[]; stdin: string }[] = [];
  let fails = failFirst;
  return {
    calls,
    run: (argv, stdin) => {
      calls.push({ argv, stdin: stdin ?? '' });
      if (argv[0] === 'nft' && fails > 0) { fails--; return Promise.reject(new Error('nft: boom')); }
      return Promise.resolve('');
    },
  };
}

const nftCalls = (calls: { argv: string[]; stdin: string }[]): string[] => calls.filter((c) => c.argv[0] === 'nft').map((c) => c.stdin);

void describe('NetworkPolicyEnforcer', () => {
  void it('applies at start, once per burst, nothing when unchanged, removes the table on stop', async () => {
    const source = new FakeSource();
    const r = recorder();
    const e = new NetworkPolicyEnforcer({ source, run: r.run, debounceMs: 20 });
    await e.start();
    assert.deepEqual(r.calls[0]?.argv, ['sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=1']);
    assert.equal(nftCalls(r.calls).length, 1);
    for (let i = 0; i < 5; i++) source.change({ policies: [policy('p', { selector: { services: ['db'] }, ingress: [{ ports: [1000 + i] }] })] });
    await new Promise((res) => setTimeout(res, 60));
    await e.settled();
    const applied = nftCalls(r.calls);
    assert.equal(applied.length, 2, 'one transaction for the burst');
    assert.match(applied[1] ?? '', /th dport \{ 1004 \}/);
    source.change({ nodeAddresses: [] });
    await new Promise((res) => setTimeout(res, 60));
    await e.settled();
    assert.equal(nftCalls(r.calls).length, 2, 'unchanged text: no nft');
    await e.stop();
    await e.stop();
    assert.equal(source.listeners, 0);
    const last = nftCalls(r.calls).at(-1) ?? '';
    assert.equal(last, 'table ip flotilla-netpol {}\ndelete table ip flotilla-netpol\n');
  });
  void it('retries a failed apply', async () => {
    const source = new FakeSource();
    const r = recorder(1);
    const logs: string[] = [];
    const e = new NetworkPolicyEnforcer({ source, run: r.run, debounceMs: 1, retryMs: 20, log: (m) => logs.push(m) });
    await e.start();
    assert.match(logs[0] ?? '', /applying nftables rules failed/);
    await new Promise((res) => setTimeout(res, 80));
    await e.settled();
    assert.equal(e.lastApplied(), nftCalls(r.calls)[1]);
    await e.stop();
  });
});

void describe('NetworkPolicyEnforcer in a test namespace (real nft)', () => {
  void it('writes its table at start and removes it on stop', async () => {
    const { NodeNamespace } = await import('../../helpers/netns.js');
    const ns = await NodeNamespace.create('npe');
    try {
      const source = new FakeSource();
      source.state = { ...source.state, policies: [policy('db', { selector: { services: ['db'] }, ingress: [] })] };
      const e = new NetworkPolicyEnforcer({ source, execPrefix: ns.prefix, log: () => undefined });
      await e.start();
      const listed = await ns.run(['nft', 'list', 'set', 'ip', 'flotilla-netpol', 'ingress-isolated']);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /10\.88\.0\.2/);
      await e.stop();
      assert.notEqual((await ns.run(['nft', 'list', 'table', 'ip', 'flotilla-netpol'])).code, 0, 'table removed');
    } finally {
      await ns.stop();
    }
  });
});
