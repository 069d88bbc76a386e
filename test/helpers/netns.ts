/**
 * Network namespaces for tests (DESIGN.md "several nodes on one machine"): a "node" namespace
 * with a unique name stands in for a machine, so bridges, veths, ip_forward and firewall rules
 * that the code under test makes stay inside it and never touch the machine's own network.
 * Everything made here (namespaces, processes started in them, and namespaces the test adopts)
 * is removed by stop(), and also when the test process exits, so a failing test leaves nothing.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';

const NETNS_DIR = '/var/run/netns';

/** Namespaces and processes still alive: removed synchronously when the test process exits. */
const liveNamespaces = new Set<string>();
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of liveChildren) c.kill('SIGKILL');
  for (const ns of liveNamespaces) {
    try {
      execFileSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
});

/** The result of a finished command. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (bounded by timeoutMs); never rejects on a non-zero exit. */
export function run(argv: string[], timeoutMs = 10_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(argv[0] ?? 'true', argv.slice(1), { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr: err !== null && stderr === '' ? err.message : stderr });
    });
  });
}

/** Names in /var/run/netns right now. */
export function netnsList(): string[] {
  try {
    return readdirSync(NETNS_DIR);
  } catch {
    return [];
  }
}

/** Deletes a namespace if it exists. */
export async function deleteNetns(name: string): Promise<void> {
  if (existsSync(`${NETNS_DIR}/${name}`)) await run(['ip', 'netns', 'delete', name]);
  liveNamespaces.delete(name);
}

/** A name unique to this test process: `ftest-<label>-<random>`. */
export function uniqueNetnsName(label: string): string {
  return `ftest-${label}-${randomBytes(3).toString('hex')}`;
}

/** A namespace that plays a node; run commands in it, start processes in it, stop() removes all. */
export class NodeNamespace {
  /** `ip netns exec NAME`: prefix for commands (and CNI plugins) that must run on this node. */
  readonly prefix: string[];
  private readonly children = new Set<ChildProcess>();
  private readonly adopted = new Set<string>();
  private stopping: Promise<void> | undefined;

  private constructor(readonly name: string) {
    this.prefix = ['ip', 'netns', 'exec', name];
  }

  /** Creates the namespace with its loopback up. */
  static async create(label = 'node'): Promise<NodeNamespace> {
    const name = uniqueNetnsName(label);
    const r = await run(['ip', 'netns', 'add', name]);
    if (r.code !== 0) throw new Error(`ip netns add ${name}: ${r.stderr}`);
    liveNamespaces.add(name);
    const node = new NodeNamespace(name);
    await node.run(['ip', 'link', 'set', 'lo', 'up']);
    return node;
  }

  /** Runs a command inside this node. */
  run(argv: string[], timeoutMs?: number): Promise<RunResult> {
    return run([...this.prefix, ...argv], timeoutMs);
  }

  /** Starts a long-running process inside the named namespace (this node's by default); stop() kills it. */
  spawn(argv: string[], netns = this.name): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: 'ignore' });
    child.on('error', () => undefined);
    this.children.add(child);
    liveChildren.add(child);
    child.once('exit', () => { this.children.delete(child); liveChildren.delete(child); });
    return child;
  }

  /** Makes stop() (and process exit) delete another namespace too, e.g. one the code under test made. */
  adopt(netns: string): void {
    this.adopted.add(netns);
    liveNamespaces.add(netns);
  }

  /** Kills the processes, deletes adopted namespaces, then the node (which takes its bridges and veths). */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all([...this.children].map(killAndWait));
      for (const ns of this.adopted) await deleteNetns(ns);
      await deleteNetns(this.name);
    })();
    return this.stopping;
  }
}

/** SIGKILLs a child and resolves once it has exited. */
export function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
