/**
 * Pull benchmark: Flotilla's ImagePuller against `skopeo copy` to an OCI layout, same image
 * from the same loopback registry, alternating, several rounds; prints medians and the ratio.
 * The image has busybox plus N layers of random (incompressible) content.
 *
 *   node --import tsx bench/pull.ts [--rounds 7] [--layers 4] [--layer-mb 1]
 *
 * Note: ImagePuller also unpacks every layer (and computes diff IDs); skopeo only stores the
 * compressed blobs. A warm pull (tag HEAD, answered from the store) is shown too.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { ImagePuller } from '../src/agent/image/index.js';
import { buildMultiLayerImage } from '../test/helpers/images.js';
import { startRegistry } from '../test/helpers/registry.js';

const run = promisify(execFile);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, layers: { type: 'string', default: '4' }, 'layer-mb': { type: 'string', default: '1' } } });
  const rounds = Number(values.rounds);
  const work = await mkdtemp(path.join(tmpdir(), 'flotilla-bench-pull-'));
  const reg = await startRegistry();
  try {
    const img = await buildMultiLayerImage(reg.host, 'bench/pull', '1', { randomLayers: Number(values.layers), randomBytesPerLayer: Number(values['layer-mb']) * 1024 * 1024 });
    const ours: number[] = [];
    const oursWarm: number[] = [];
    const skopeo: number[] = [];
    let bytes = 0;
    let layers = 0;
    for (let i = 0; i < rounds; i++) {
      const dataDir = path.join(work, `ours-${i}`);
      const puller = new ImagePuller({ dataDir, log: () => undefined });
      ours.push(await timed(async () => {
        const p = await puller.pull(img.ref);
        bytes = p.layers.reduce((s, l) => s + l.size, 0);
        layers = p.layers.length;
      }));
      oursWarm.push(await timed(() => puller.pull(img.ref)));
      await puller.stop();
      const oci = path.join(work, `skopeo-${i}`);
      skopeo.push(await timed(() => run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${img.ref}`, `oci:${oci}:1`])));
      await rm(dataDir, { recursive: true, force: true });
      await rm(oci, { recursive: true, force: true });
    }
    const mo = median(ours);
    const ms = median(skopeo);
    console.log(`image ${img.ref}: ${layers} layers, ${(bytes / 1e6).toFixed(2)} MB compressed; ${rounds} rounds, alternating`);
    console.log(`ImagePuller cold pull (download+verify+unpack): median ${mo.toFixed(1)} ms  [${ours.map((x) => x.toFixed(0)).join(' ')}]`);
    console.log(`ImagePuller warm pull (HEAD, from store):       median ${median(oursWarm).toFixed(1)} ms`);
    console.log(`skopeo copy to oci layout (download only):      median ${ms.toFixed(1)} ms  [${skopeo.map((x) => x.toFixed(0)).join(' ')}]`);
    console.log(`ratio ImagePuller/skopeo: ${(mo / ms).toFixed(2)}`);
  } finally {
    await reg.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
