/**
 * `flotilla server` as a function: lock the data dir, PKI, admin token, store, loops, HTTPS
 * API, admin.json, "ready". Everything it starts is stopped by RunningServer.stop().
 *
 *   lock DATA_DIR -> PKI (DATA_DIR/pki) -> admin token (DATA_DIR/auth) -> open store
 *   -> KEK (DATA_DIR/kek or --kek-file; must decrypt every stored Secret, src/server/secrets)
 *   -> cluster CA from the store (seeded by the first server; src/server/pki/ca-store.ts)
 *   -> cluster admin token from the store (seeded by the first server; auth/cluster-admin.ts)
 *   -> RBAC authorizer (Grant and Role informers, audit log; src/server/auth/rbac) -> start LOOPS (controllers; with etcd only while this server holds the leader lease,
 *      src/server/leader) -> start HTTPS API -> etcd: publish the URL (Config flotilla-system/api-servers)
 *   -> write DATA_DIR/admin.json (server, servers, CA, the cluster admin token) -> print ready
 *   stop(): API (watches, connections) -> loops (resign the lease) -> store -> lock
 */
import { promises as fs } from 'node:fs';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import { DisposableStack, type Disposable } from '../lifecycle.js';
import type { Store } from '../store/store.js';
import { RequestAuthenticator } from './auth/authenticate.js';
import { BuiltinAuthorizer, isNodeOf, type Authorizer } from './auth/identity.js';
import { RbacAuthorizer } from './auth/rbac/authorizer.js';
import { authenticateUserToken } from './auth/rbac/users.js';
import { ensureAdminToken, TokenAuthenticator } from './auth/tokens.js';
import { clusterAdminToken } from './auth/cluster-admin.js';
import { publishApiServer, type ApiServerList } from './api-servers.js';
import type { AdmissionHook, ObjectCodec } from './hooks.js';
import { StoreSourceAccess } from './secrets/access.js';
import { openSecretKeys } from './secrets/keys.js';
import type { ApiContext } from './http/context.js';
import { DEFAULT_BODY_LIMIT_BYTES } from './http/respond.js';
import { startApiServer, type HttpTimeouts } from './http/server.js';
import { clientUrl, parseListen } from './listen.js';
import { lockDataDir } from './lock.js';
import { openStore } from './open-store.js';
import { ClusterPki, writeSecret } from './pki/index.js';
import { versionInfo } from './version.js';
import type { JoinSettings } from './join/routes.js';
import type { Leadership } from './leader/index.js';
import { startControllers } from '../controllers/index.js';
import { startEventExpiry } from '../controllers/events/expiry.js';
import { startAutoscaler } from '../controllers/autoscale/controller.js';
import { EventCorrelator } from './events/correlator.js';
import { MetricsSeries } from './metrics/series.js';
import { addClusterGauges, createServerRegistry } from './metrics/prometheus.js';
import { createInstruments } from './metrics/instrument.js';
import { startTracing, type Tracer, type Tracing } from '../tracing/index.js';
import { recycleOptions, type RecycleSettings } from '../controllers/recycle/settings.js';
import { PublishPortAdmission } from './admission/ports.js';
import { volumeAdmission } from './admission/volumes.js';
import { ImageTrustAdmission } from './admission/trust.js';
import { ImageTrustVerifier, RegistryClients } from '../image-trust/index.js';
import { serverId, startLeadershipLazily } from './leadership.js';
import { systemNamespaceAdmission } from './admission/system-namespace.js';
import { CertificateGuard } from './auth/revocations.js';
import { openClusterCa } from './pki/ca-store.js';
import { startCaRotation } from './pki/rotation.js';
import { AgentDialer } from './proxy/agent-dialer.js';

/** Options of runServer (the `flotilla server` flags, plus hooks for tests and embedding). */
export interface RunServerOptions {
  dataDir: string;
  /** HOST:PORT; port 0 picks a free port. */
  listen: string;
  store: 'sqlite' | 'etcd';
  etcdEndpoints?: string[];
  /** SQLite durability (default `full`: every acknowledged write is fsynced). */
  sqliteSynchronous?: 'full' | 'normal';
  /** Extra SANs for the server certificate (public IPs, DNS names). */
  extraSans?: string[];
  /** false: serve the API only, without the controllers (tests of the API alone). */
  controllers?: boolean;
  /** Extra loops to start once the store is open, on every server (tests, `flotilla up` adding its agent). */
  loops?: LoopFactory[];
  /** Extra loops that run only on the leader, like SERVER_LOOPS (tests, embedders' controllers). */
  leaderLoops?: LoopFactory[];
  /** etcd: TTL of the leader lease in seconds (default 3); a successor takes over about this long after a leader dies. */
  leaderTtlSeconds?: number;
  /** Where the ready line goes (default: stdout). */
  log?: (line: string) => void;
  /** Watch bookmark interval (default 5000 ms). */
  watchBookmarkMs?: number;
  /** Replaces the RBAC authorizer (admin: all; nodes: the node rules; users: their Grants). */
  authorizer?: Authorizer;
  /** Audit Event flush interval of the RBAC authorizer (default 1000 ms; 0: no audit Events). */
  auditFlushMs?: number;
  /** Node certificate and join token lifetimes (tests use short ones). */
  join?: JoinSettings;
  /** Aborts a start that is still waiting for etcd. */
  signal?: AbortSignal;
  /** Admit services with `type: bind` volumes (host paths); `--allow-host-binds`, default off. */
  allowHostBinds?: boolean;
  /** Range node task subnets are cut from (`--cluster-cidr`; default 10.88.0.0/16, a /24 per node). */
  clusterCidr?: string;
  /** Heartbeat age after which a node is down and its tasks are replaced (default 6000 ms). */
  nodeGracePeriodMs?: number;
  /** The key-encryption key of Secrets (`--kek-file`; default DATA_DIR/kek, created on the first start). */
  kekFile?: string;
  /** Events last seen longer ago than this are deleted (`--event-ttl`; default 1 h). */
  eventTtlMs?: number;
  /** How often the autoscaler decides (`--autoscale-interval`; default 10 s). */
  autoscaleIntervalMs?: number;
  /** OTLP/HTTP collector for spans (`--otlp-endpoint`, e.g. http://127.0.0.1:4318); none: no tracing. */
  otlpEndpoint?: string;
  /** Reverse uptime: `--max-node-age`, `--node-provisioner` (src/controllers/recycle). */
  recycle?: RecycleSettings;
  /** Limits on slow clients of the API (default DEFAULT_HTTP_TIMEOUTS; tests use short ones). */
  httpTimeouts?: Partial<HttpTimeouts>;
}

/** What a loop gets: the store every component talks through, and the data dir. */
export interface LoopEnv {
  store: Store;
  dataDir: string;
  /** RunServerOptions.clusterCidr. */
  clusterCidr?: string;
  /** RunServerOptions.nodeGracePeriodMs. */
  nodeGracePeriodMs?: number;
  /** RunServerOptions.eventTtlMs. */
  eventTtlMs?: number;
  /** The agents' samples this server received (the autoscaler reads them). */
  metrics?: MetricsSeries;
  /** RunServerOptions.autoscaleIntervalMs. */
  autoscaleIntervalMs?: number;
  /** Spans of the scheduler (RunServerOptions.otlpEndpoint). */
  tracer?: Tracer;
  /** RunServerOptions.recycle. */
  recycle?: RecycleSettings;
}

/** Starts one loop (a controller, the scheduler...); the returned Disposable stops it. */
export type LoopFactory = (env: LoopEnv) => Disposable | Promise<Disposable>;

/**
 * LOOPS TO START AFTER THE STORE IS OPEN. The lead wires the scheduler and the controllers here
 * (service, rollout, node health, endpoints, gc...), each `(env) => Disposable`. They are
 * started in this order and stopped in reverse, before the store closes.
 */
export const SERVER_LOOPS: LoopFactory[] = [
  (env) => startControllers(env.store, { clusterCidr: env.clusterCidr, nodeGracePeriodMs: env.nodeGracePeriodMs, tracer: env.tracer, recycle: recycleOptions(env.recycle), log: (m) => { if (process.env.FLOTILLA_DEBUG === '1') console.error(m); } }),
  (env) => startEventExpiry(env.store, { ttlMs: env.eventTtlMs, log: (m) => console.error(m) }),
  (env) => startAutoscaler(env.store, env.metrics ?? new MetricsSeries(), { intervalMs: env.autoscaleIntervalMs, log: (m) => console.error(m) }),
];

/** A started server. */
export interface RunningServer extends Disposable {
  /** `https://127.0.0.1:PORT` (what admin.json says). */
  url: string;
  port: number;
  store: Store;
  pki: ClusterPki;
  /** DATA_DIR/admin.json. */
  adminConfigPath: string;
  /** Whether this server leads (runs the controllers) and which server does. */
  leadership: Leadership;
  /** Resource use the agents of this server reported (memory only). */
  metrics: MetricsSeries;
  /** Idempotent: closes connections, watches, loops, the store, and removes the lock. */
  stop(): Promise<void>;
}

/** Starts loops in order into one Disposable that stops them in reverse (also when a start fails). */
async function startLoops(factories: LoopFactory[], env: LoopEnv): Promise<Disposable> {
  const loops = new DisposableStack();
  try {
    for (const start of factories) loops.add(await start(env));
  } catch (err) {
    await loops.stop().catch(() => undefined);
    throw err;
  }
  return loops;
}

/** Starts the server; rejects (with everything it started stopped) when it cannot. */
export async function runServer(opts: RunServerOptions): Promise<RunningServer> {
  const dataDir = path.resolve(opts.dataDir);
  const { host, port } = parseListen(opts.listen);
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const stack = new DisposableStack();
  try {
    stack.add(await lockDataDir(dataDir));
    const specificHost = [host]; // a wildcard makes the PKI add the interface addresses
    const pki = await ClusterPki.loadOrCreate(path.join(dataDir, 'pki'), { extraSans: [...specificHost, ...(opts.extraSans ?? [])] });
    const localAdmin = await ensureAdminToken(dataDir);
    const rawStore = await openStore({ store: opts.store, dataDir, etcdEndpoints: opts.etcdEndpoints, sqliteSynchronous: opts.sqliteSynchronous }, opts.signal);
    stack.add({ stop: () => rawStore.close() });
    // Every write of the API, the controllers and the scheduler is timed for /metrics.
    const registry = createServerRegistry();
    const instruments = createInstruments(registry);
    const store = instruments.instrumentStore(rawStore);
    // Before any loop or API writes: a KEK that does not decrypt the stored secrets stops the start here.
    const secretKeys = await openSecretKeys(store, path.resolve(opts.kekFile ?? path.join(dataDir, 'kek')));
    const metrics = new MetricsSeries();
    addClusterGauges(registry, { store, series: metrics });
    const tracing = opts.otlpEndpoint !== undefined ? stack.add(await startTracing({ endpoint: opts.otlpEndpoint, serviceName: 'flotilla-server' }) as Tracing) : undefined;
    // The cluster CA lives in the store (shared by every server of it); rotations re-adopt it (pki/ca-store.ts).
    const ring = secretKeys.codec.ring;
    const serverLog = opts.log ?? ((line: string) => console.error(line));
    let writeAdminConfig: (() => Promise<void>) | undefined;
    stack.add(await openClusterCa({ store, ring, pki, onAdopt: async () => writeAdminConfig?.(), log: serverLog }));
    // One admin token for every server of the store (auth/cluster-admin.ts): admin.json works against any of them.
    const admin = await clusterAdminToken(store, ring, localAdmin, dataDir);
    if (admin.adopted) serverLog('flotilla server: adopted the cluster admin token stored by the first server');
    const tokens = new TokenAuthenticator();
    tokens.add(admin.hash, { kind: 'admin', name: 'admin' });
    const env: LoopEnv = { store, dataDir, clusterCidr: opts.clusterCidr, nodeGracePeriodMs: opts.nodeGracePeriodMs, eventTtlMs: opts.eventTtlMs, metrics, autoscaleIntervalMs: opts.autoscaleIntervalMs, tracer: tracing?.tracer, recycle: opts.recycle };
    const caRotation: LoopFactory = () => startCaRotation({ store, ring, pki, dialer: new AgentDialer(pki), log: serverLog });
    const leaderOnly = [...(opts.controllers === false ? [] : [...SERVER_LOOPS, caRotation]), ...(opts.leaderLoops ?? [])];
    const leadership = stack.add(await startLeadershipLazily({
      etcdEndpoints: opts.store === 'etcd' ? opts.etcdEndpoints : undefined,
      id: serverId(),
      ttlSeconds: opts.leaderTtlSeconds,
      onLead: () => startLoops(leaderOnly, env),
      log: opts.log ?? ((line) => console.error(line)),
    }));
    stack.add(await startLoops(opts.loops ?? [], env));
    const nodeRules = new BuiltinAuthorizer(new StoreSourceAccess(store, isNodeOf));
    const authorizer = opts.authorizer ?? stack.add(new RbacAuthorizer(store, { nodes: nodeRules, auditFlushMs: opts.auditFlushMs }));
    if (authorizer instanceof RbacAuthorizer) await authorizer.start();
    const registries = new RegistryClients({ timeoutMs: 10_000 });
    stack.add(registries);
    const ctx: ApiContext = {
      store,
      codec: secretKeys.codec as ObjectCodec,
      authorizer,
      rotateSecretKey: () => secretKeys.rotate(),
      events: new EventCorrelator(store),
      admission: [systemNamespaceAdmission, new PublishPortAdmission(store), ...volumeAdmission(store, { allowHostBinds: opts.allowHostBinds === true }), new ImageTrustAdmission(store, new ImageTrustVerifier((r) => registries.get(r)))] as AdmissionHook[],
      bodyLimitBytes: DEFAULT_BODY_LIMIT_BYTES,
      watchBookmarkMs: opts.watchBookmarkMs ?? 5_000,
      version: versionInfo(),
    };
    const certificates = stack.add(new CertificateGuard(store, pki, serverLog));
    await certificates.start();
    const authenticator = new RequestAuthenticator(tokens, (token) => authenticateUserToken(store, token), certificates);
    const api = stack.add(await startApiServer({ ctx, pki, metrics, prometheus: { registry, instruments }, tracer: tracing?.tracer, authenticator, join: opts.join, caRing: ring, leadership: () => leadership.status(), timeouts: opts.httpTimeouts }, host, port));
    const url = clientUrl(host, api.address.port);
    const adminConfigPath = path.join(dataDir, 'admin.json');
    // Rewritten with every new trust bundle (`flotilla ca rotate`).
    // Servers on one etcd publish their URLs (api-servers.ts): admin.json lists them all, to fail over.
    let apiServers: ApiServerList | undefined;
    writeAdminConfig = () => {
      const servers = apiServers?.urls() ?? [url];
      return writeSecret(adminConfigPath, `${JSON.stringify({ server: url, ...(servers.length > 1 ? { servers } : {}), ca: pki.caCertPem, token: admin.token }, null, 2)}\n`);
    };
    if (opts.store === 'etcd') {
      const key = `${hostname()}-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`;
      apiServers = stack.add(await publishApiServer({ store, url, key, onChange: () => { void writeAdminConfig?.().catch((err: unknown) => serverLog(`admin config: ${(err as Error).message}`)); }, log: serverLog }));
    }
    await writeAdminConfig();
    (opts.log ?? console.log)(`flotilla server ready at ${url} (store ${opts.store}, data dir ${dataDir}, admin config ${adminConfigPath})`);
    return { url, port: api.address.port, store, pki, adminConfigPath, leadership, metrics, stop: () => stack.stop() };
  } catch (err) {
    await stack.stop().catch(() => undefined);
    throw err;
  }
}
