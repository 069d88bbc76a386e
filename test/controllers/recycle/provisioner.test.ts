/**
 * The `--node-provisioner` hook as a real child process (src/controllers/recycle/provisioner.ts):
 * argv COMMAND NODE_NAME (COMMAND may carry arguments), env FLOTILLA_NODE and
 * FLOTILLA_NODE_LABELS; exit 0 is ok, a non-zero exit fails with the output's tail, a hook past
 * its timeout is killed with what it started (its process group) and fails.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { commandProvisioner } from '../../../src/controllers/recycle/provisioner.js';

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

void describe('provisioner hook (child process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-hook-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const script = (name: string, body: string): string => {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  };

  void it('passes the name as the last argument and the labels in the environment; exit 0 is ok', async () => {
    const out = join(dir, 'args.txt');
    const hook = commandProvisioner(`${script('ok.sh', `echo "$@|$FLOTILLA_NODE|$FLOTILLA_NODE_LABELS" > ${out}; echo asked`)} --pool web`, 10_000);
    const r = await hook.provision({ name: 'n1', labels: { zone: 'a', ssd: 'true' } });
    assert.equal(r.ok, true, r.message);
    assert.match(r.message, /exited 0 after [\d.]+s: asked$/);
    assert.equal(readFileSync(out, 'utf8').trim(), '--pool web n1|n1|zone=a,ssd=true');
  });

  void it('a non-zero exit fails, with the tail of its output', async () => {
    const r = await commandProvisioner(script('bad.sh', 'echo no capacity left >&2; exit 3'), 10_000).provision({ name: 'n1', labels: {} });
    assert.equal(r.ok, false);
    assert.match(r.message, /exited 3 after .*: no capacity left/);
  });

  void it('a hook past its timeout is killed with its children, and fails', async () => {
    const late = join(dir, 'late.txt');
    const started = Date.now();
    const r = await commandProvisioner(script('slow.sh', `(sleep 2; touch ${late}) & sleep 30`), 300).provision({ name: 'n1', labels: {} });
    assert.equal(r.ok, false);
    assert.match(r.message, /timed out \(limit 0.3s\)/);
    assert.ok(Date.now() - started < 10_000);
    await delay(2_500);
    assert.equal(existsSync(late), false, 'its background child was killed too');
  });

  void it('a command that does not exist fails', async () => {
    const r = await commandProvisioner(join(dir, 'missing'), 10_000).provision({ name: 'n1', labels: {} });
    assert.equal(r.ok, false);
    assert.match(r.message, /exited 127/);
  });
});
