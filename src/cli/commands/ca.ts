/**
 * `flotilla ca status`, `flotilla ca rotate` and `flotilla node rotate-cert NAME`: the
 * cluster's certificates (docs/certificates.md).
 *
 *   ca rotate   POST /api/v1/ca/rotate -> poll GET /api/v1/ca every second, one line per change
 *               (the client follows the new trust bundle and writes it into its config file)
 *               -> "done" once the old CA is retired (--no-wait: return after the start)
 *   rotate-cert POST /api/v1/nodes/NAME/rotate-cert -> "node/NAME certificate rotated ..."
 */
import { promises as fs } from 'node:fs';
import type { Command } from 'commander';
import type { CaStatus } from '../../client/api-client.js';
import { DEFAULT_CONFIG_PATH } from '../../client/config.js';
import { bundleFingerprints } from '../../server/pki/bundle.js';
import type { CliClient, CliContext } from '../context.js';
import { UsageError } from '../errors.js';

/** What these commands need of the client beyond CliClient (ApiClient has it). */
export interface CertificateClient {
  caStatus(): Promise<CaStatus>;
  rotateCa(deadlineSeconds?: number): Promise<CaStatus>;
  rotateNodeCertificate(node: string): Promise<{ node: string; issuedAt: string; notAfter: string; revocation: string }>;
  setTrustBundle?(caPem: string): void;
}

function certificateClient(c: CliClient): CliClient & CertificateClient {
  const s = c as CliClient & Partial<CertificateClient>;
  if (typeof s.caStatus !== 'function' || typeof s.rotateCa !== 'function' || typeof s.rotateNodeCertificate !== 'function') throw new UsageError('this client cannot manage certificates');
  return s as CliClient & CertificateClient;
}

const short = (fp: string): string => fp.slice(0, 16);

/** The lines of `ca status`. */
export function formatCaStatus(s: CaStatus): string[] {
  const lines = s.trusted.map((c) => {
    const roles = [c.fingerprint === s.signer ? 'signs node certificates' : '', c.fingerprint === s.serving ? 'signs server certificates' : ''].filter((r) => r !== '');
    return `trusted  ${short(c.fingerprint)}  ${c.subject}  until ${c.notAfter}${roles.length > 0 ? `  (${roles.join(', ')})` : ''}`;
  });
  for (const fp of s.retired) lines.push(`retired  ${short(fp)}`);
  lines.push(s.rotation === undefined ? 'rotation: none' : rotationLine(s));
  return lines;
}

/** One line about the rotation's progress. */
export function rotationLine(s: CaStatus): string {
  const r = s.rotation;
  if (r === undefined) return `done: the cluster CA is ${short(s.signer)}${s.retired.length > 0 ? `; retired ${s.retired.map(short).join(', ')}` : ''}`;
  const what = r.phase === 'renewing' ? 'nodes renewed with the new CA' : 'nodes renewed without the old CA';
  const skipped = r.skipped.length > 0 ? `; skipped (must join again): ${r.skipped.join(', ')}` : '';
  const msg = r.message !== undefined ? `; last problem: ${r.message}` : '';
  return `phase ${r.phase} (${short(r.from)} -> ${short(r.to)}, deadline ${r.deadline}): ${what}: ${r.renewed.length === 0 ? 'none yet' : r.renewed.join(', ')}${skipped}${msg}`;
}

/**
 * Writes the new trust bundle into the client config file this command used, only when that
 * file is a config of this cluster (its `ca` is made of CAs of the rotation) and it changed.
 */
async function updateConfigFile(file: string, s: CaStatus): Promise<boolean> {
  const bundle = bundleFingerprints(s.bundle);
  if (bundle.length === 0) return false;
  try {
    const raw = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
    if (typeof raw.ca !== 'string' || raw.ca === s.bundle) return false;
    const ours = new Set([...bundle, ...s.retired, ...(s.rotation !== undefined ? [s.rotation.from, s.rotation.to] : [])]);
    const have = bundleFingerprints(raw.ca);
    if (have.length === 0 || !have.every((fp) => ours.has(fp))) return false;
    const tmp = `${file}.${process.pid}.tmp`;
    await fs.writeFile(tmp, `${JSON.stringify({ ...raw, ca: s.bundle }, null, 2)}\n`, { mode: 0o600 });
    await fs.rename(tmp, file);
    return true;
  } catch {
    return false;
  }
}

/** Registers `ca status`, `ca rotate` and `node rotate-cert`. */
export function registerCertificates(program: Command, ctx: CliContext): void {
  const ca = program.command('ca').description("the cluster's certificate authority");
  ca.command('status').description('trusted CAs, which one signs, and the progress of a rotation').action(async () => {
    const s = await certificateClient(await ctx.client()).caStatus();
    ctx.io.out(`${formatCaStatus(s).join('\n')}\n`);
  });
  ca.command('rotate')
    .description('introduce a new cluster CA, renew every node with it, then retire the old one (no task stops)')
    .option('--deadline-seconds <n>', 'how long to wait for every ready node to renew before retiring the old CA anyway', '600')
    .option('--no-wait', 'return once the rotation has begun (follow it with `flotilla ca status`)')
    .action(async (opts: { deadlineSeconds: string; wait: boolean }) => {
      const deadline = Number(opts.deadlineSeconds);
      if (!Number.isInteger(deadline) || deadline < 1) throw new UsageError(`--deadline-seconds: expected a whole number of seconds >= 1, found "${opts.deadlineSeconds}"`);
      const client = certificateClient(await ctx.client());
      let s = await client.rotateCa(deadline);
      ctx.io.out(`CA rotation begun: new CA ${short(s.signer)}\n`);
      const configFile = ctx.configPath ?? (ctx.deps.env.FLOTILLA_CONFIG !== undefined && ctx.deps.env.FLOTILLA_CONFIG !== '' ? ctx.deps.env.FLOTILLA_CONFIG : DEFAULT_CONFIG_PATH);
      let last = '';
      for (;;) {
        client.setTrustBundle?.(s.bundle);
        if (await updateConfigFile(configFile, s)) ctx.io.out(`client config ${configFile}: trust bundle updated\n`);
        const line = rotationLine(s);
        if (line !== last) ctx.io.out(`${line}\n`);
        last = line;
        if (s.rotation === undefined || !opts.wait) return;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        s = await client.caStatus();
      }
    });
  const node = program.commands.find((c) => c.name() === 'node') ?? program.command('node').description('manage nodes');
  node.command('rotate-cert')
    .description("give the node a new certificate now and revoke its older ones")
    .argument('<name>', 'node name')
    .action(async (name: string) => {
      const r = await certificateClient(await ctx.client()).rotateNodeCertificate(name);
      ctx.io.out(`node/${r.node} certificate rotated: new certificate issued ${r.issuedAt} (valid until ${r.notAfter}); older ones revoked (Revocation ${r.revocation})\n`);
    });
}
