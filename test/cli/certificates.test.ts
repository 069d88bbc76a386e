/**
 * `flotilla ca status|rotate` and `node rotate-cert` against a fake client: the lines they
 * print, the progress of a rotation followed to its end, and argument errors.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../../src/cli/program.js';
import type { CaStatus } from '../../src/client/api-client.js';
import { formatCaStatus, rotationLine } from '../../src/cli/commands/ca.js';
import { FakeClient, fakeDeps } from './fake-client.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const idle: CaStatus = { trusted: [{ fingerprint: A, subject: 'CN=flotilla cluster CA', notAfter: '2036-01-01T00:00:00.000Z' }], signer: A, serving: A, retired: [], bundle: '' };
const rotation = (phase: string, renewed: string[]): CaStatus['rotation'] => ({ phase, from: A, to: B, startedAt: 't0', deadline: 't1', renewed, skipped: [] });

/** A fake client that walks through the phases, one per status call. */
class CertClient extends FakeClient {
  rotations: (number | undefined)[] = [];
  rotated: string[] = [];
  private readonly steps: CaStatus[] = [
    { ...idle, signer: B, rotation: rotation('renewing', ['n1']) },
    { ...idle, signer: B, rotation: rotation('renewing', ['n1']) },
    { ...idle, trusted: [{ ...idle.trusted[0]!, fingerprint: B }], signer: B, serving: B, retired: [A], rotation: rotation('retiring', ['n1', 'n2']) },
    { ...idle, trusted: [{ ...idle.trusted[0]!, fingerprint: B }], signer: B, serving: B, retired: [A] },
  ];
  caStatus(): Promise<CaStatus> {
    return Promise.resolve(this.steps.shift() ?? idle);
  }
  rotateCa(d?: number): Promise<CaStatus> {
    this.rotations.push(d);
    return Promise.resolve({ ...idle, signer: B, rotation: rotation('renewing', []) });
  }
  rotateNodeCertificate(node: string): Promise<{ node: string; issuedAt: string; notAfter: string; revocation: string }> {
    this.rotated.push(node);
    return Promise.resolve({ node, issuedAt: '2026-01-01T00:00:00.000Z', notAfter: '2026-01-02T00:00:00.000Z', revocation: `node.${node}` });
  }
}

async function run(argv: string[], client: CertClient): Promise<{ code: number; out: string; err: string }> {
  const { deps, captured } = fakeDeps(client, '', { FLOTILLA_CONFIG: '/nonexistent/flotilla-test.json' });
  const code = await runCli(argv, deps);
  return { code, ...captured };
}

void describe('ca commands', () => {
  void it('formats the status and the progress lines', () => {
    assert.deepEqual(formatCaStatus(idle), ['trusted  aaaaaaaaaaaaaaaa  CN=flotilla cluster CA  until 2036-01-01T00:00:00.000Z  (signs node certificates, signs server certificates)', 'rotation: none']);
    assert.match(rotationLine({ ...idle, rotation: rotation('renewing', []) }), /^phase renewing \(aaaaaaaaaaaaaaaa -> bbbbbbbbbbbbbbbb, deadline t1\): nodes renewed with the new CA: none yet$/);
    assert.equal(rotationLine({ ...idle, signer: B, retired: [A] }), 'done: the cluster CA is bbbbbbbbbbbbbbbb; retired aaaaaaaaaaaaaaaa');
  });

  void it('ca rotate follows the phases to the end, one line per change', { timeout: 30_000 }, async () => {
    const c = new CertClient([]);
    const r = await run(['ca', 'rotate', '--deadline-seconds', '60'], c);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(c.rotations, [60]);
    const lines = r.out.trimEnd().split('\n');
    assert.equal(lines[0], 'CA rotation begun: new CA bbbbbbbbbbbbbbbb');
    assert.deepEqual(lines.slice(1).map((l) => l.split(' ')[0] + ' ' + (l.split(' ')[1] ?? '')), ['phase renewing', 'phase renewing', 'phase retiring', 'done: the']);
  });

  void it('refuses a bad deadline; node rotate-cert prints what happened', async () => {
    const c = new CertClient([]);
    const bad = await run(['ca', 'rotate', '--deadline-seconds', 'soon'], c);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--deadline-seconds: expected a whole number of seconds >= 1, found "soon"/);
    assert.deepEqual(c.rotations, []);
    const r = await run(['node', 'rotate-cert', 'n1'], c);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(c.rotated, ['n1']);
    assert.match(r.out, /^node\/n1 certificate rotated: .*Revocation node\.n1/);
  });
});
