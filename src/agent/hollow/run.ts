/**
 * `flotilla agent --simulate N`: N hollow nodes in one process (as kubemark does for
 * Kubernetes), for scale tests of the server, the scheduler and the controllers. Each hollow
 * node runs the real agent's code (runNode: registerNode, startHeartbeats, a TaskSupervisor)
 * with an in-memory runtime and no image pulls, no network hooks. What they share:
 *
 *   one join (certificate node:PREFIX.hollow) -> one ApiClient for tasks (one HTTPS pool),
 *                                                one for registration + heartbeats, renewal
 *   one SharedTaskInformer (one Task watch)   -> routes events to supervisor[node]
 *   one WriteLimit (task status writes in flight, all nodes together)
 *   N x runNode(PREFIX-i, label flotilla.dev/hollow=true, HollowRuntime, HollowTaskImages,
 *       1 supervisor worker) registered `registerConcurrency` at a time; heartbeats (Lease
 *       renewals) staggered over the interval
 *
 *   stop(): nodes (supervisors, heartbeats) -> task watch -> renewal -> client
 */
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { isRetryable } from '../../api/errors.js';
import type { NodeResources } from '../../api/kinds.js';
import { ApiClient } from '../../client/index.js';
import { DisposableStack, sleep, type Disposable } from '../../lifecycle.js';
import { hollowIdentityName } from '../../server/auth/identity.js';
import { joinCluster, type NodeCredentials } from '../join/join.js';
import { runNode, startRenewal } from '../run.js';
import { HollowTaskImages } from './hollow-images.js';
import { HollowRuntime } from './hollow-runtime.js';
import { SharedTaskInformer } from './shared-tasks.js';
import { limitedStatusWriter, WriteLimit } from './write-limit.js';

/** The label every hollow Node carries, so that nobody mistakes one for a machine. */
export const HOLLOW_LABEL = 'flotilla.dev/hollow';

/** Options of runHollowAgent (the `flotilla agent --simulate N` flags, and what benches pass). */
export interface RunHollowOptions {
  server: string;
  /** Every server of the cluster, `server` first: join, renewals, task writes and heartbeats fail over between them. */
  servers?: string[];
  token: string;
  /** Keeps the shared credential (node-credentials.json); nothing else is written. */
  dataDir: string;
  /** How many hollow nodes. */
  count: number;
  /** Nodes are named PREFIX-0, PREFIX-1, ... (default `hollow`). */
  namePrefix?: string;
  /** Extra labels of every node (the hollow label is always added). */
  labels?: Record<string, string>;
  /** What each node offers (default 4 cores, 16 GiB, 32768 pids). */
  capacity?: Partial<NodeResources>;
  /** Heartbeat interval of each node (default 2000 ms, as the real agent). */
  heartbeatMs?: number;
  /** Delay of a fake container start (default 20 ms). */
  startDelayMs?: number;
  /** Nodes registering at once (default 32). */
  registerConcurrency?: number;
  /** Parallel task syncs per node (default 1: a hollow node's steps are instant). */
  workersPerNode?: number;
  /** Sockets of the shared HTTPS pool (default 64). */
  maxSockets?: number;
  /** Task status writes in flight at once, all nodes together (default: the pool's sockets). */
  maxWritesInFlight?: number;
  log?: (line: string) => void;
}

/** The running hollow agent. */
export interface RunningHollowAgent extends Disposable {
  /** The name in the shared certificate (`PREFIX.hollow`). */
  identity: string;
  nodeNames: string[];
  client: ApiClient;
  /** The in-memory runtime of one node (tests, simulated crashes). */
  runtimeOf(nodeName: string): HollowRuntime | undefined;
  credentials(): NodeCredentials;
}

const DEFAULT_CAPACITY: Partial<NodeResources> = { cpu: '4', memory: String(16 * 2 ** 30), pids: 32768 };

/** Starts N hollow nodes; rejects with everything stopped when it cannot join or register. */
export async function runHollowAgent(opts: RunHollowOptions): Promise<RunningHollowAgent> {
  const say = opts.log ?? ((l: string) => console.error(l));
  const log = (l: string): void => say(`hollow: ${l}`);
  const prefix = opts.namePrefix ?? 'hollow';
  const identity = hollowIdentityName(prefix);
  const dataDir = path.resolve(opts.dataDir);
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const stack = new DisposableStack();
  try {
    const servers = [...new Set([opts.server, ...(opts.servers ?? [])])];
    let creds = await joinCluster({ server: opts.server, servers, token: opts.token, nodeName: identity, dataDir });
    const client = new ApiClient({ server: opts.server, servers: creds.servers ?? servers, ca: creds.caPem, cert: creds.certPem, key: creds.keyPem }, { maxSockets: opts.maxSockets ?? 64 });
    stack.add({ stop: () => client.close() });
    // Registration and heartbeats on a pool of their own, never queued behind task writes. A
    // socket carries at most 1/latency beats per second, so the pool grows with N, but only to
    // 128: each new socket is a TLS handshake on the server, and hundreds of them opened at once
    // when a busy server's latency grows stalled every handshake for more than the beats'
    // timeout (measured: 500 sockets at 2,000 nodes, new connections not through TLS in 20 s).
    const beatSockets = Math.min(128, Math.max(16, Math.ceil(opts.count / 16)));
    const beats = new ApiClient({ server: opts.server, servers: creds.servers ?? servers, ca: creds.caPem, cert: creds.certPem, key: creds.keyPem }, { maxSockets: beatSockets, timeoutMs: 10_000 });
    stack.add({ stop: () => beats.close() });
    stack.add(startRenewal(() => creds, async (next) => {
      creds = next;
      client.setClientCertificate(next.certPem, next.keyPem);
      beats.setClientCertificate(next.certPem, next.keyPem);
    }, dataDir, log));
    const sockets = opts.maxSockets ?? 64;
    // Never more writes in flight than sockets: a request then never waits in the pool's queue,
    // where it could time out and be retried behind itself (write-limit.ts).
    const writes = new WriteLimit(Math.max(1, Math.min(opts.maxWritesInFlight ?? sockets, sockets)));
    const statusWriter = limitedStatusWriter(client, writes);
    const tasks = stack.add(new SharedTaskInformer(client, log));
    await tasks.start();
    const nodes = stack.add(new DisposableStack());
    const runtimes = new Map<string, HollowRuntime>();
    const width = String(Math.max(opts.count - 1, 0)).length;
    const nodeNames = Array.from({ length: opts.count }, (_, i) => `${prefix}-${String(i).padStart(width, '0')}`);
    const heartbeatMs = opts.heartbeatMs ?? 2_000;
    const started = Date.now();
    await forEachLimit(nodeNames, opts.registerConcurrency ?? 32, async (name, i) => {
      const runtime = new HollowRuntime({ startDelayMs: opts.startDelayMs });
      runtimes.set(name, runtime);
      nodes.add(await withRetries(() => runNode({
        client, nodeClient: beats, runtime, images: new HollowTaskImages(), hooks: [], sharedTasks: tasks,
        identity: { name, labels: { ...opts.labels, [HOLLOW_LABEL]: 'true' }, capacity: { ...DEFAULT_CAPACITY, ...opts.capacity }, address: '127.0.0.1' },
        logDir: path.join(dataDir, 'logs', name),
        heartbeatMs, heartbeatOffsetMs: Math.floor(Math.random() * heartbeatMs),
        workers: opts.workersPerNode ?? 1, statusWriter,
        log: (l) => log(`${name}: ${l}`),
      })));
      if ((i + 1) % 1000 === 0) log(`${i + 1}/${opts.count} hollow nodes registered (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    });
    log(`${opts.count} hollow nodes ready as ${identity} (${prefix}-*, label ${HOLLOW_LABEL}=true; server ${(creds.servers ?? servers).join(', ')}; ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return {
      identity, nodeNames, client,
      runtimeOf: (n) => runtimes.get(n),
      credentials: () => creds,
      stop: () => stack.stop(),
    };
  } catch (err) {
    await stack.stop().catch(() => undefined);
    throw err;
  }
}

/** Runs `fn` over `items` with at most `limit` at once; the first failure rejects (the rest still settle). */
async function forEachLimit<T>(items: T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < items.length) {
      const i = next++;
      try {
        await fn(items[i] as T, i);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed !== undefined) throw failed;
}

/** Retries a retryable failure (an overloaded server) up to 5 times with backoff. */
async function withRetries<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isRetryable(err) || attempt >= 5) throw err;
      await sleep(200 * 2 ** attempt);
    }
  }
}
