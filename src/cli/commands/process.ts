/**
 * `flotilla up`, `flotilla agent` and `flotilla token create`, registered with their CONTRACT
 * flags. The flags are parsed into typed options here; the work is delegated to the adapter
 * functions at the top of this file, which are the only place to wire runUp (src/agent/up.ts),
 * runAgent (src/agent/run.ts) and token creation (the API client) in.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { join } from 'node:path';
import { collect, nonNegativeInt, parseLabelPairs } from '../args.js';
import type { CliContext } from '../context.js';
import { DEFAULT_DATA_DIR, DEFAULT_LISTEN, untilSignal } from './server.js';
import { parseDuration } from './rollout-status.js';
import { addRecycleOptions, recycleSettings, type RecycleFlags } from './recycle-flags.js';

/** Options of `flotilla up`. */
export interface UpOptions extends RecycleFlags {
  dataDir: string;
  listen: string;
  /** Subnet of the node's tasks. */
  subnet?: string;
  /** Bridge of the node's tasks. */
  bridge?: string;
  /** Range the node subnet is cut from. */
  clusterCidr?: string;
  /** Key-encryption key of Secrets (default DATA_DIR/kek). */
  kekFile?: string;
  /** Resource sampling interval in ms (default 10 s). */
  metricsInterval?: number;
  /** Autoscaler decision interval in ms (default 10 s). */
  autoscaleInterval?: number;
  /** OTLP/HTTP collector for spans. */
  otlpEndpoint?: string;
}

/** Options of `flotilla agent`. */
export interface AgentOptions {
  /** The first `--server`. */
  server: string;
  /** Every `--server` (repeatable, or a comma list), the first first: the agent fails over between them. */
  servers?: string[];
  token: string;
  dataDir: string;
  name?: string;
  labels: Record<string, string>;
  /** Hollow nodes to register instead of running real tasks. */
  simulate?: number;
  subnet?: string;
  bridge?: string;
  /** Address the server and other nodes reach this agent at. */
  address?: string;
  /** Service VIPs and routing mesh with nftables (default on; `--no-service-proxy`). */
  serviceRouting?: boolean;
  /** Enforce NetworkPolicies with nftables (default on with the service proxy; `--no-network-policies`). */
  networkPolicies?: boolean;
  serviceCidr?: string;
  /** Ingress proxy ports (none: no ingress). */
  ingressHttpPort?: number;
  ingressHttpsPort?: number;
  /** Heartbeat interval (default 2000 ms). */
  heartbeatMs?: number;
  /** Delay of a hollow container's start (only with --simulate). */
  startDelayMs?: number;
  /** Resource sampling interval in ms (default 10 s). */
  metricsInterval?: number;
  /** OTLP/HTTP collector for the ingress's spans. */
  otlpEndpoint?: string;
  /** Where the RuntimeReady check looks for the cgroup hierarchy. */
  cgroupRoot?: string;
  /** Image gc high-water mark, percent of the data dir's filesystem. */
  imageGcHighWater?: number;
}

/** Options of `flotilla token create`. */
export interface TokenCreateOptions {
  role: 'worker' | 'manager';
  /** Lifetime in seconds. */
  ttl?: number;
}

// ---- Adapters: wire runUp, runAgent and token creation in. ----

/** Runs server and agent in one process until SIGINT/SIGTERM (prints a `ready` line). */
export async function upCommand(opts: UpOptions, ctx: CliContext): Promise<void> {
  const { runUp } = await import('../../agent/up.js');
  const up = await runUp({ dataDir: opts.dataDir, listen: opts.listen, ...(opts.subnet !== undefined ? { subnet: opts.subnet } : {}), ...(opts.bridge !== undefined ? { bridge: opts.bridge } : {}), ...(opts.clusterCidr !== undefined ? { clusterCidr: opts.clusterCidr } : {}), ...(opts.kekFile !== undefined ? { kekFile: opts.kekFile } : {}), ...(opts.metricsInterval !== undefined ? { metricsIntervalMs: opts.metricsInterval } : {}), ...(opts.autoscaleInterval !== undefined ? { autoscaleIntervalMs: opts.autoscaleInterval } : {}), ...(opts.otlpEndpoint !== undefined ? { otlpEndpoint: opts.otlpEndpoint } : {}), recycle: recycleSettings(opts), log: (l) => ctx.io.out(`${l}\n`) });
  const signal = await untilSignal(['SIGINT', 'SIGTERM']);
  ctx.io.err(`${signal}: stopping (containers keep running and are adopted at the next start)\n`);
  await up.stop();
}

/** Runs a node agent until SIGINT/SIGTERM. */
export async function agentCommand(opts: AgentOptions, ctx: CliContext): Promise<void> {
  if (opts.simulate !== undefined) return hollowAgentCommand(opts, opts.simulate, ctx);
  const { runAgent } = await import('../../agent/run.js');
  const agent = await runAgent({
    server: opts.server, ...(opts.servers !== undefined ? { servers: opts.servers } : {}), token: opts.token, dataDir: opts.dataDir, labels: opts.labels,
    ...(opts.name !== undefined ? { name: opts.name } : {}),
    ...(opts.subnet !== undefined ? { subnet: opts.subnet } : {}),
    ...(opts.bridge !== undefined ? { bridge: opts.bridge } : {}),
    ...(opts.address !== undefined ? { address: opts.address } : {}),
    ...(opts.heartbeatMs !== undefined ? { heartbeatMs: opts.heartbeatMs } : {}),
    ...(opts.metricsInterval !== undefined ? { metricsIntervalMs: opts.metricsInterval } : {}),
    ...(opts.otlpEndpoint !== undefined ? { otlpEndpoint: opts.otlpEndpoint } : {}),
    ...(opts.cgroupRoot !== undefined ? { cgroupRoot: opts.cgroupRoot } : {}),
    ...(opts.imageGcHighWater !== undefined ? { imageGcHighWaterPercent: opts.imageGcHighWater } : {}),
    serviceRouting: opts.serviceRouting ?? true,
    ...(opts.networkPolicies === false ? { networkPolicies: false } : {}),
    ...(opts.serviceCidr !== undefined ? { serviceCidr: opts.serviceCidr } : {}),
    ...(opts.ingressHttpPort !== undefined ? { ingressHttpPort: opts.ingressHttpPort } : {}),
    ...(opts.ingressHttpsPort !== undefined ? { ingressHttpsPort: opts.ingressHttpsPort } : {}),
    log: (l) => ctx.io.err(`${l}\n`),
  });
  ctx.io.out(`flotilla agent ${agent.nodeName} ready\n`);
  const signal = await untilSignal(['SIGINT', 'SIGTERM']);
  ctx.io.err(`${signal}: stopping (containers keep running and are adopted at the next start)\n`);
  await agent.stop();
}

/** `agent --simulate N`: N hollow nodes (src/agent/hollow/) until SIGINT/SIGTERM. */
async function hollowAgentCommand(opts: AgentOptions, count: number, ctx: CliContext): Promise<void> {
  const { runHollowAgent } = await import('../../agent/hollow/run.js');
  const agent = await runHollowAgent({
    server: opts.server, ...(opts.servers !== undefined ? { servers: opts.servers } : {}), token: opts.token, dataDir: opts.dataDir, count, labels: opts.labels,
    ...(opts.name !== undefined ? { namePrefix: opts.name } : {}),
    ...(opts.heartbeatMs !== undefined ? { heartbeatMs: opts.heartbeatMs } : {}),
    ...(opts.startDelayMs !== undefined ? { startDelayMs: opts.startDelayMs } : {}),
    log: (l) => ctx.io.err(`${l}\n`),
  });
  ctx.io.out(`flotilla agent: ${count} hollow nodes ready (${agent.identity})\n`);
  const signal = await untilSignal(['SIGINT', 'SIGTERM']);
  ctx.io.err(`hollow: ${signal}: stopping ${count} hollow nodes\n`);
  await agent.stop();
}

/** Creates a join token through the API and prints it. */
export async function tokenCreateCommand(opts: TokenCreateOptions, ctx: CliContext): Promise<void> {
  const { ApiClient } = await import('../../client/index.js');
  const client = ApiClient.fromConfigFile(ctx.configPath);
  try {
    const t = await client.createJoinToken(opts.role, opts.ttl);
    const server = t.servers?.[0] ?? client.config.server;
    ctx.io.out(`${t.token}\n${joinCommand(server, t.token)}\n`);
    if ((t.servers?.length ?? 0) > 1) ctx.io.err(`other addresses of the server: ${(t.servers ?? []).slice(1).join(' ')}\n`);
    ctx.io.err(`join token ${t.id} (${t.role}) expires at ${t.expiresAt}; revoke it with: flotilla delete jointoken ${t.id}\n`);
  } finally {
    await client.close();
  }
}

/** `--server`, repeatable or a comma list: every https:// URL, in order. */
export function serverList(value: string, previous?: string[]): string[] {
  const urls = value.split(',').map((u) => u.trim()).filter((u) => u !== '');
  for (const u of urls) if (!/^https:\/\/\S+$/.test(u)) throw new InvalidArgumentError(`expected https:// URLs (repeat --server or separate them with commas), found "${u}"`);
  if (urls.length === 0) throw new InvalidArgumentError('expected an https:// URL');
  return [...(previous ?? []), ...urls];
}

/** `--image-gc-high-water`: an integer percentage 1..100. */
function percent(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || n < 1 || n > 100) throw new InvalidArgumentError(`expected a whole percentage from 1 to 100, found "${v}"`);
  return n;
}

/** The line to paste on a new machine (CONTRACT: `flotilla agent --server https://ADDRESS:PORT --token TOKEN`). */
export function joinCommand(server: string, token: string): string {
  return `flotilla agent --server ${server} --token ${token}`;
}

// ---- Registration ----

/** The `flotilla agent` flags of the service load balancer and the ingress, as commander parses them. */
interface ServiceRoutingFlags {
  serviceProxy: boolean;
  serviceCidr: string;
  ingressHttp?: number;
  ingressHttps?: number;
}

/** Registers `up`, `agent` and `token create`. */
export function registerProcessCommands(program: Command, ctx: CliContext): void {
  addRecycleOptions(program
    .command('up'))
    .description('run a single-node cluster (server and agent, embedded store) in the foreground')
    .option('--data-dir <dir>', 'state directory', DEFAULT_DATA_DIR)
    .option('--listen <host:port>', 'API address', DEFAULT_LISTEN)
    .option('--subnet <cidr>', 'subnet of the tasks on this node (default: the one the server assigns from the cluster CIDR)')
    .option('--bridge <name>', 'bridge of the tasks on this node', 'flotilla0')
    .option('--cluster-cidr <cidr>', 'range the node task subnets (a /24 each) are cut from (default 10.88.0.0/16)')
    .option('--kek-file <file>', 'key-encryption key of secrets, a 0600 file kept outside the store (default DATA_DIR/kek, created on the first start)')
    .option('--metrics-interval <duration>', 'how often the agent samples the node and its tasks (default 10s)', parseDuration)
    .option('--autoscale-interval <duration>', 'how often the autoscaler decides the size of autoscaled services (default 10s)', parseDuration)
    .option('--otlp-endpoint <url>', 'send spans (API, scheduling, ingress) with OTLP over HTTP to this collector, e.g. http://127.0.0.1:4318')
    .action((opts: UpOptions) => upCommand(opts, ctx));

  program
    .command('agent')
    .description('run a node agent that joins a cluster (foreground)')
    .requiredOption('--server <url>', 'API server URL (repeatable, or a comma list: several servers of one cluster, the agent fails over between them)', serverList)
    .requiredOption('--token <token>', 'join token')
    .option('--data-dir <dir>', 'state directory', join(DEFAULT_DATA_DIR, 'agent'))
    .option('--name <name>', 'node name (default: the host name)')
    .option('--label <k=v>', 'node label (repeatable)', collect, [])
    .option('--simulate <n>', 'register N hollow nodes (no containers; label flotilla.dev/hollow=true) that run fake tasks', nonNegativeInt)
    .option('--subnet <cidr>', 'subnet of the tasks on this node (default: the one the server assigns from the cluster CIDR)')
    .option('--bridge <name>', 'bridge of the tasks on this node', 'flotilla0')
    .option('--address <ip>', 'address the server and other nodes reach this agent at')
    .option('--no-service-proxy', 'do not program service VIPs and published ports (nftables) on this node')
    .option('--no-network-policies', 'do not enforce NetworkPolicies (nftables) on this node')
    .option('--service-cidr <cidr>', 'range of the service virtual IPs (as the server has it)', '10.96.0.0/16')
    .option('--ingress-http <port>', 'serve the HTTP ingress (Ingress objects) on this port', nonNegativeInt)
    .option('--ingress-https <port>', 'serve the HTTPS ingress (certificates from Secrets, by SNI) on this port', nonNegativeInt)
    .option('--heartbeat-ms <ms>', 'heartbeat interval of the node(s) (default 2000)', nonNegativeInt)
    .option('--start-delay-ms <ms>', 'with --simulate: delay of a hollow container start (default 20)', nonNegativeInt)
    .option('--metrics-interval <duration>', 'how often the agent samples the node and its tasks (default 10s)', parseDuration)
    .option('--otlp-endpoint <url>', 'send the ingress\'s spans with OTLP over HTTP to this collector')
    .option('--cgroup-root <dir>', 'where the RuntimeReady check looks for the cgroup hierarchy (default /sys/fs/cgroup)')
    .option('--image-gc-high-water <percent>', 'remove unused images when the data dir\'s filesystem is this full (1-100, default 85)', percent)
    .action((opts: { server: string[]; token: string; dataDir: string; name?: string; label: string[]; simulate?: number; subnet?: string; bridge?: string; address?: string; heartbeatMs?: number; startDelayMs?: number; metricsInterval?: number; otlpEndpoint?: string; networkPolicies: boolean; cgroupRoot?: string; imageGcHighWater?: number } & ServiceRoutingFlags) =>
      agentCommand(
        {
          server: opts.server[0] as string,
          ...(opts.server.length > 1 ? { servers: opts.server } : {}),
          token: opts.token,
          dataDir: opts.dataDir,
          labels: parseLabelPairs(opts.label, '--label'),
          ...(opts.name !== undefined ? { name: opts.name } : {}),
          ...(opts.simulate !== undefined ? { simulate: opts.simulate } : {}),
          ...(opts.subnet !== undefined ? { subnet: opts.subnet } : {}),
          ...(opts.bridge !== undefined ? { bridge: opts.bridge } : {}),
          ...(opts.address !== undefined ? { address: opts.address } : {}),
          serviceRouting: opts.serviceProxy, serviceCidr: opts.serviceCidr, networkPolicies: opts.networkPolicies,
          ...(opts.ingressHttp !== undefined ? { ingressHttpPort: opts.ingressHttp } : {}),
          ...(opts.ingressHttps !== undefined ? { ingressHttpsPort: opts.ingressHttps } : {}),
          ...(opts.heartbeatMs !== undefined ? { heartbeatMs: opts.heartbeatMs } : {}),
          ...(opts.startDelayMs !== undefined ? { startDelayMs: opts.startDelayMs } : {}),
          ...(opts.metricsInterval !== undefined ? { metricsInterval: opts.metricsInterval } : {}),
          ...(opts.otlpEndpoint !== undefined ? { otlpEndpoint: opts.otlpEndpoint } : {}),
          ...(opts.cgroupRoot !== undefined ? { cgroupRoot: opts.cgroupRoot } : {}),
          ...(opts.imageGcHighWater !== undefined ? { imageGcHighWater: opts.imageGcHighWater } : {}),
        },
        ctx,
      ),
    );

  const token = program.command('token').description('manage join tokens');
  token
    .command('create')
    .description('create a join token for a worker or a manager')
    .addOption(new Option('--role <role>', 'role of the joining node').choices(['worker', 'manager']).default('worker'))
    .option('--ttl <seconds>', 'lifetime of the token in seconds (default 24 h)', nonNegativeInt)
    .action((opts: TokenCreateOptions) => tokenCreateCommand(opts, ctx));
}
