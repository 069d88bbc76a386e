/**
 * `flotilla image sign|verify` through the CLI binary (bin/flotilla, the build in dist/) against
 * a real registry, with openssl keys; and what skopeo (containers/image, another cosign-format
 * reader) sees of the signatures. Debian's skopeo has sigstore verification patched out
 * ("sigstore disabled"), so it shows that the signature is found where cosign looks for it,
 * not that it verifies; the cosign test vector in test/image-trust/payload.test.ts does that.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { buildBusyboxImage, type PushedImage } from '../helpers/images.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { opensslKeyPair, type KeyPairFiles } from '../helpers/trust-keys.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/flotilla');
const T = { timeout: 180_000 };

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? 137, stdout, stderr }); });
  });
}

void describe('flotilla image sign and verify (CLI binary)', T, () => {
  let reg: TestRegistry;
  let dir: string;
  let key: KeyPairFiles;
  let other: KeyPairFiles;
  let img: PushedImage;
  let plain: PushedImage;

  before(async () => {
    reg = await startRegistry();
    dir = await mkdtemp(path.join(tmpdir(), 'trust-cli-'));
    key = opensslKeyPair(dir, 'k');
    other = opensslKeyPair(dir, 'other');
    img = await buildBusyboxImage(reg.host, 'demo/app', '1');
    plain = await buildBusyboxImage(reg.host, 'demo/plain', '1', { env: { P: '1' } });
  });
  after(async () => {
    await reg?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  void it('verify before signing: exit 1 and the reason', T, async () => {
    const r = await cli(['image', 'verify', '--key', key.publicFile, img.ref]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^error: ${reg.host}/demo/app@${img.digest} has no signature by key sha256:[0-9a-f]{16} \\(${key.publicFile}\\): no signatures found\\n$`));
  });

  void it('sign, then verify: exit 0 and a line naming digest and key; another key: exit 1', T, async () => {
    const s = await cli(['image', 'sign', '--key', key.privateFile, img.ref]);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, new RegExp(`^signed ${reg.host}/demo/app@${img.digest} with key sha256:[0-9a-f]{16} `));
    const v = await cli(['image', 'verify', '--key', key.publicFile, img.ref]);
    assert.equal(v.code, 0, v.stderr);
    const fp = /with key (sha256:[0-9a-f]{16})/.exec(s.stdout)?.[1] ?? '?';
    assert.equal(v.stdout, `verified ${reg.host}/demo/app@${img.digest}: signed by key ${fp} (${key.publicFile})\n`);
    const w = await cli(['image', 'verify', '--key', other.publicFile, img.ref]);
    assert.equal(w.code, 1);
    assert.match(w.stderr, /1 signature found, none by this key/);
  });

  void it('bad keys and usage: clear errors', T, async () => {
    const enc = path.join(dir, 'cosign.key');
    await writeFile(enc, '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\neyJrZGYiOnt9fQ==\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n');
    const c = await cli(['image', 'sign', '--key', enc, img.ref]);
    assert.equal(c.code, 1);
    assert.match(c.stderr, /cosign's encrypted private key format is not supported yet: .*openssl ecparam/);
    const p = await cli(['image', 'verify', '--key', key.privateFile, img.ref]);
    assert.match(p.stderr, /expected a PEM public key \(BEGIN PUBLIC KEY\), found a private key/);
    const m = await cli(['image', 'sign', img.ref]);
    assert.equal(m.code, 2);
    assert.match(m.stderr, /required option '--key <file>'/);
    const f = await cli(['image', 'sign', '--key', path.join(dir, 'missing.pem'), img.ref]);
    assert.equal(f.code, 2);
    assert.match(f.stderr, /--key .*missing\.pem: cannot read it: ENOENT/);
  });

  void it('skopeo (containers/image) finds the signature where cosign keeps it, and none on an unsigned image', T, async () => {
    const regd = path.join(dir, 'registries.d');
    await mkdir(regd, { recursive: true });
    await writeFile(path.join(regd, 'default.yaml'), `docker:\n  ${reg.host}:\n    use-sigstore-attachments: true\n`);
    const policy = path.join(dir, 'policy.json');
    await writeFile(policy, JSON.stringify({ default: [{ type: 'reject' }], transports: { docker: { [reg.host]: [{ type: 'sigstoreSigned', keyPath: key.publicFile, signedIdentity: { type: 'matchRepository' } }] } } }));
    const copy = async (ref: string): Promise<string> => {
      const args = ['--registries.d', regd, '--policy', policy, 'copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${path.join(dir, 'out')}:x`];
      return promisify(execFile)('skopeo', args).then(() => 'copied', (e: { stderr?: string }) => e.stderr ?? '');
    };
    const signed = await copy(img.ref);
    assert.doesNotMatch(signed, /no signature exists/, 'the signature is found');
    assert.match(signed, /copied|sigstore disabled/);
    assert.match(await copy(plain.ref), /A signature was required, but no signature exists/);
  });
});
