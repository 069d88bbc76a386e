/**
 * Image garbage collection with a real layer store on a temp dir (images pulled from a test
 * registry on loopback, a real overlay rootfs): unused images, layers and blobs go, images of
 * the node's tasks stay, layers under a mounted rootfs stay even when no task names the image,
 * stale rootfs dirs go and live ones stay; the high-water mark triggers a prune, below it nothing.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImageCollector, formatPrune, type NodeUsage } from '../../../src/agent/image/collector.js';
import { ImagePuller, type PulledImage } from '../../../src/agent/image/index.js';
import { buildBusyboxImage, buildMultiLayerImage } from '../../helpers/images.js';
import { startRegistry, type TestRegistry } from '../../helpers/registry.js';

function mountsUnder(dir: string): string[] {
  return execFileSync('cat', ['/proc/self/mountinfo']).toString().split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(dir));
}

describe('image collector', { timeout: 120_000 }, () => {
  let reg: TestRegistry;
  let work = '';
  let puller: ImagePuller;
  let refA = '';
  let refB = '';
  let containers = '';

  const collector = (usage: NodeUsage, extra: Partial<ConstructorParameters<typeof ImageCollector>[0]> = {}): ImageCollector =>
    new ImageCollector({ store: puller.store, containersDir: containers, usage: () => Promise.resolve(usage), ...extra });
  const layerCount = async (): Promise<number> => (await readdir(path.join(work, 'images', 'layers'))).length;

  before(async () => {
    reg = await startRegistry();
    work = await mkdtemp(path.join(tmpdir(), 'flotilla-gc-'));
    containers = path.join(work, 'containers');
    await mkdir(containers);
    puller = new ImagePuller({ dataDir: path.join(work, 'images'), log: () => undefined });
    refA = (await buildBusyboxImage(reg.host, 'gc/a', '1')).ref;
    refB = (await buildMultiLayerImage(reg.host, 'gc/b', '1')).ref;
  });
  after(async () => {
    await puller?.stop();
    for (const m of (work !== '' ? mountsUnder(work) : []).reverse()) execFileSync('umount', ['-l', m]);
    if (work !== '') await rm(work, { recursive: true, force: true });
    await reg?.stop();
  });

  it('removes what no task uses, keeps the images of the tasks', async () => {
    const a = await puller.pull(refA);
    const b = await puller.pull(refB);
    const layersBefore = await layerCount();
    const r = await collector({ images: [refA], containers: new Set() }).prune();
    assert.ok(r.images >= 1, JSON.stringify(r));
    assert.ok(r.layers >= 1 && r.blobs >= 1, JSON.stringify(r));
    assert.ok(r.bytesFreed > 0);
    assert.ok((await puller.get(a.manifestDigest)) !== undefined, 'the image of a task stays');
    assert.equal(await puller.get(b.manifestDigest), undefined, 'the unused image is gone');
    assert.equal(await layerCount(), layersBefore - r.layers);
    assert.match(formatPrune(r), /^removed \d+ image\(s\), \d+ layer\(s\), \d+ blob\(s\), 0 rootfs dir\(s\); freed \d/);
  });

  it('never removes a layer that a mounted rootfs uses, nor that rootfs', async () => {
    const b: PulledImage = await puller.pull(refB);
    const dir = path.join(containers, 'default_b-1');
    const prepared = await puller.prepareRootfs(b, dir);
    assert.equal(prepared.method, 'overlay');
    const files = (await readdir(prepared.rootfs)).sort();
    const r = await collector({ images: [], containers: new Set(['default_b-1']) }).prune();
    assert.ok(r.images >= 1, 'the records go (no task names them)');
    for (const l of b.layers) assert.ok((await readdir(l.dir)).length >= 0, `layer ${l.digest} kept`);
    assert.deepEqual((await readdir(prepared.rootfs)).sort(), files, 'the mounted rootfs still reads');
    assert.deepEqual(await readdir(containers), ['default_b-1']);
    await prepared.cleanup();
  });

  it('removes rootfs dirs of containers that are gone, keeps the others', async () => {
    await mkdir(path.join(containers, 'default_old-1', 'upper'), { recursive: true });
    await writeFile(path.join(containers, 'default_old-1', 'upper', 'f'), Buffer.alloc(4096));
    await mkdir(path.join(containers, 'default_live-1', 'upper'), { recursive: true });
    const r = await collector({ images: [], containers: new Set(['default_live-1']) }).prune();
    assert.equal(r.rootfs, 1);
    assert.ok(r.bytesFreed >= 4096);
    assert.deepEqual(await readdir(containers), ['default_live-1']);
  });

  it('prunes when the filesystem passes the high-water mark, not below it', async () => {
    await puller.pull(refA);
    const lines: string[] = [];
    let pct = 10;
    const c = collector({ images: [], containers: new Set(['default_live-1']) }, { periodMs: 30, highWaterPercent: 85, usedPercent: () => Promise.resolve(pct), log: (l) => lines.push(l) });
    const loop = c.start();
    try {
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(lines, []);
      assert.ok((await puller.store.listImages()).length > 0);
      pct = 91;
      for (let i = 0; i < 100 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 30));
      assert.match(lines[0] ?? '', /^image gc: data dir filesystem 91\.0% used \(high-water mark 85%\): removed [1-9]/);
      assert.deepEqual(await puller.store.listImages(), []);
    } finally {
      await loop.stop();
    }
  });
});
