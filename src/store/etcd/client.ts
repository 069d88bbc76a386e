/**
 * The one etcd connection of a store: how it is configured (no hidden library retries, fast
 * reconnects, bounded calls), how a failed call is retried, and how etcd / gRPC errors become
 * Flotilla's typed errors. Everything else in this folder calls etcd through `EtcdCaller.call`.
 */
import { ExponentialBackoff, noop } from 'cockatiel';
import { Etcd3, type IOptions } from 'etcd3';
import { BadRequestError, FlotillaError, GoneError, UnavailableError } from '../../api/errors.js';
import { sleep } from '../../lifecycle.js';

/** TLS material for talking to etcd over https:// endpoints. */
export interface EtcdTlsOptions {
  /** PEM of the CA that signed etcd's serving certificate. */
  caCert: Buffer;
  /** Client certificate and key (PEM), when etcd asks for client certificates. */
  clientCert?: Buffer;
  clientKey?: Buffer;
}

/** How the store connects to etcd. */
export interface EtcdConnectionOptions {
  /** Client URLs, e.g. `http://127.0.0.1:2379`. */
  endpoints: string[];
  tls?: EtcdTlsOptions;
  /** An operation that cannot reach etcd fails with UnavailableError after this long (default 5000). */
  timeoutMs?: number;
  /** One gRPC call's deadline (default 2000): a hung member is given up on and another tried. */
  callTimeoutMs?: number;
}

/** Whether a call changes state: writes are retried only when they surely never reached etcd. */
export type CallMode = 'read' | 'write';

const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_CALL_TIMEOUT_MS = 2_000;

/** Creates the client with our policies instead of the library's hidden retries and breakers. */
export function createEtcdClient(opts: EtcdConnectionOptions): Etcd3 {
  if (opts.endpoints.length === 0) throw new BadRequestError('etcd store: no endpoints given');
  const options: IOptions = {
    hosts: opts.endpoints,
    // The library would retry a txn 3 times by default (not safe for writes) and open a 5 s
    // circuit breaker per host: we retry ourselves in EtcdCaller, knowing reads from writes.
    faultHandling: {
      host: () => noop,
      global: noop,
      watchBackoff: new ExponentialBackoff({ initialDelay: 20, maxDelay: 1_000 }).next(),
    },
    grpcOptions: {
      'grpc.initial_reconnect_backoff_ms': 50,
      'grpc.max_reconnect_backoff_ms': 1_000,
      'grpc.min_reconnect_backoff_ms': 50,
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      // Finds a dead peer behind a silent network under a long-lived watch stream. etcd's
      // default enforcement allows pings every 5 s while a stream is open.
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
    },
  };
  if (opts.tls !== undefined) {
    options.credentials = { rootCertificate: opts.tls.caCert, privateKey: opts.tls.clientKey, certChain: opts.tls.clientCert };
  }
  return new Etcd3(options);
}

/** Runs calls against etcd with a deadline, retries what is safe to retry, maps errors. */
export class EtcdCaller {
  private readonly timeoutMs: number;
  private readonly callTimeoutMs: number;
  private closed = false;

  constructor(
    readonly client: Etcd3,
    opts: EtcdConnectionOptions,
  ) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.callTimeoutMs = opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  }

  /** Marks the caller closed: later calls fail at once instead of reconnecting. */
  close(): void {
    this.closed = true;
  }

  /**
   * Runs `fn` with a gRPC deadline until it succeeds, fails for good, or the operation's time
   * budget is spent (then UnavailableError). Reads retry on any transient error; writes only
   * when etcd surely never saw them (no connection, no leader), so nothing is applied twice.
   */
  async call<T>(mode: CallMode, what: string, fn: (deadline: Date) => Promise<T>): Promise<T> {
    const end = Date.now() + this.timeoutMs;
    let backoffMs = 20;
    for (;;) {
      if (this.closed) throw new UnavailableError(`etcd store is closed (${what})`);
      try {
        return await fn(new Date(Math.min(end, Date.now() + this.callTimeoutMs)));
      } catch (err) {
        const retry = mode === 'read' ? isTransient(err) : neverReachedEtcd(err);
        if (!retry || this.closed || Date.now() + backoffMs >= end) throw toFlotillaError(err, what);
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 500);
      }
    }
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** gRPC status of an error from @grpc/grpc-js, from its message ("14 UNAVAILABLE: ..."). */
function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'number') return code;
  const m = /^(?:\w+: )?(\d+) [A-Z_]+:/.exec(messageOf(err));
  return m !== null ? Number(m[1]) : undefined;
}

const TRANSIENT_MESSAGES = ['etcdserver: no leader', 'etcdserver: leader changed', 'etcdserver: request timed out', 'etcdserver: too many requests', 'etcdserver: not capable', 'etcdserver: server stopped'];

/** Worth trying again later: the network, a deadline, an election. */
function isTransient(err: unknown): boolean {
  const code = grpcCode(err);
  if (code === 14 || code === 4 || code === 1) return true; // UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED
  const msg = messageOf(err);
  return TRANSIENT_MESSAGES.some((m) => msg.includes(m)) || /ECONNREFUSED|ECONNRESET|Connection dropped/.test(msg);
}

/** The request certainly did not reach the raft log, so retrying a write cannot apply it twice. */
function neverReachedEtcd(err: unknown): boolean {
  const msg = messageOf(err);
  return msg.includes('No connection established') || msg.includes('etcdserver: no leader') || msg.includes('etcdserver: not capable');
}

/** Maps an etcd client error to a typed Flotilla error; typed errors pass through. */
export function toFlotillaError(err: unknown, what: string): FlotillaError {
  if (err instanceof FlotillaError) return err;
  const msg = messageOf(err);
  if (msg.includes('required revision has been compacted')) return new GoneError(`${what}: ${msg}`);
  if (isTransient(err) || err?.constructor?.name === 'ClientClosedError') return new UnavailableError(`etcd unavailable (${what}): ${msg}`);
  if (/too many operations in txn|duplicate key given in txn|request is too large|message larger than max/.test(msg)) return new BadRequestError(`${what}: ${msg}`);
  return new FlotillaError(`etcd error (${what}): ${msg}`);
}
