/**
 * `flotilla agent` as a function: join (token -> node certificate), register the Node, heartbeat,
 * renew the certificate before it expires, and run the assigned tasks with runc.
 *
 *   joinCluster -> ApiClient (mTLS) -> RuncRuntime -> agent endpoint (logs, exec; mTLS)
 *              -> registerNode (address + agentPort) -> heartbeats
 *              -> ImagePuller + hooks + probes (Event recorder) -> TaskSupervisor (adopts running containers)
 *   stop(): supervisor (and its probers) -> heartbeats -> events -> endpoint -> renewal -> client;
 *           containers keep running
 */
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { ApiClient } from '../client/index.js';
import { DisposableStack, disposable, type Disposable } from '../lifecycle.js';
import { UnavailableError } from '../api/errors.js';
import { ImagePuller } from './image/index.js';
import { ImageCollector, type PruneResult } from './image/collector.js';
import { nodeImageUsage } from './tasks/image-usage.js';
import { clockSkewWarning, measureClockSkew } from './join/clock-skew.js';
import { watchDiskCondition } from './node/disk-check.js';
import { joinCluster, onFirstReachable, renewCredentials, renewDelayMs, type NodeCredentials } from './join/join.js';
import { localAddressTo } from './node/local-address.js';
import { watchRuntimeCondition } from './node/runtime-check.js';
import { registerNode, startHeartbeats, type NodeApi, type NodeIdentity } from './node/registration.js';
import { RuncRuntime } from './runtime/runc/runc-runtime.js';
import { PullerTaskImages } from './tasks/images.js';
import { TaskImageTrust } from './tasks/image-trust.js';
import { taskOfContainerId } from './tasks/spec.js';
import { ImageTrustVerifier, UNTRUSTED_IMAGE_REASON } from '../image-trust/index.js';
import type { Task } from '../api/kinds.js';
import { PullCredentials } from './tasks/pull-credentials.js';
import type { TaskHook } from './tasks/hooks.js';
import { SecretsHook } from './secrets/hook.js';
import { SYSTEM_TMPFS } from './secrets/tmpfs.js';
import { TaskSupervisor, type NodeTaskView, type TaskImages, type TaskStatusWriter } from './tasks/supervisor.js';
import type { ContainerRuntime } from './runtime/runtime.js';
import { TaskNetwork } from './network/task-network.js';
import { VolumeHook } from './volumes/hook.js';
import { startMetricsReporter } from './metrics/reporter.js';
import { createAgentRegistry } from './metrics/prometheus.js';
import type { Registry } from 'prom-client';
import { startTracing, type Tracing } from '../tracing/index.js';
import { startNodeNetwork } from './network/node-network.js';
import { startAgentEndpoint, type AgentEndpoint } from './http/server.js';
import { startServiceRouting } from './lb/index.js';
import { startNetworkPolicies } from './netpol/index.js';
import { newProberFactory, ProbeEventRecorder, type ProberFactory } from './probes/index.js';

export const AGENT_VERSION = '0.1.0';

/** Options of runAgent (the `flotilla agent` flags and what `up` and tests pass in). */
export interface RunAgentOptions {
  /** The server tried first. */
  server: string;
  /** Every server of the cluster, `server` first (`--server` repeated or a comma list): join, renewals, the API client and heartbeats fail over between them. */
  servers?: string[];
  token: string;
  dataDir: string;
  /** Default: the host name. */
  name?: string;
  labels?: Record<string, string>;
  /** Override of the machine's figures (hollow nodes, tests). */
  capacity?: { cpu?: string; memory?: string };
  /** Address other nodes and the server reach this agent at (the agent endpoint binds to it); default: the local address of its connection to the server. */
  address?: string;
  /** Port of the agent endpoint (logs, exec); default 0: any free port, reported in the Node's status. */
  agentPort?: number;
  heartbeatMs?: number;
  /** Resource sampling interval (default 10 s; src/agent/metrics). */
  metricsIntervalMs?: number;
  /** OTLP/HTTP collector for the ingress's spans (`--otlp-endpoint`); none: no tracing. */
  otlpEndpoint?: string;
  /** Subnet of this node's tasks (default: the one the server assigns from its cluster CIDR; the agent waits for it). */
  subnet?: string;
  /** Bridge of this node's tasks (default flotilla0). */
  bridge?: string;
  /** Replaces the default hooks (the CNI network); tests and hollow nodes. */
  hooks?: TaskHook[];
  /** Replaces runc (hollow nodes only). */
  runtime?: ContainerRuntime;
  /** Program service VIPs and the routing mesh with nftables in this network namespace (src/agent/lb). Default off. */
  serviceRouting?: boolean;
  /** Enforce NetworkPolicies with nftables in this network namespace (src/agent/netpol). Default: as serviceRouting. */
  networkPolicies?: boolean;
  /** Service CIDR (default 10.96.0.0/16), routed to the load balancer's dummy interface. */
  serviceCidr?: string;
  /** Ingress proxy ports (src/agent/ingress); none: no ingress. Needs serviceRouting. */
  ingressHttpPort?: number;
  ingressHttpsPort?: number;
  /** Image gc when the data dir's filesystem is this full (percent, default 85; src/agent/image/collector.ts). */
  imageGcHighWaterPercent?: number;
  /** Where the RuntimeReady check looks for the cgroup hierarchy (default /sys/fs/cgroup). */
  cgroupRoot?: string;
  /** Parent of the per-task secret tmpfs mounts (default /run/flotilla/<node>/secrets). */
  secretsDir?: string;
  log?: (line: string) => void;
}

/** A running agent. */
export interface RunningAgent extends Disposable {
  nodeName: string;
  client: ApiClient;
  runtime: ContainerRuntime;
  /** Port the agent endpoint listens on. */
  agentPort: number;
  credentials(): NodeCredentials;
}

/** Starts an agent; rejects with everything stopped when it cannot join or register. */
export async function runAgent(opts: RunAgentOptions): Promise<RunningAgent> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const nodeName = opts.name ?? os.hostname().toLowerCase();
  const dataDir = path.resolve(opts.dataDir);
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const stack = new DisposableStack();
  try {
    const servers = [...new Set([opts.server, ...(opts.servers ?? [])])];
    const skewWarning = clockSkewWarning(opts.server, await measureClockSkew(opts.server));
    if (skewWarning !== undefined) log(skewWarning);
    let creds = await joinCluster({ server: opts.server, servers, token: opts.token, nodeName, dataDir });
    const client = new ApiClient({ server: opts.server, servers: creds.servers ?? servers, ca: creds.caPem, cert: creds.certPem, key: creds.keyPem });
    stack.add({ stop: () => client.close() });
    let endpoint: AgentEndpoint | undefined;
    const renewal = stack.add(startRenewal(() => creds, async (next) => {
      creds = next;
      client.setClientCertificate(next.certPem, next.keyPem, next.caPem);
      endpoint?.setCredentials(next.certPem, next.keyPem, next.caPem);
    }, dataDir, log));
    const runtime = opts.runtime ?? new RuncRuntime({ stateDir: path.join(dataDir, 'runtime'), onError: (e) => log(`runtime: ${(e as Error).message}`) });
    if (runtime instanceof RuncRuntime) stack.add(runtime.background);
    const address = opts.address ?? (await onFirstReachable(servers, (server) => localAddressTo({ server, caPem: creds.caPem, certPem: creds.certPem, keyPem: creds.keyPem })));
    if (opts.address === undefined) log(`agent: advertising address ${address} (the local address of its connection to ${opts.server})`);
    const logDir = path.join(dataDir, 'logs');
    let collector: ImageCollector | undefined;
    const prune = (): Promise<PruneResult> => (collector !== undefined ? collector.prune() : Promise.reject(new UnavailableError('the agent is still starting: no image collector yet')));
    let agentMetrics: Registry | undefined;
    const metrics = async (): Promise<{ contentType: string; text: string }> => {
      if (agentMetrics === undefined) throw new UnavailableError('the agent is still starting: no metrics yet');
      return { contentType: agentMetrics.contentType, text: await agentMetrics.metrics() };
    };
    endpoint = stack.add(await startAgentEndpoint({ host: address, port: opts.agentPort ?? 0, certPem: creds.certPem, keyPem: creds.keyPem, caPem: creds.caPem, runtime, logDir, log, renew: () => renewal.renewNow(), prune, metrics }));
    const volumesDir = path.join(dataDir, 'volumes');
    // RuntimeReady (src/agent/node/runtime-check.ts): checked for runc only; a replaced runtime reports it assumed.
    const runtimeReady = opts.runtime === undefined ? stack.add(await watchRuntimeCondition({
      ...(opts.cgroupRoot !== undefined ? { cgroupRoot: opts.cgroupRoot } : {}),
      ...(opts.hooks === undefined ? { cniDir: '/usr/lib/cni' } : {}),
    }, log)) : undefined;
    // DiskPressure (src/agent/node/disk-check.ts): the data dir's free space, beside RuntimeReady.
    const disk = runtimeReady !== undefined ? stack.add(await watchDiskCondition(dataDir, log)) : undefined;
    const identity = {
      name: nodeName, labels: opts.labels ?? {}, capacity: opts.capacity, address, agentPort: endpoint.address.port, volumesDir,
      ...(runtimeReady !== undefined ? { conditions: () => [runtimeReady.current(), ...(disk !== undefined ? [disk.current()] : [])] } : {}),
    };
    const nodeNet = opts.hooks === undefined
      ? stack.add(await startNodeNetwork({ store: client, nodeName, register: () => registerNode(client, identity, AGENT_VERSION), subnet: opts.subnet, bridge: opts.bridge, dataDir, log }))
      : undefined;
    // Secrets and configs first (a missing one rejects the task before its network is made); tests that replace the hooks add their own.
    const secretsHook = opts.hooks === undefined
      ? new SecretsHook({ client, runtimeDir: opts.secretsDir ?? path.join('/run/flotilla', nodeName, 'secrets'), tmpfs: SYSTEM_TMPFS })
      : undefined;
    const hooks = opts.hooks ?? [...(secretsHook !== undefined ? [secretsHook] : []), ...(nodeNet?.hooks ?? [])];
    const network = hooks.find((h): h is TaskNetwork => h instanceof TaskNetwork);
    if (network !== undefined) {
      const live = new Set((await runtime.list()).map((c) => c.id));
      const cleaned = await network.gc(live);
      if (cleaned.containers.length > 0) log(`network: cleaned up ${cleaned.containers.length} stale container network(s)`);
    }
    const puller = new ImagePuller({ dataDir: path.join(dataDir, 'images'), log });
    stack.add({ stop: () => puller.stop() });
    const trust = stack.add(new TaskImageTrust(client, new ImageTrustVerifier((registry) => puller.client(registry)), log));
    await trust.start();
    collector = new ImageCollector({
      store: puller.store, ready: () => puller.ready(), containersDir: path.join(dataDir, 'containers'), log,
      usage: () => nodeImageUsage(client, runtime, nodeName),
      ...(opts.imageGcHighWaterPercent !== undefined ? { highWaterPercent: opts.imageGcHighWaterPercent } : {}),
    });
    stack.add(collector.start());
    const events = stack.add(new ProbeEventRecorder(client, nodeName, log));
    stack.add(await runNode({
      client, identity, runtime, hooks, logDir, log, heartbeatMs: opts.heartbeatMs ?? 2_000, volumesDir,
      probers: newProberFactory({ runtime, events, log }),
      images: new PullerTaskImages(puller, path.join(dataDir, 'containers'), log, trust, (id, message) => {
        events.record({ metadata: taskOfContainerId(id) } as Pick<Task, 'metadata'>, { type: 'Warning', reason: UNTRUSTED_IMAGE_REASON, message });
      }, new PullCredentials(client)),
    }));
    const reporter = stack.add(startMetricsReporter({ nodeName, dataDir, runtime, send: (n, r) => client.reportMetrics(n, r), intervalMs: opts.metricsIntervalMs, log }));
    agentMetrics = createAgentRegistry(nodeName, reporter);
    const routing = opts.serviceRouting === true
      ? stack.add(await startServiceRouting({
        store: client, log, bridge: opts.bridge ?? 'flotilla0', serviceCidr: opts.serviceCidr,
        ingressHttpPort: opts.ingressHttpPort, ingressHttpsPort: opts.ingressHttpsPort,
      }))
      : undefined;
    if (opts.networkPolicies ?? opts.serviceRouting === true) {
      stack.add(await startNetworkPolicies({ store: client, log, ...(routing !== undefined ? { cluster: routing.directory } : {}) }));
    }
    log(`flotilla agent ${nodeName} ready (server ${(creds.servers ?? servers).join(', ')})`);
    return { nodeName, client, runtime, agentPort: endpoint.address.port, credentials: () => creds, stop: () => stack.stop() };
  } catch (err) {
    await stack.stop().catch(() => undefined);
    throw err;
  }
}

/** What runNode needs: one node's identity and the parts that run its tasks. */
export interface RunNodeOptions {
  /** The API client; hollow nodes share one. */
  client: ApiClient;
  /**
   * Client for registration and heartbeats (default: `client`). Hollow nodes give the beats a
   * connection pool of their own, so that a beat never waits behind thousands of task writes.
   */
  nodeClient?: NodeApi;
  identity: NodeIdentity;
  runtime: ContainerRuntime;
  images: TaskImages;
  hooks: TaskHook[];
  logDir: string;
  heartbeatMs: number;
  /** Delay before the periodic heartbeats begin (hollow nodes stagger theirs over the interval). */
  heartbeatOffsetMs?: number;
  /** A Task cache shared with other nodes of this process (hollow nodes); default: an informer of its own. */
  sharedTasks?: NodeTaskView;
  /** Parallel task syncs of this node (default 4). */
  workers?: number;
  /** Where task status goes (default `client`); hollow nodes pass one that bounds the writes in flight of the whole process. */
  statusWriter?: TaskStatusWriter;
  /** Health probes of running tasks (the real agent); hollow nodes have none: running tasks are ready. */
  probers?: ProberFactory;
  /** Root of the node's local volumes (src/agent/volumes); without it (hollow nodes) tasks get no volume mounts. */
  volumesDir?: string;
  log: (line: string) => void;
}

/**
 * Registers one Node, heartbeats it and runs its tasks with a TaskSupervisor: the part of an
 * agent that the real agent and every hollow node share. Stops the supervisor, then the beats.
 */
export async function runNode(o: RunNodeOptions): Promise<Disposable> {
  const stack = new DisposableStack();
  try {
    const nodeClient = o.nodeClient ?? o.client;
    const node = await registerNode(nodeClient, o.identity, AGENT_VERSION);
    stack.add(startHeartbeatsAfter(o.heartbeatOffsetMs ?? 0, () => startHeartbeats(nodeClient, node, o.identity, AGENT_VERSION, o.heartbeatMs, o.log)));
    const supervisor = new TaskSupervisor({
      nodeName: o.identity.name, store: o.client, status: o.statusWriter ?? o.client, runtime: o.runtime,
      hooks: o.volumesDir !== undefined ? [...o.hooks, new VolumeHook({ dir: o.volumesDir })] : o.hooks,
      images: o.images, logDir: o.logDir, log: o.log,
      ...(o.sharedTasks !== undefined ? { sharedTasks: o.sharedTasks } : {}),
      ...(o.workers !== undefined ? { workers: o.workers } : {}),
      ...(o.probers !== undefined ? { probers: o.probers } : {}),
    });
    await supervisor.start();
    stack.add(supervisor);
    return stack;
  } catch (err) {
    await stack.stop().catch(() => undefined);
    throw err;
  }
}

/** Starts heartbeats now, or after `offsetMs` (stopping before then cancels them). */
function startHeartbeatsAfter(offsetMs: number, start: () => Disposable): Disposable {
  if (offsetMs <= 0) return start();
  let beats: Disposable | undefined;
  const timer = setTimeout(() => { beats = start(); }, offsetMs);
  timer.unref();
  return disposable(async () => {
    clearTimeout(timer);
    await beats?.stop();
  });
}

/** The renewal loop: a Disposable that can also renew at once. */
export interface CertificateRenewal extends Disposable {
  /** Renews now (the server asked: `node rotate-cert`, `ca rotate`); resolves with the new credentials. */
  renewNow(): Promise<NodeCredentials>;
}

/**
 * Renews the node certificate at two thirds of its life, retrying every 10 s on failure, and on
 * demand (renewNow). Renewals never overlap: each waits for the one before.
 */
export function startRenewal(current: () => NodeCredentials, apply: (c: NodeCredentials) => Promise<void>, dataDir: string, log: (l: string) => void): CertificateRenewal {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let inFlight: Promise<unknown> = Promise.resolve();
  const renewOnce = (why: string): Promise<NodeCredentials> => {
    const p = inFlight.catch(() => undefined).then(async () => {
      const next = await renewCredentials(current(), dataDir);
      await apply(next);
      log(`node certificate renewed (${why}); valid until ${new Date(Date.now() + renewDelayMs(next.certPem) * 1.5).toISOString()}`);
      schedule(renewDelayMs(next.certPem));
      return next;
    });
    inFlight = p;
    return p;
  };
  const schedule = (ms: number): void => {
    if (timer !== undefined) clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(() => {
      renewOnce('at two thirds of its life').catch((err: unknown) => {
        log(`certificate renewal failed (retrying in 10 s): ${(err as Error).message}`);
        schedule(10_000);
      });
    }, ms);
    timer.unref();
  };
  schedule(renewDelayMs(current().certPem));
  return {
    renewNow: () => (stopped ? Promise.reject(new Error('the agent is stopping')) : renewOnce('asked by the server')),
    stop: async () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await inFlight.catch(() => undefined);
    },
  };
}
