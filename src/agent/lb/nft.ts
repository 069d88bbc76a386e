/**
 * Runs `nft` and `ip` for the load balancer, in the node's network namespace (the agent's own,
 * or the one given by an exec prefix such as `ip netns exec NODE` for simulated nodes).
 * A rule set goes in as one `nft -f -` transaction on stdin: all of it or nothing.
 */
import { spawn } from 'node:child_process';
import { UnavailableError } from '../../api/errors.js';

/** Runs one command to its end; rejects with its stderr on a non-zero exit. */
export type CommandRunner = (argv: string[], stdin?: string) => Promise<string>;

/** The real runner: `[...prefix, ...argv]`, bounded by timeoutMs (killed after). */
export function commandRunner(prefix: readonly string[] = [], timeoutMs = 10_000): CommandRunner {
  return (argv, stdin) => new Promise((resolve, reject) => {
    const full = [...prefix, ...argv];
    const child = spawn(full[0] as string, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', (e) => { clearTimeout(timer); reject(new UnavailableError(`${argv[0] ?? ''}: ${e.message}`)); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${argv.join(' ')} failed (${signal ?? `exit ${code ?? '?'}`}): ${err.trim().split('\n').slice(0, 6).join(' | ')}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin ?? '');
  });
}

/** Applies a rendered rule set atomically. */
export async function applyNftRuleset(run: CommandRunner, text: string): Promise<void> {
  await run(['nft', '-f', '-'], text);
}

/**
 * Routes the service CIDR to `device` (default `lo`), so that processes on the node itself
 * (which may have no default route) can open connections to VIPs: the route lookup succeeds,
 * the source is a global address of the node, and the output hook then DNATs the connection
 * to a task (the kernel routes it again after NAT). Idempotent. (A dummy interface would do
 * too, but the dummy module is not in every kernel.)
 */
export async function ensureServiceRoute(run: CommandRunner, device: string, serviceCidr: string): Promise<void> {
  await run(['ip', 'route', 'replace', serviceCidr, 'dev', device]);
}

/** Removes the service CIDR route; absent is fine. */
export async function removeServiceRoute(run: CommandRunner, serviceCidr: string): Promise<void> {
  try {
    await run(['ip', 'route', 'del', serviceCidr]);
  } catch (err) {
    if (!/no such process|not found|cannot find/i.test((err as Error).message)) throw err;
  }
}
