/**
 * The layer store and rootfs against a real registry: whiteouts and opaque dirs unpacked
 * and honoured by an overlay mount (and by the copy fallback), ownership, modes and links
 * kept; a tampered blob rejected and discarded; concurrent pulls sharing one download
 * (blob GETs counted at a proxy); gc of unreferenced layers; nothing left mounted or running.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ImagePuller, DigestMismatchError, type PulledImage } from '../../../src/agent/image/index.js';
import { buildBusyboxImage, buildMultiLayerImage, registryBlobPath } from '../../helpers/images.js';
import { runningRegistries, startRegistry, type TestRegistry } from '../../helpers/registry.js';

const T = { timeout: 90_000 };

function mountsUnder(dir: string): string[] {
  return execFileSync('cat', ['/proc/self/mountinfo']).toString().split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(dir));
}

/** Files of a tree as sorted relative paths (for comparing overlay and copy). */
function listTree(root: string): string[] {
  return execFileSync('find', ['.', '-mindepth', '1'], { cwd: root }).toString().trim().split('\n').sort();
}

/** An HTTP proxy in front of the registry that records every request line. */
async function countingProxy(target: string): Promise<{ host: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const up = http.request(`${target}${req.url}`, { method: req.method, headers: { ...req.headers, host: new URL(target).host }, agent }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); agent.destroy(); server.close(() => r()); }),
  };
}

describe('layer store and rootfs', T, () => {
  let reg: TestRegistry;
  let work: string;
  let puller: ImagePuller;
  let ml: { ref: string; digest: string };
  let image: PulledImage;

  before(async () => {
    reg = await startRegistry();
    work = await mkdtemp(path.join(tmpdir(), 'flotilla-store-'));
    puller = new ImagePuller({ dataDir: path.join(work, 'data'), log: () => undefined });
    ml = await buildMultiLayerImage(reg.host, 'demo/ml', '1');
    image = await puller.pull(ml.ref);
  });
  after(async () => {
    await puller?.stop();
    const left = work !== undefined ? mountsUnder(work) : [];
    for (const m of left.reverse()) execFileSync('umount', ['-l', m]);
    if (work !== undefined) await rm(work, { recursive: true, force: true });
    await reg?.stop();
    assert.deepEqual(left, [], 'no mounts left behind');
  });

  test('upper layer unpacked in overlay form: whiteout devices and opaque xattr', T, async () => {
    const upper = image.layers[1];
    assert.ok(upper !== undefined);
    assert.deepEqual([...upper.whiteouts].sort(), ['etc/removed.txt', 'gone-dir']);
    assert.deepEqual(upper.opaques, ['opaque']);
    assert.equal(upper.overlayReady, true);
    const wh = await lstat(path.join(upper.dir, 'etc/removed.txt'));
    assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'whiteout is char device 0:0');
    const xattr = execFileSync('python3', ['-c', 'import os,sys; print(os.getxattr(sys.argv[1], "trusted.overlay.opaque"))', path.join(upper.dir, 'opaque')]).toString().trim();
    assert.equal(xattr, "b'y'");
  });

  test('overlay rootfs: deleted files absent, opaque dir hides lower files, links/owners/modes kept, writes stay in upper', T, async () => {
    const dir = path.join(work, 'task-overlay');
    const rf = await puller.prepareRootfs(image, dir);
    try {
      assert.equal(rf.method, 'overlay');
      assert.deepEqual(mountsUnder(dir), [rf.rootfs]);
      await checkMergedTree(rf.rootfs);
      await writeFile(path.join(rf.rootfs, 'etc/new-by-task'), 'x');
      await rm(path.join(rf.rootfs, 'keep/kept.txt'));
      assert.equal(await readFile(path.join(image.layers[0]?.dir ?? '', 'keep/kept.txt'), 'utf8'), 'kept\n', 'lower layer untouched');
      assert.equal(await readFile(path.join(dir, 'upper/etc/new-by-task'), 'utf8'), 'x');
    } finally {
      await rf.cleanup();
      await rf.cleanup();
    }
    assert.deepEqual(mountsUnder(dir), []);
    await assert.rejects(stat(dir), { code: 'ENOENT' });
  });

  test('copy fallback gives the same tree, and says so', T, async () => {
    const lines: string[] = [];
    const a = await puller.prepareRootfs(image, path.join(work, 'task-a'));
    const b = await puller.prepareRootfs(image, path.join(work, 'task-b'), { forceCopy: true, log: (l) => lines.push(l) });
    try {
      assert.equal(b.method, 'copy');
      assert.match(lines.join('\n'), /overlayfs unavailable \(forced\); copying 2 layer\(s\)/);
      await checkMergedTree(b.rootfs);
      assert.deepEqual(listTree(b.rootfs), listTree(a.rootfs));
    } finally {
      await a.cleanup();
      await b.cleanup();
    }
  });

  test('a tampered blob is a DigestMismatchError naming the digest, and is discarded', T, async () => {
    const img = await buildBusyboxImage(reg.host, 'demo/tamper', '1', { files: { 'etc/motd': 'tamper me\n' } });
    const manifest = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${img.ref}`]).toString();
    const layer = (JSON.parse(manifest) as { layers: { digest: string }[] }).layers[0]?.digest ?? '';
    const f = await open(registryBlobPath(reg.storageDir, layer), 'r+');
    try {
      const buf = Buffer.alloc(16);
      await f.read(buf, 0, 16, 1000);
      for (let i = 0; i < buf.length; i++) buf[i] = (buf[i] ?? 0) ^ 0xff;
      await f.write(buf, 0, 16, 1000);
    } finally {
      await f.close();
    }
    await assert.rejects(puller.pull(img.ref), (err: Error) => {
      assert.ok(err instanceof DigestMismatchError, String(err));
      assert.ok(err.message.includes(layer), err.message);
      return true;
    });
    const hex = layer.replace('sha256:', '');
    assert.ok(!(await readdir(path.join(work, 'data/blobs/sha256'))).includes(hex), 'bad blob not kept');
    assert.ok(!(await readdir(path.join(work, 'data/layers'))).includes(hex), 'bad layer not unpacked');
    assert.deepEqual(await readdir(path.join(work, 'data/tmp')), [], 'no temp files left');
  });

  test('a tampered manifest is a DigestMismatchError too', T, async () => {
    const img = await buildBusyboxImage(reg.host, 'demo/tamper-manifest', '1');
    const file = registryBlobPath(reg.storageDir, img.digest);
    const body = await readFile(file, 'utf8');
    const i = body.search(/"size":\s*\d/);
    const at = body.indexOf(':', i) + 1 + (body[body.indexOf(':', i) + 1] === ' ' ? 1 : 0);
    const flipped = `${body.slice(0, at)}${body[at] === '9' ? '8' : '9'}${body.slice(at + 1)}`;
    await writeFile(file, flipped);
    await assert.rejects(puller.pull(img.ref), (err: Error) => err instanceof DigestMismatchError && err.message.includes(img.digest));
  });

  test('concurrent pulls share one download per layer', T, async () => {
    const img = await buildMultiLayerImage(reg.host, 'demo/shared', '1', { randomLayers: 2, randomBytesPerLayer: 512 * 1024 });
    const proxy = await countingProxy(reg.url);
    const p = new ImagePuller({ dataDir: path.join(work, 'data-concurrent'), log: () => undefined });
    try {
      const ref = img.ref.replace(reg.host, proxy.host);
      const results = await Promise.all([p.pull(ref), p.pull(ref), p.pull(ref)]);
      assert.ok(results.every((r) => r.digest === img.digest));
      const layerDigests = results[0]?.layers.map((l) => l.digest) ?? [];
      assert.equal(layerDigests.length, 4);
      for (const d of layerDigests) {
        const gets = proxy.requests.filter((r) => r === `GET /v2/demo/shared/blobs/${d}`);
        assert.equal(gets.length, 1, `layer ${d} fetched ${gets.length} times`);
      }
    } finally {
      await p.stop();
      await proxy.close();
    }
  });

  test('gc removes images not in use and their layers and blobs, keeps the rest', T, async () => {
    const other = await puller.pull((await buildBusyboxImage(reg.host, 'demo/gc', '1')).ref);
    const dirs = async (): Promise<string[]> => readdir(path.join(work, 'data/layers'));
    const otherHex = other.layers[0]?.digest.replace('sha256:', '') ?? '';
    assert.ok((await dirs()).includes(otherHex));
    const res = await puller.gc(new Set([image.digest]));
    assert.ok(res.layers >= 1 && res.images >= 1, JSON.stringify(res));
    assert.ok(!(await dirs()).includes(otherHex), 'unreferenced layer removed');
    assert.ok(!(await readdir(path.join(work, 'data/blobs/sha256'))).includes(otherHex), 'its blob removed');
    for (const l of image.layers) assert.ok((await dirs()).includes(l.digest.replace('sha256:', '')), 'in-use layer kept');
    assert.equal(await puller.get(other.digest), undefined);
    assert.ok((await puller.get(image.digest)) !== undefined);
    await puller.gc(new Set());
    assert.deepEqual(await dirs(), []);
    assert.deepEqual(await readdir(path.join(work, 'data/blobs/sha256')), []);
  });
});

async function checkMergedTree(root: string): Promise<void> {
  const absent = async (p: string): Promise<void> => assert.rejects(lstat(path.join(root, p)), { code: 'ENOENT' }, `${p} should be gone`);
  await absent('etc/removed.txt');
  await absent('gone-dir');
  await absent('opaque/old1');
  await absent('opaque/sub');
  assert.equal(await readFile(path.join(root, 'opaque/new.txt'), 'utf8'), 'new\n');
  assert.equal(await readFile(path.join(root, 'data/added.txt'), 'utf8'), 'added\n');
  assert.equal(await readFile(path.join(root, 'etc/passwd'), 'utf8'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  const kept = await stat(path.join(root, 'keep/kept.txt'));
  const hard = await stat(path.join(root, 'keep/hard'));
  assert.equal(hard.ino, kept.ino, 'hard link kept');
  assert.equal((await lstat(path.join(root, 'keep/abs-link'))).isSymbolicLink(), true);
  assert.equal(execFileSync('readlink', [path.join(root, 'keep/abs-link')]).toString().trim(), '/bin/busybox', 'absolute symlink target verbatim');
  assert.equal((await lstat(path.join(root, 'bin/sh'))).isSymbolicLink(), true);
  const owned = await stat(path.join(root, 'keep/owned.txt'));
  assert.equal(owned.uid, 1000);
  assert.equal(owned.gid, 1000);
  assert.equal(owned.mode & 0o7777, 0o640);
  assert.equal((await stat(path.join(root, 'tmp'))).mode & 0o7777, 0o1777);
  assert.equal((await stat(path.join(root, 'keep/rw.txt'))).mode & 0o7777, 0o666);
  assert.equal((await stat(path.join(root, 'keep/suid'))).mode & 0o7777, 0o4755);
  assert.equal((await stat(path.join(root, 'bin/busybox'))).mode & 0o777, 0o755);
}

test('no registry process left running', () => {
  assert.equal(runningRegistries(), 0);
});
