/**
 * Real etcd members for tests (DESIGN.md "Real components"): one member or a 3-member cluster
 * on loopback, with free random ports, its own temp data dir and fast raft timings. Every
 * process started here is also killed when the test process exits, so a failing test never
 * leaves an etcd behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ETCD_BIN = process.env.FLOTILLA_ETCD_BIN ?? '/usr/bin/etcd';
/** setpriv --pdeathsig makes the kernel SIGKILL etcd if this process dies without cleaning up. */
const SETPRIV = '/usr/bin/setpriv';
const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;

/** Every etcd child still running: killed synchronously when the test process exits. */
const live = new Set<ChildProcess>();
function killAll(): void {
  for (const c of live) c.kill('SIGKILL');
}
process.once('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    killAll();
    process.kill(process.pid, sig); // the handler ran once and is gone: die of the signal as usual
  });
}

/** One etcd member's fixed identity: survives restart() (same ports, same data dir). */
interface MemberSpec {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  /** Shared by every member of one cluster: the cluster id derives from it. */
  clusterToken: string;
}

/** Options for a single member. */
export interface EtcdOptions {
  /** Extra command-line flags, e.g. `['--max-txn-ops', '1000']`. */
  extraArgs?: string[];
  /** Keep the data dir on stop() (default: remove it). */
  keepDir?: boolean;
}

/** A free TCP port on 127.0.0.1, found by listening on port 0. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const clientUrlOf = (m: MemberSpec): string => `http://127.0.0.1:${m.clientPort}`;
const peerUrlOf = (m: MemberSpec): string => `http://127.0.0.1:${m.peerPort}`;

/** A running (or stopped, restartable) etcd member started by this helper. */
export class EtcdMember {
  /** `http://127.0.0.1:PORT`: pass it to the client as an endpoint. */
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  readonly name: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly logTail: string[] = [];
  private removed = false;

  constructor(
    private readonly spec: MemberSpec,
    private readonly initialCluster: string,
    private readonly opts: EtcdOptions,
  ) {
    this.clientUrl = clientUrlOf(spec);
    this.peerUrl = peerUrlOf(spec);
    this.dataDir = spec.dataDir;
    this.name = spec.name;
  }

  /** PID of the running process, undefined when stopped. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last lines etcd logged: for failure messages. */
  log(): string {
    return this.logTail.join('');
  }

  /** Spawns the process (does not wait for readiness; see waitReady). */
  spawn(): void {
    if (this.child !== undefined) throw new Error(`etcd ${this.name} is already running`);
    const s = this.spec;
    const args = [
      '--name', s.name, '--data-dir', s.dataDir,
      '--listen-client-urls', this.clientUrl, '--advertise-client-urls', this.clientUrl,
      '--listen-peer-urls', this.peerUrl, '--initial-advertise-peer-urls', this.peerUrl,
      '--initial-cluster', this.initialCluster, '--initial-cluster-state', 'new',
      '--initial-cluster-token', s.clusterToken,
      '--heartbeat-interval', '10', '--election-timeout', '100',
      '--log-level', 'warn',
      // Flotilla's txns can be large (the conformance suite writes 500 objects in one).
      '--max-txn-ops', '10000',
      ...(this.opts.extraArgs ?? []),
    ];
    const [cmd, argv] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'KILL', '--', ETCD_BIN, ...args]] : [ETCD_BIN, args];
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b: Buffer): void => {
      this.logTail.push(b.toString());
      if (this.logTail.length > 40) this.logTail.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    live.add(child);
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        live.delete(child);
        if (this.child === child) this.child = undefined;
        resolve();
      });
      child.once('error', (err) => {
        keep(Buffer.from(`spawn error: ${err.message}\n`));
        live.delete(child);
        if (this.child === child) this.child = undefined;
        resolve();
      });
    });
  }

  /** Waits until the member answers /health with a leader elected. */
  async waitReady(timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child === undefined) throw new Error(`etcd ${this.name} exited before it was ready:\n${this.log()}`);
      try {
        const res = await fetch(`${this.clientUrl}/health`, { signal: AbortSignal.timeout(500) });
        const body = (await res.json()) as { health?: string };
        if (body.health === 'true') return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`etcd ${this.name} not ready after ${timeoutMs} ms:\n${this.log()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** SIGKILL, and wait until the process is gone. Keeps the data dir (restart() reuses it). */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL after a grace period; waits for exit; removes the dir unless kept. */
  async stop(opts: { keepDir?: boolean } = {}): Promise<void> {
    const child = this.child;
    if (child !== undefined) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(t);
    }
    if (!(opts.keepDir ?? this.opts.keepDir ?? false) && !this.removed) {
      rmSync(this.dataDir, { recursive: true, force: true });
      this.removed = true;
    }
  }

  /** Stops the member if running (keeping its data) and starts it again on the same dir and ports. */
  async restart(opts: { waitReady?: boolean } = {}): Promise<void> {
    if (this.removed) throw new Error(`etcd ${this.name}: data dir was removed, cannot restart`);
    await this.stop({ keepDir: true });
    this.spawn();
    if (opts.waitReady ?? true) await this.waitReady();
  }
}

async function memberSpecs(n: number): Promise<MemberSpec[]> {
  const specs: MemberSpec[] = [];
  const clusterToken = `flotilla-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
  for (let i = 0; i < n; i++) {
    specs.push({ name: `m${i}`, clientPort: await freePort(), peerPort: await freePort(), dataDir: mkdtempSync(join(tmpdir(), 'flotilla-etcd-')), clusterToken });
  }
  return specs;
}

/** Starts one etcd member and waits until it answers. Retries once if a port was taken meanwhile. */
export async function startEtcd(opts: EtcdOptions = {}): Promise<EtcdMember> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const [spec] = (await memberSpecs(1)) as [MemberSpec];
    const m = new EtcdMember(spec, `${spec.name}=${peerUrlOf(spec)}`, opts);
    m.spawn();
    try {
      await m.waitReady();
      return m;
    } catch (err) {
      lastErr = err;
      await m.stop({ keepDir: false });
    }
  }
  throw lastErr;
}

/** A cluster of etcd members on loopback, started together. */
export class EtcdCluster {
  constructor(readonly members: EtcdMember[]) {}

  /** Every member's client URL. */
  get endpoints(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  /** Index of the current leader, asked of the first running member that answers. */
  async leaderIndex(): Promise<number> {
    for (const m of this.members) {
      if (m.pid === undefined) continue;
      try {
        const res = await fetch(`${m.clientUrl}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1000) });
        const body = (await res.json()) as { leader?: string; header?: { member_id?: string } };
        if (body.leader === undefined || body.leader === '0') continue;
        // Ask each member for its own id to map the leader id to an index.
        for (let i = 0; i < this.members.length; i++) {
          const mi = this.members[i] as EtcdMember;
          if (mi.pid === undefined) continue;
          const r = await fetch(`${mi.clientUrl}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1000) });
          const b = (await r.json()) as { header?: { member_id?: string } };
          if (b.header?.member_id === body.leader) return i;
        }
      } catch {
        // try the next member
      }
    }
    throw new Error('no etcd leader found');
  }

  /** Stops every member and removes their data dirs. */
  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop()));
  }
}

/** Starts `size` members as one cluster and waits until every one answers with a leader. */
export async function startEtcdCluster(size = 3, opts: EtcdOptions = {}): Promise<EtcdCluster> {
  const specs = await memberSpecs(size);
  const initial = specs.map((s) => `${s.name}=${peerUrlOf(s)}`).join(',');
  const cluster = new EtcdCluster(specs.map((s) => new EtcdMember(s, initial, opts)));
  for (const m of cluster.members) m.spawn();
  try {
    await Promise.all(cluster.members.map((m) => m.waitReady()));
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
