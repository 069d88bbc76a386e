/**
 * Runs Flotilla as a user would, for end-to-end tests: `flotilla up` or `flotilla server` as a
 * child process (so kill -9 is real), the CLI as child processes with `--config`. Every process
 * is killed, and everything a node leaves (containers, overlay mounts, cgroups, network
 * namespaces, the task bridge) is removed in `stop()`, also after a failed test. The machine's
 * ip_forward setting, which the CNI bridge plugin turns on, is restored.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { removeLoadBalancer } from '../../src/agent/lb/index.js';
import { applyNftRuleset, commandRunner } from '../../src/agent/lb/nft.js';
import { renderNetpolRemoval } from '../../src/agent/netpol/compute.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');
const DIST_MAIN = path.join(ROOT, 'dist/src/cli/main.js');
/** How to run the CLI: from source with tsx, or the build when FLOTILLA_USE_DIST=1 (benchmarks). */
function mainArgs(): string[] {
  return process.env.FLOTILLA_USE_DIST === '1' && existsSync(DIST_MAIN) ? [DIST_MAIN] : ['--import', 'tsx', MAIN];
}

/** Result of one CLI call. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `flotilla ARGS` with a config file; never throws on a non-zero exit. */
export function flotilla(args: string[], opts: { config?: string; stdin?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const full = opts.config !== undefined ? ['--config', opts.config, ...args] : args;
    const child = spawn(process.execPath, [...mainArgs(), ...full], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? 137, stdout, stderr }); });
    child.stdin.end(opts.stdin ?? '');
  });
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs` with `what`. */
export async function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last !== undefined ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A long-running flotilla process (`up` or `server`). */
export class FlotillaProcess {
  child: ChildProcess | undefined;
  output = '';
  url = '';

  constructor(readonly args: string[]) {}

  /** Starts it and waits for the line containing `ready`. */
  async start(timeoutMs = 60_000): Promise<void> {
    const child = spawn(process.execPath, [...mainArgs(), ...this.args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    live.add(child);
    child.once('exit', () => live.delete(child));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line within ${timeoutMs} ms:\n${this.output}`)), timeoutMs);
      const onData = (d: Buffer): void => {
        this.output += d.toString();
        const m = /ready at (https:\/\/\S+?)[:,]?\s/.exec(this.output);
        if (m !== null) {
          this.url = (m[1] as string).replace(/[:,]$/, '');
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (d: Buffer) => { this.output += d.toString(); });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`exited with ${code} before ready:\n${this.output}`)); });
    });
  }

  /** SIGKILL, as a crash would. */
  async kill9(): Promise<void> {
    await killChild(this.child, 'SIGKILL');
  }

  /** SIGTERM, then SIGKILL after 15 s. */
  async stop(): Promise<void> {
    const c = this.child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
    await killChild(c, 'SIGTERM');
    clearTimeout(t);
  }
}

const live = new Set<ChildProcess>();
process.on('exit', () => { for (const c of live) c.kill('SIGKILL'); });

function killChild(c: ChildProcess | undefined, sig: NodeJS.Signals): Promise<void> {
  if (c === undefined || c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => { c.once('exit', () => resolve()); c.kill(sig); });
}

/** A one-node cluster from `flotilla up`, on its own data dir, subnet and bridge. */
export class UpCluster {
  readonly bridge = `flt${randomBytes(3).toString('hex')}`;
  readonly subnet: string;
  proc: FlotillaProcess;
  private readonly ipForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();

  private constructor(readonly dataDir: string, private readonly extraArgs: readonly string[] = []) {
    this.subnet = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}.0/24`;
    this.proc = this.newProcess();
  }

  /** Starts `flotilla up` (with `extraArgs` after the usual flags). */
  static async start(extraArgs: readonly string[] = []): Promise<UpCluster> {
    const dir = await mkdtemp(path.join(tmpdir(), 'flotilla-e2e-'));
    const c = new UpCluster(dir, extraArgs);
    try {
      await c.proc.start();
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  get config(): string {
    return path.join(this.dataDir, 'admin.json');
  }

  private newProcess(): FlotillaProcess {
    return new FlotillaProcess(['up', '--data-dir', this.dataDir, '--listen', '127.0.0.1:0', '--subnet', this.subnet, '--bridge', this.bridge, ...this.extraArgs]);
  }

  /** kill -9 of the whole `up` process, then a new one on the same data dir. */
  async restartHard(): Promise<void> {
    await this.proc.kill9();
    this.proc = this.newProcess();
    await this.proc.start();
  }

  cli(args: string[], stdin?: string): Promise<CliResult> {
    return flotilla(args, { config: this.config, stdin });
  }

  /** `get tasks -o json` items. */
  async tasks(service?: string): Promise<TaskJson[]> {
    const r = await this.cli(['get', 'tasks', '-o', 'json', ...(service !== undefined ? ['-l', `service=${service}`] : [])]);
    if (r.code !== 0) throw new Error(`get tasks: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { items: TaskJson[] }).items;
  }

  /** Runc containers this node's runtime holds. */
  async containers(): Promise<string[]> {
    const root = path.join(this.dataDir, 'agent/runtime/runc');
    if (!existsSync(root)) return [];
    const { stdout } = await run('runc', ['--root', root, 'list', '-q']);
    return stdout.split('\n').filter((l) => l !== '');
  }

  /** Stops `up`, then removes whatever is left: containers, mounts, cgroups, namespaces, bridge. */
  async stop(): Promise<void> {
    await this.proc.stop().catch(() => undefined);
    const root = path.join(this.dataDir, 'agent/runtime/runc');
    for (const id of await this.containers().catch(() => [] as string[])) {
      await run('runc', ['--root', root, 'kill', id, 'KILL']).catch(() => undefined);
      await run('runc', ['--root', root, 'delete', '-f', id]).catch(() => undefined);
    }
    await run('pkill', ['-9', '-f', `conmon.*${this.dataDir}`]).catch(() => undefined);
    const mounts = (await readFile('/proc/mounts', 'utf8')).split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(this.dataDir));
    for (const m of mounts.reverse()) await run('umount', ['-l', m]).catch(() => undefined);
    const netDir = path.join(this.dataDir, 'agent/network/containers');
    for (const f of await readdir(netDir).catch(() => [] as string[])) {
      const rec = JSON.parse(await readFile(path.join(netDir, f), 'utf8').catch(() => '{}')) as { netns?: string };
      if (rec.netns !== undefined) await run('ip', ['netns', 'delete', rec.netns]).catch(() => undefined);
    }
    await run('ip', ['link', 'del', this.bridge]).catch(() => undefined);
    await removeLoadBalancer({}).catch(() => undefined); // the service VIP table and route `up` wrote here
    await applyNftRuleset(commandRunner(), renderNetpolRemoval()).catch(() => undefined); // the network policy table, if `up` was killed
    writeFileSync('/proc/sys/net/ipv4/ip_forward', this.ipForward);
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

/** The task fields the tests read (CONTRACT.md). */
export interface TaskJson {
  metadata: { name: string; uid: string };
  spec: { service: string; node: string; image: string; desiredState: string };
  status?: { state: string; desiredState: string; ready: boolean; ip?: string; pid?: number; message?: string; exitCode?: number };
}

/** Writes a manifest file into a directory and returns its path. */
export async function manifestFile(dir: string, name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}
