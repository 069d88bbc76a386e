/**
 * Content trust benchmark: what verifying an image costs, i.e. what a Service create (API
 * admission) and each task start on a node add when a TrustPolicy exists. ImageTrustVerifier
 * against a loopback registry: tag HEAD, `.sig` manifest GET, one payload blob GET per
 * signature, ECDSA P-256 verifications; warm (kept connections) and cold (a new client each
 * time). Prints p50/p99 per case.
 *
 *   node --import tsx bench/trust-verify.ts [--runs 200] [--signatures 1]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { signImage } from '../src/cli/commands/image.js';
import { ImageTrustVerifier, RegistryClients } from '../src/image-trust/index.js';
import { buildBusyboxImage } from '../test/helpers/images.js';
import { startRegistry } from '../test/helpers/registry.js';
import { opensslKeyPair, trustPolicy } from '../test/helpers/trust-keys.js';
import { loadavg } from './children.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '200' }, signatures: { type: 'string', default: '1' } } });
const runs = Number(values.runs);
const signatures = Number(values.signatures);

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
}

async function measure(label: string, f: () => Promise<unknown>): Promise<void> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await f();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  console.log(`${label.padEnd(44)} p50 ${quantile(ms, 0.5).toFixed(2)} ms   p99 ${quantile(ms, 0.99).toFixed(2)} ms   (${runs} runs)`);
}

const reg = await startRegistry();
const dir = await mkdtemp(path.join(tmpdir(), 'bench-trust-'));
try {
  const key = opensslKeyPair(dir, 'k');
  const others = Array.from({ length: Math.max(0, signatures - 1) }, (_, i) => opensslKeyPair(dir, `o${i}`));
  const img = await buildBusyboxImage(reg.host, 'bench/app', '1');
  for (const o of others) await signImage(img.ref, o.privateFile);
  await signImage(img.ref, key.privateFile); // the trusted key's signature is the last one
  const policy = trustPolicy('p', { enforce: true, rules: [{ images: `${reg.host}/**`, keys: [key.publicPem] }] });
  console.log(`content trust verify, ${signatures} signature(s) on the image, load average ${loadavg()}`);
  const warm = new RegistryClients();
  const verifier = new ImageTrustVerifier((r) => warm.get(r));
  await measure('no TrustPolicy (no registry request)', () => verifier.verify(img.ref, []));
  await measure('warm client (connections kept)', async () => {
    const v = await verifier.verify(img.ref, [policy]);
    if (v?.trusted !== true) throw new Error(`not trusted: ${v?.reason}`);
  });
  await measure('cold client (new connections each time)', async () => {
    const cold = new RegistryClients();
    try {
      await new ImageTrustVerifier((r) => cold.get(r)).verify(img.ref, [policy]);
    } finally {
      await cold.stop();
    }
  });
  await warm.stop();
} finally {
  await reg.stop();
  await rm(dir, { recursive: true, force: true });
}
