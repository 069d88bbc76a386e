/**
 * A multi-node Flotilla cluster on one machine, for e2e tests (DESIGN.md "several nodes on one
 * machine"): real `flotilla server` and `flotilla agent` processes, each in a network namespace
 * of its own, joined by veth pairs to a bridge in an "underlay" namespace the test made.
 *
 *   underlay ns (bridge br0)
 *     ├─ veth ── server ns  eth0 172.31.250.1/24   flotilla server --listen 172.31.250.1:PORT
 *     ├─ veth ── node1 ns   eth0 172.31.250.11/24  flotilla agent --name node1 --address 172.31.250.11
 *     ├─ veth ── node2 ns   eth0 172.31.250.12/24  ...            (each node: its own task bridge,
 *     └─ veth ── node3 ns   eth0 172.31.250.13/24                   task subnet, registry on 127.0.0.1)
 *
 * The addresses exist only inside these namespaces: nothing is added to the machine's own
 * network namespace (no routes, bridges or links), and all traffic stays inside them.
 *
 * Processes start with `nsenter --net=/var/run/netns/NS`, which changes only the network
 * namespace: the agents' overlay mounts, runc state and conmon monitors live in the machine's
 * mount namespace, so stop() can see and remove them. (`ip netns exec` would give each agent a
 * private mount namespace, hiding its rootfs mounts from the test and from cleanup.)
 *
 * Images: one registry on the machine's 127.0.0.1:PORT receives the pushes (buildImage), and
 * every node namespace runs its own docker-registry on ITS 127.0.0.1 with the same PORT and
 * the same storage directory, so an image reference `127.0.0.1:PORT/repo:tag` works on every
 * node.
 *
 * Node subnets: by default (`subnets: 'server'`) the agents take the subnet the server assigns
 * from the cluster CIDR and add the routes to the other nodes themselves. With
 * `subnets: 'static'` the harness passes `--subnet 10.89.N.0/24` to node N (outside the default cluster CIDR) and adds the
 * host-gw routes itself (for tests of other features that must not depend on that code).
 *
 * stop() kills every process, then removes containers (runc kill/delete under each agent's
 * data dir), conmon monitors (by PID), overlay mounts, the task namespaces the agents recorded,
 * the node, server and underlay namespaces, the registries and the temp dir; also after a
 * failed start. On a hard exit of the test process the namespaces and children still go.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, mkdirSync, openSync, closeSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { buildBusyboxImage, type ImageOptions, type PushedImage } from './images.js';
import { killAndWait, NodeNamespace, run, type RunResult } from './netns.js';
import { startRegistry, type TestRegistry } from './registry.js';
import { eventually, type TaskJson } from './flotilla.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');

/** Options of Cluster.start; everything has a default. */
export interface ClusterOptions {
  /** Number of node namespaces (agents). Default 3. */
  nodes?: number;
  /** Extra flags for `flotilla server` (e.g. `['--cluster-cidr', '10.90.0.0/16']`). */
  serverArgs?: string[];
  /** Words before node i's agent command line (i from 1), e.g. `['faketime', '-f', '+10m']` for a clock that is off. */
  agentPrefix?: (index: number, name: string) => string[];
  /** Runs before each start of a node's agent (e.g. mount a small tmpfs as its data dir). */
  beforeAgentStart?: (node: ClusterNode) => Promise<void>;
  /** Extra flags for node i's `flotilla agent` (i from 1). */
  agentArgs?: (index: number, name: string) => string[];
  /** Labels of node i, as `--label K=V` flags. Default `{node: NAME}`. */
  labels?: (index: number, name: string) => Record<string, string>;
  /** Who chooses node subnets and routes; see the file comment. Default 'server'. */
  subnets?: 'server' | 'static';
  /**
   * 'printed': start every agent from the command line `flotilla token create` printed (its
   * `flotilla agent --server URL --token TOKEN` line) plus --name, --data-dir and labels, with no
   * --address. Default 'address': the harness's own command line with --address.
   */
  join?: 'address' | 'printed';
  /** The node registries require this login (htpasswd, Basic); pushes go to the open machine registry. */
  registryAuth?: { user: string; password: string };
  /** Host the server listens on (default its underlay address; '0.0.0.0' for all interfaces). */
  serverListenHost?: string;
  /** Bound on the whole start. Default 120 s. */
  startTimeoutMs?: number;
  /** Also serve the registry inside the server's namespace (the API asks it: content trust). */
  serverRegistry?: boolean;
}

/** One agent of the cluster. */
export interface ClusterNode {
  /** node1, node2 ... (also the Node object's name). */
  name: string;
  index: number;
  /** The network namespace (`/var/run/netns/<netns>`). */
  netns: string;
  /** Its underlay address (the agent's --address). */
  address: string;
  dataDir: string;
  /** `--subnet` given to the agent (static mode only). */
  subnet?: string;
}

/** A long-running process in a namespace, with its output in a log file. */
interface NsProcess {
  child: ChildProcess;
  logFile: string;
}

const UNDERLAY_PREFIX = '172.31.250';
const SERVER_IP = `${UNDERLAY_PREFIX}.1`;

/** Children alive in any cluster: killed when the test process exits, whatever happens. */
const liveChildren = new Set<ChildProcess>();
const liveAgentDirs = new Set<string>();
process.once('exit', () => {
  for (const c of liveChildren) c.kill('SIGKILL');
  for (const dir of liveAgentDirs) removeContainersSync(dir);
});

/** See the file comment. */
export class Cluster {
  readonly nodes: ClusterNode[] = [];
  readonly serverAddress = SERVER_IP;
  /** The machine-side registry (pushes go here); `registryHost` works on every node too. */
  registry: TestRegistry | undefined;
  serverUrl = '';
  private readonly namespaces: NodeNamespace[] = [];
  private underlay: NodeNamespace | undefined;
  private serverNs: NodeNamespace | undefined;
  private server: NsProcess | undefined;
  private readonly agents = new Map<string, NsProcess>();
  private readonly registries: NsProcess[] = [];
  private token = '';
  /** The `flotilla agent ...` line that `token create` printed. */
  joinCommand = '';
  private stopping: Promise<void> | undefined;
  private readonly serverPort = 20_000 + Math.floor(Math.random() * 20_000);

  private constructor(readonly dir: string, private readonly opts: ClusterOptions) {}

  /** Builds the namespaces, starts registries, the server and the agents; waits until every node is ready. */
  static async start(opts: ClusterOptions = {}): Promise<Cluster> {
    const dir = await mkdtemp(path.join(tmpdir(), 'flotilla-cluster-'));
    const c = new Cluster(dir, opts);
    try {
      await withTimeout(c.boot(), opts.startTimeoutMs ?? 120_000, 'cluster start');
    } catch (err) {
      const logs = c.logs();
      await c.stop().catch(() => undefined);
      throw new Error(`${(err as Error).message}\n--- logs ---\n${logs}`);
    }
    return c;
  }

  /** `127.0.0.1:PORT`: the registry host for image references, valid on every node. */
  get registryHost(): string {
    if (this.registry === undefined) throw new Error('cluster not started');
    return this.registry.host;
  }

  /** The admin client config (server URL reachable from the server namespace). */
  get config(): string {
    return path.join(this.dir, 'server', 'admin.json');
  }

  /** Builds a busybox image and pushes it once; its ref works on every node. */
  buildImage(repo: string, tag: string, opts: ImageOptions = {}): Promise<PushedImage> {
    return buildBusyboxImage(this.registryHost, repo, tag, opts);
  }

  node(nameOrIndex: string | number): ClusterNode {
    const n = typeof nameOrIndex === 'number' ? this.nodes[nameOrIndex - 1] : this.nodes.find((x) => x.name === nameOrIndex);
    if (n === undefined) throw new Error(`no node ${nameOrIndex}`);
    return n;
  }

  /** `nsenter --net=...` prefix that runs a command on a node ('server' for the server namespace). */
  prefix(node: string | number): string[] {
    const netns = node === 'server' ? this.serverNs?.name : this.node(node).netns;
    return ['nsenter', `--net=/var/run/netns/${netns}`];
  }

  /** Runs a command inside a node's network namespace (never rejects on a non-zero exit). */
  exec(node: string | number, argv: string[], timeoutMs = 30_000): Promise<RunResult> {
    return run([...this.prefix(node), ...argv], timeoutMs);
  }

  /** Runs `flotilla ARGS` inside the server namespace with the admin config. */
  cli(args: string[], opts: { stdin?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    return runWithStdin([...this.prefix('server'), process.execPath, '--import', 'tsx', MAIN, '--config', this.config, ...args], opts.stdin ?? '', opts.timeoutMs ?? 60_000);
  }

  /** `flotilla apply -f` of a YAML text; throws with stderr when it fails. */
  async apply(yaml: string): Promise<string> {
    const file = path.join(this.dir, `manifest-${randomBytes(4).toString('hex')}.yaml`);
    await writeFile(file, yaml);
    const r = await this.cli(['apply', '-f', file]);
    if (r.code !== 0) throw new Error(`apply failed: ${r.stderr}`);
    return r.stdout;
  }

  /** `get KIND -o json` items (throws on failure). */
  async list<T = unknown>(kind: string, extra: string[] = []): Promise<T[]> {
    const r = await this.cli(['get', kind, '-o', 'json', ...extra]);
    if (r.code !== 0) throw new Error(`get ${kind}: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { items: T[] }).items;
  }

  /** Tasks, optionally of one service. */
  tasks(service?: string): Promise<TaskJson[]> {
    return this.list<TaskJson>('tasks', service !== undefined ? ['-l', `service=${service}`] : []);
  }

  /** Waits until `count` tasks of the service are running (and ready), bounded by timeoutMs. */
  runningTasks(service: string, count: number, timeoutMs = 90_000): Promise<TaskJson[]> {
    return eventually(`${count} running tasks of ${service}`, timeoutMs, async () => {
      const ts = (await this.tasks(service)).filter((t) => t.status?.state === 'running' && t.spec.desiredState === 'running' && t.status.ready !== false && t.status.ip !== undefined);
      return ts.length === count ? ts : undefined;
    });
  }

  /** SIGKILLs the server (agents and containers keep running), as a crash would. */
  async killServer(): Promise<void> {
    if (this.server !== undefined) await killAndWait(this.server.child);
  }

  /** Starts the server again (after killServer) on the same data dir, address and port; waits for its ready line. */
  async restartServer(): Promise<void> {
    await this.killServer();
    await this.startServer();
  }

  /**
   * Stops the registry of every node (and the server's): pulls fail with "connection refused",
   * as in a registry outage. The machine-side registry that takes pushes keeps running.
   */
  async stopNodeRegistries(): Promise<void> {
    const procs = this.registries.splice(0);
    await Promise.all(procs.map((p) => killAndWait(p.child)));
  }

  /** Starts the node registries again (after stopNodeRegistries), same port and storage. */
  async startNodeRegistries(): Promise<void> {
    const port = this.registryHost.split(':')[1] ?? '';
    await Promise.all(this.nodes.map((n) => this.startNodeRegistry(n.name, n.netns, port)));
    if (this.opts.serverRegistry === true) await this.startNodeRegistry('server', (this.serverNs as NodeNamespace).name, port);
  }

  /**
   * Cuts (`up` false) or restores a node's link to the others and to the server: its veth on the
   * underlay bridge goes down or up. The node keeps its address and routes (its eth0 only loses
   * carrier), as when a switch port or a cable fails.
   */
  async setNodeLink(node: string | number, up: boolean): Promise<void> {
    const n = this.node(node);
    const r = await (this.underlay as NodeNamespace).run(['ip', 'link', 'set', `vn${n.index}`, up ? 'up' : 'down']);
    if (r.code !== 0) throw new Error(`link of ${n.name} ${up ? 'up' : 'down'}: ${r.stderr}`);
  }

  /** Removes what the agents' load balancers leave on every node on purpose (nft table, VIP route), before stop(). */
  async removeLoadBalancers(): Promise<void> {
    for (const n of this.nodes) {
      await this.exec(n.name, ['nft', 'delete', 'table', 'ip', 'flotilla']);
      await this.exec(n.name, ['ip', 'route', 'del', '10.96.0.0/16']);
    }
  }

  /** SIGKILLs an agent (containers keep running), as a crash would. */
  async killAgent(node: string | number): Promise<void> {
    const n = this.node(node);
    const p = this.agents.get(n.name);
    if (p !== undefined) await killAndWait(p.child);
  }

  /** Starts an agent again (after killAgent) on the same data dir and namespace. */
  async restartAgent(node: string | number): Promise<void> {
    const n = this.node(node);
    await this.killAgent(n.name);
    await this.startAgent(n);
  }

  /** Every namespace this cluster made or its agents recorded (underlay, server, nodes, tasks). */
  namespaceNames(): string[] {
    return [...this.namespaces.map((n) => n.name), ...this.nodes.flatMap((n) => recordedNamespaces(n.dataDir))];
  }

  /** The output of every process so far (to print when a test fails). */
  logs(): string {
    const all = [...(this.server !== undefined ? [['server', this.server] as const] : []), ...[...this.agents].map(([k, v]) => [k, v] as const)];
    return all.map(([name, p]) => `== ${name}\n${readTail(p.logFile, 4000)}`).join('\n');
  }

  /** Kills everything and removes everything (idempotent). */
  stop(): Promise<void> {
    this.stopping ??= this.teardown();
    return this.stopping;
  }

  // ---- start ----

  private async boot(): Promise<void> {
    const count = this.opts.nodes ?? 3;
    this.underlay = await this.newNamespace('ul');
    await this.underlay.run(['ip', 'link', 'add', 'br0', 'type', 'bridge']);
    await this.underlay.run(['ip', 'link', 'set', 'br0', 'up']);
    this.serverNs = await this.newNamespace('srv');
    await this.plug(this.serverNs, 'vsrv', SERVER_IP);
    for (let i = 1; i <= count; i++) {
      const ns = await this.newNamespace(`n${i}`);
      const address = `${UNDERLAY_PREFIX}.${10 + i}`;
      await this.plug(ns, `vn${i}`, address);
      const node: ClusterNode = { name: `node${i}`, index: i, netns: ns.name, address, dataDir: path.join(this.dir, 'nodes', `node${i}`) };
      if (this.opts.subnets === 'static') node.subnet = `10.89.${i}.0/24`;
      this.nodes.push(node);
    }
    this.registry = await startRegistry();
    const port = this.registry.host.split(':')[1] ?? '';
    await Promise.all(this.nodes.map((n) => this.startNodeRegistry(n.name, n.netns, port)));
    if (this.opts.serverRegistry === true) await this.startNodeRegistry('server', (this.serverNs as NodeNamespace).name, port);
    await this.startServer();
    const tok = await this.cli(['token', 'create']);
    if (tok.code !== 0) throw new Error(`token create: ${tok.stderr}`);
    const lines = tok.stdout.trim().split('\n');
    this.token = (lines[0] ?? '').trim();
    this.joinCommand = (lines.find((l) => l.startsWith('flotilla agent ')) ?? '').trim();
    await Promise.all(this.nodes.map((n) => this.startAgent(n)));
    if (this.opts.subnets === 'static') await this.staticRoutes();
    await eventually(`${count} ready nodes`, 60_000, async () => {
      const nodes = await this.list<{ status?: { state?: string } }>('nodes');
      return nodes.filter((n) => n.status?.state === 'ready').length === count ? true : undefined;
    });
  }

  private async newNamespace(label: string): Promise<NodeNamespace> {
    const ns = await NodeNamespace.create(`c${label}`);
    this.namespaces.push(ns);
    return ns;
  }

  /** A veth pair: `hostSide` on the underlay bridge, eth0 with `address/24` in `ns`. */
  private async plug(ns: NodeNamespace, hostSide: string, address: string): Promise<void> {
    const ul = this.underlay as NodeNamespace;
    const steps: [NodeNamespace, string[]][] = [
      [ul, ['ip', 'link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name]],
      [ul, ['ip', 'link', 'set', hostSide, 'master', 'br0', 'up']],
      [ns, ['ip', 'addr', 'add', `${address}/24`, 'dev', 'eth0']],
      [ns, ['ip', 'link', 'set', 'eth0', 'up']],
    ];
    for (const [where, argv] of steps) {
      const r = await where.run(argv);
      if (r.code !== 0) throw new Error(`${argv.join(' ')} in ${where.name}: ${r.stderr}`);
    }
  }

  private spawnIn(netns: string, argv: string[], logName: string): NsProcess {
    const logFile = path.join(this.dir, 'logs', `${logName}.log`);
    mkdirSync(path.dirname(logFile), { recursive: true });
    const fd = openSync(logFile, 'a');
    const child = spawn('nsenter', [`--net=/var/run/netns/${netns}`, ...argv], { cwd: ROOT, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    child.on('error', () => undefined);
    liveChildren.add(child);
    child.once('exit', () => liveChildren.delete(child));
    return { child, logFile };
  }

  /** A registry on `127.0.0.1:port` in node `name`'s namespace ('server' for the server's), serving the shared storage. */
  private async startNodeRegistry(name: string, netns: string, port: string): Promise<void> {
    const n = { name, netns };
    const config = path.join(this.dir, 'registry', `${n.name}.yml`);
    mkdirSync(path.dirname(config), { recursive: true });
    const storage = (this.registry as TestRegistry).storageDir;
    const auth = this.opts.registryAuth;
    const htpasswd = path.join(this.dir, 'registry', 'htpasswd');
    if (auth !== undefined) await writeFile(htpasswd, `${auth.user}:${bcrypt.hashSync(auth.password, 6).replace(/^\$2b\$/, '$2y$')}\n`);
    await writeFile(config, [
      'version: 0.1', 'log: {level: error, accesslog: {disabled: true}}',
      'storage:', `  filesystem: {rootdirectory: ${JSON.stringify(storage)}}`, '  maintenance: {uploadpurging: {enabled: false}}',
      'http:', `  addr: 127.0.0.1:${port}`,
      ...(auth !== undefined ? ['auth:', `  htpasswd: {realm: flotilla-test, path: ${JSON.stringify(htpasswd)}}`] : []), '',
    ].join('\n'));
    const p = this.spawnIn(n.netns, ['/usr/bin/docker-registry', 'serve', config], `registry-${n.name}`);
    this.registries.push(p);
    await eventually(`registry in ${n.name}`, 10_000, async () => {
      if (p.child.exitCode !== null) throw new Error(`registry of ${n.name} exited: ${readTail(p.logFile, 1000)}`);
      const r = await this.exec(n.name, ['/bin/busybox', 'wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${port}/v2/`], 3_000);
      return r.code === 0 || (auth !== undefined && /401|Unauthorized/i.test(r.stderr)) ? true : undefined;
    });
  }

  private async startServer(): Promise<void> {
    const ns = (this.serverNs as NodeNamespace).name;
    const before = this.server !== undefined ? readTail(this.server.logFile, 100_000_000).length : 0;
    const argv = [process.execPath, '--import', 'tsx', MAIN, 'server', '--listen', `${this.opts.serverListenHost ?? SERVER_IP}:${this.serverPort}`, '--data-dir', path.join(this.dir, 'server'), ...(this.opts.serverArgs ?? [])];
    this.server = this.spawnIn(ns, argv, 'server');
    this.serverUrl = `https://${SERVER_IP}:${this.serverPort}`;
    await this.waitForLine(this.server, /ready at/, 'server ready', before);
  }

  private async startAgent(n: ClusterNode): Promise<void> {
    const labels = this.opts.labels?.(n.index, n.name) ?? { node: n.name };
    const printed = this.joinCommand.split(/\s+/).slice(1); // drop "flotilla"
    if (this.opts.join === 'printed' && printed[0] !== 'agent') throw new Error(`token create printed no agent command: ${JSON.stringify(this.joinCommand)}`);
    const argv = [
      ...(this.opts.agentPrefix?.(n.index, n.name) ?? []),
      process.execPath, '--import', 'tsx', MAIN,
      ...(this.opts.join === 'printed' ? printed : ['agent', '--server', this.serverUrl, '--token', this.token, '--address', n.address]),
      '--name', n.name, '--data-dir', n.dataDir,
      ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
      ...(n.subnet !== undefined ? ['--subnet', n.subnet] : []),
      ...(this.opts.agentArgs?.(n.index, n.name) ?? []),
    ];
    liveAgentDirs.add(n.dataDir);
    // A restarted agent appends to the same log: wait for a ready line after the old ones.
    const before = readTail(path.join(this.dir, 'logs', `${n.name}.log`), 100_000_000).length;
    await this.opts.beforeAgentStart?.(n);
    const p = this.spawnIn(n.netns, argv, n.name);
    this.agents.set(n.name, p);
    await this.waitForLine(p, new RegExp(`agent ${n.name} ready`), `${n.name} ready`, before);
  }

  /** Waits for a line in a process's log; fails early when the process exits. */
  private async waitForLine(p: NsProcess, re: RegExp, what: string, fromOffset = 0): Promise<void> {
    await eventually(what, 60_000, async () => {
      const text = fromOffset > 0 ? readTail(p.logFile, 100_000_000).slice(fromOffset) : readTail(p.logFile, 1_000_000);
      if (re.test(text)) return true;
      if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`exited (${p.child.exitCode ?? p.child.signalCode}): ${text.slice(-2000)}`);
      return undefined;
    });
  }

  /** Static mode: host-gw routes to every other node's subnet, added by the harness. */
  private async staticRoutes(): Promise<void> {
    for (const a of this.nodes) {
      for (const b of this.nodes) {
        if (a === b || b.subnet === undefined) continue;
        const r = await this.exec(a.name, ['ip', 'route', 'replace', b.subnet, 'via', b.address]);
        if (r.code !== 0) throw new Error(`route on ${a.name}: ${r.stderr}`);
      }
    }
  }

  // ---- stop ----

  private async teardown(): Promise<void> {
    const procs = [...this.agents.values(), ...(this.server !== undefined ? [this.server] : [])];
    await Promise.all(procs.map((p) => terminate(p.child, 10_000)));
    for (const n of this.nodes) {
      await removeContainers(n.dataDir);
      liveAgentDirs.delete(n.dataDir);
    }
    await Promise.all(this.registries.map((p) => killAndWait(p.child)));
    for (const ns of [...this.namespaces].reverse()) await ns.stop();
    await this.registry?.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** SIGTERM, then SIGKILL after graceMs; resolves once the process has exited. */
async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await new Promise<void>((resolve) => { child.once('exit', () => resolve()); child.kill('SIGTERM'); });
  clearTimeout(t);
}

/** PIDs of processes whose command line mentions `needle` (conmon monitors of one agent). */
function pidsMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle)) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Containers, monitors, mounts and task namespaces that one agent left behind. */
async function removeContainers(dataDir: string): Promise<void> {
  const namespaces = recordedNamespaces(dataDir); // before the unmounts: the data dir may be a mount itself
  const root = path.join(dataDir, 'runtime/runc');
  if (existsSync(root)) {
    const { stdout } = await run(['runc', '--root', root, 'list', '-q']);
    for (const id of stdout.split('\n').filter((l) => l !== '')) {
      await run(['runc', '--root', root, 'kill', id, 'KILL']);
      await run(['runc', '--root', root, 'delete', '-f', id]);
    }
  }
  for (const pid of pidsMentioning(dataDir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const mounts = (await readFile('/proc/mounts', 'utf8')).split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(dataDir));
  for (const m of mounts.reverse()) await run(['umount', '-l', m]);
  for (const ns of namespaces) await run(['ip', 'netns', 'delete', ns]);
}

/** Task namespaces recorded by the agent's network hook. */
function recordedNamespaces(dataDir: string): string[] {
  const dir = path.join(dataDir, 'network/containers');
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const f of readdirSync(dir)) {
    try {
      const rec = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { netns?: string };
      if (rec.netns !== undefined && existsSync(`/var/run/netns/${rec.netns}`)) out.push(rec.netns);
    } catch {
      // a half-written record: nothing to do
    }
  }
  return out;
}

/** The synchronous version for process exit (best effort). */
function removeContainersSync(dataDir: string): void {
  const quiet = { stdio: 'ignore' as const, timeout: 5_000 };
  const root = path.join(dataDir, 'runtime/runc');
  try {
    const ids = execFileSync('runc', ['--root', root, 'list', '-q'], { timeout: 5_000 }).toString().split('\n').filter((l) => l !== '');
    for (const id of ids) {
      try { execFileSync('runc', ['--root', root, 'delete', '-f', id], quiet); } catch { /* best effort */ }
    }
  } catch {
    // no runc state
  }
  for (const pid of pidsMentioning(dataDir)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
  for (const ns of recordedNamespaces(dataDir)) {
    try { execFileSync('ip', ['netns', 'delete', ns], quiet); } catch { /* best effort */ }
  }
}

/** Runs a command with stdin, bounded; never rejects on a non-zero exit. */
function runWithStdin(argv: string[], stdin: string, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0] ?? 'true', argv.slice(1), { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => { stderr += err.message; });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? 137, stdout, stderr }); });
    child.stdin.end(stdin);
  });
}

function readTail(file: string, bytes: number): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.slice(-bytes);
  } catch {
    return '';
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms); });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Which of `names` still exist in /var/run/netns (tests assert none is left after stop()). */
export function namespacesLeft(names: readonly string[]): string[] {
  return names.filter((n) => existsSync(`/var/run/netns/${n}`));
}

/** Re-exported so tests need one import. */
export { eventually };
export type { TaskJson };
