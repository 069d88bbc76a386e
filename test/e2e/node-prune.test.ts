/**
 * Issue "First contact", part 4: image garbage collection on a real agent. Two services with
 * different images run on one node; one is deleted (its task ends and is deleted). `flotilla
 * node prune node1` removes the deleted service's image and layers and a stale rootfs dir, and
 * prints what it freed; the running task's image, layers and rootfs stay (its container keeps
 * running, and exec into it works).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Cluster, eventually, namespacesLeft, type TaskJson } from '../helpers/cluster.js';

describe('node prune', { timeout: 600_000 }, () => {
  let c: Cluster;
  let keep: TaskJson;
  let imagesDir = '';

  before(async () => {
    c = await Cluster.start({ nodes: 1 });
    const a = (await c.buildImage('prune/keep', '1')).ref;
    const b = (await c.buildImage('prune/gone', '1', { files: { 'data/blob.bin': Buffer.alloc(256 * 1024, 7) } })).ref;
    await c.apply(`kind: Service
metadata: {name: keep}
spec: {image: ${a}, replicas: 1, command: ["sleep", "3600"]}
---
kind: Service
metadata: {name: gone}
spec: {image: ${b}, replicas: 1, command: ["sleep", "3600"], stopGracePeriodSeconds: 1}
`);
    keep = (await c.runningTasks('keep', 1, 240_000))[0] as TaskJson;
    await c.runningTasks('gone', 1, 240_000);
    imagesDir = path.join(c.node(1).dataDir, 'images', 'images');
  });

  after(async () => {
    const names = c?.namespaceNames() ?? [];
    if (c !== undefined) {
      if (process.env.FLOTILLA_TEST_LOGS === '1') console.error(c.logs());
      await c.removeLoadBalancers();
      await c.stop();
    }
    assert.deepEqual(namespacesLeft(names), []);
  });

  it('prunes only what no task uses, and says what it freed', async () => {
    const r0 = await c.cli(['delete', 'service', 'gone']);
    assert.equal(r0.code, 0, r0.stderr);
    await eventually('the tasks of gone deleted', 120_000, async () => ((await c.tasks('gone')).length === 0 ? true : undefined));
    const recordsBefore = (await readdir(imagesDir)).length;
    const stale = path.join(c.node(1).dataDir, 'containers', 'default_stale-1');
    await mkdir(path.join(stale, 'upper'), { recursive: true });
    await writeFile(path.join(stale, 'upper', 'junk'), Buffer.alloc(64 * 1024));

    const r = await c.cli(['node', 'prune', 'node1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^node\/node1: removed [1-9]\d* image\(s\), [1-9]\d* layer\(s\), [1-9]\d* blob\(s\), 1 rootfs dir\(s\); freed \d+(\.\d)? (KiB|MiB)\n$/);
    console.log(r.stdout.trim());
    assert.ok(!existsSync(stale), 'the stale rootfs dir is gone');
    assert.ok((await readdir(imagesDir)).length < recordsBefore, 'the image record of gone is gone');

    const again = await c.cli(['node', 'prune', 'node1']);
    assert.match(again.stdout, /removed 0 image\(s\), 0 layer\(s\), 0 blob\(s\), 0 rootfs dir\(s\)/);
  });

  it('the running task keeps its image and rootfs', async () => {
    const [t] = await c.runningTasks('keep', 1);
    assert.equal(t?.metadata.name, keep.metadata.name);
    const r = await c.cli(['exec', keep.metadata.name, '--', 'ls', '/bin/busybox']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await readdir(imagesDir)).length >= 1);
  });

  it('refuses an unknown node', async () => {
    const r = await c.cli(['node', 'prune', 'nosuch']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /node nosuch not found/);
  });
});
