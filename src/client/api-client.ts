/**
 * The client library everyone uses to talk to a Flotilla server. It implements Store, so the
 * controllers, the scheduler and agents run unchanged against a remote server, and adds the
 * API-only calls (apply, status updates, version).
 *
 *   Store call        REST call
 *   create(o)         POST   /api/v1/{plural}?full=true             (status and uid kept)
 *   get(k)            GET    /api/v1/{plural}/{name}?namespace=      (404 -> undefined)
 *   list(kind, o)     GET    /api/v1/{plural}?namespace=&labelSelector=
 *   update(o, rev)    PUT    /api/v1/{plural}/{name}?full=true&revision=rev|0
 *   delete(k, rev)    DELETE /api/v1/{plural}/{name}?namespace=&revision=
 *   watch(o, h)       GET    /api/v1/watch?kind=&namespace=&revision=   (RemoteWatch)
 *   revision()        GET    /api/v1/revision
 *   txn(ops)          not over the API (BadRequestError); apply() is the batch write
 *   logs(target, q)   GET    /api/v1/{tasks|services}/{name}/logs   (JSON line frames)
 *   exec(task, req)   POST   /api/v1/tasks/{name}/exec               (JSON line frames)
 *   rolloutAction     POST   /api/v1/services/{name}/rollout?namespace=  {action, toRevision?}
 */
import { BadRequestError, NotFoundError } from '../api/errors.js';
import { PLURAL } from '../api/kind-names.js';
import { CLUSTER_SCOPED, type ApiObject, type Kind, type ObjectKey } from '../api/object.js';
import type { ListOptions, ListResult, Store, TxnOp, Watch, WatchHandlers, WatchOptions } from '../store/store.js';
import { loadClientConfig, type ClientConfig } from './config.js';
import { HttpsTransport, type TransportOptions } from './transport.js';

/** What GET /api/v1/ca answers (src/server/pki/rotation.ts caStatusOf). */
export interface CaStatus {
  trusted: { fingerprint: string; subject: string; notAfter: string }[];
  signer: string;
  serving: string;
  retired: string[];
  /** PEM of the trusted CAs. */
  bundle: string;
  rotation?: { phase: string; from: string; to: string; startedAt: string; deadline: string; renewed: string[]; skipped: string[]; message?: string };
}
import { RemoteWatch, type RemoteWatchOptions } from './watch.js';
import type { MetricsReport } from '../api/metrics.js';
import type { ExecRequest, LogFrame, LogQuery } from '../api/frames.js';
import type { Service } from '../api/kinds.js';
import type { RolloutActionRequest } from '../api/rollout-actions.js';
import { execInTask, streamLogs, type ExecOutcome, type ExecSinks, type LogTarget } from './streams.js';

/** What apply did to one object (the server's answer). */
export interface ApplyResult {
  kind: Kind;
  namespace: string;
  name: string;
  action: 'created' | 'configured' | 'unchanged';
}

/** Options of ApiClient. */
export interface ApiClientOptions extends TransportOptions {
  watch?: RemoteWatchOptions;
}

/** A Store over the HTTPS API; see the module comment. */
export class ApiClient implements Store {
  private readonly transport: HttpsTransport;
  private readonly watches = new Set<RemoteWatch>();

  constructor(readonly config: ClientConfig, private readonly opts: ApiClientOptions = {}) {
    this.transport = new HttpsTransport(config, opts);
  }

  /** Creates a join token (admin only); the secret is shown once, here. `servers`: URLs a new machine can join at, best first. */
  createJoinToken(role: 'worker' | 'manager', ttlSeconds?: number): Promise<{ token: string; id: string; role: string; expiresAt: string; servers?: string[] }> {
    return this.transport.json('POST', '/api/v1/join/tokens', { role, ...(ttlSeconds !== undefined ? { ttlSeconds } : {}) });
  }

  /** An agent's metrics report (POST /api/v1/nodes/NAME/metrics; src/server/metrics). */
  async reportMetrics(node: string, report: MetricsReport): Promise<void> {
    await this.transport.json('POST', `/api/v1/nodes/${encodeURIComponent(node)}/metrics`, report);
  }

  /** `flotilla top`: current usage of nodes, tasks or services (GET /api/v1/metrics/WHAT?query). */
  async usage<T>(what: 'nodes' | 'tasks' | 'services' | 'points', query: Record<string, string> = {}): Promise<T[]> {
    return (await this.transport.json<{ items: T[] }>('GET', `/api/v1/metrics/${what}?${new URLSearchParams(query).toString()}`)).items;
  }

  /** Image garbage collection on a node now (`flotilla node prune`): what its agent removed. */
  pruneNode(name: string): Promise<{ node: string; images: number; layers: number; blobs: number; rootfs: number; bytesFreed: number }> {
    return this.transport.json('POST', `/api/v1/nodes/${encodeURIComponent(name)}/prune`, {});
  }

  /** Uses a renewed node certificate from now on (see HttpsTransport.setClientCertificate). */
  setClientCertificate(certPem: string, keyPem: string, caPem?: string): void {
    this.transport.setClientCertificate(certPem, keyPem, caPem);
  }

  /** A client from a config file (see loadClientConfig for where it looks). */
  static fromConfigFile(path?: string, opts?: ApiClientOptions): ApiClient {
    return new ApiClient(loadClientConfig(path), opts);
  }

  create(obj: ApiObject): Promise<ApiObject> {
    return this.transport.json('POST', `${collection(obj.kind)}?${nsQuery(obj.kind, obj.metadata.namespace, { full: 'true' })}`, obj);
  }

  async get(key: ObjectKey): Promise<ApiObject | undefined> {
    try {
      return await this.transport.json<ApiObject>('GET', `${item(key)}?${nsQuery(key.kind, key.namespace)}`);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  list(kind: Kind, opts: ListOptions = {}): Promise<ListResult> {
    const q = new URLSearchParams();
    if (opts.namespace !== undefined && !CLUSTER_SCOPED.has(kind)) q.set('namespace', opts.namespace);
    if (opts.labelSelector !== undefined && Object.keys(opts.labelSelector).length > 0) {
      q.set('labelSelector', Object.entries(opts.labelSelector).map(([k, v]) => `${k}=${v}`).join(','));
    }
    return this.transport.json('GET', `${collection(kind)}?${q.toString()}`);
  }

  /** Store semantics: replaces spec, labels, annotations and status; unconditional without expectedRevision. */
  update(obj: ApiObject, expectedRevision?: number): Promise<ApiObject> {
    const q = nsQuery(obj.kind, obj.metadata.namespace, { full: 'true', revision: String(expectedRevision ?? 0) });
    return this.transport.json('PUT', `${item(keyOfObj(obj))}?${q}`, obj);
  }

  delete(key: ObjectKey, expectedRevision?: number): Promise<ApiObject> {
    const extra: Record<string, string> = expectedRevision !== undefined ? { revision: String(expectedRevision) } : {};
    return this.transport.json('DELETE', `${item(key)}?${nsQuery(key.kind, key.namespace, extra)}`);
  }

  /** Not offered over the API: the server validates every write, a raw txn would bypass it. */
  txn(ops: TxnOp[]): Promise<ApiObject[]> {
    return Promise.reject(new BadRequestError(`txn (${ops.length} ops) is not supported over the API: use apply() for batches, or run against the store directly`));
  }

  /** Streams changes; reconnects and resumes from the last delivered revision on a dropped connection. */
  async watch(opts: WatchOptions, handlers: WatchHandlers): Promise<Watch> {
    const w = new RemoteWatch(this.transport, opts, handlers, this.opts.watch);
    await w.start();
    this.watches.add(w);
    return {
      stop: async () => {
        this.watches.delete(w);
        await w.stop();
      },
    };
  }

  async revision(): Promise<number> {
    return (await this.transport.json<{ revision: number }>('GET', '/api/v1/revision')).revision;
  }

  /** Stops every watch and closes the pooled connections. */
  async close(): Promise<void> {
    await Promise.all([...this.watches].map(async (w) => w.stop()));
    this.watches.clear();
    this.transport.close();
  }

  /** Creates missing objects and updates changed ones, all or nothing (`flotilla apply`). */
  apply(objects: unknown[]): Promise<ApplyResult[]> {
    return this.transport.json('POST', '/api/v1/apply', { objects });
  }

  /**
   * REST update: spec, labels and annotations only (status kept by the server); the expected
   * revision is obj.metadata.revision when non-zero.
   */
  updateSpec(obj: ApiObject): Promise<ApiObject> {
    return this.transport.json('PUT', `${item(keyOfObj(obj))}?${nsQuery(obj.kind, obj.metadata.namespace)}`, obj);
  }

  /** Writes obj.status only; expected revision as given, else obj.metadata.revision when non-zero. */
  updateStatus(obj: ApiObject, expectedRevision?: number): Promise<ApiObject> {
    const extra: Record<string, string> = expectedRevision !== undefined ? { revision: String(expectedRevision) } : {};
    return this.transport.json('PUT', `${item(keyOfObj(obj))}/status?${nsQuery(obj.kind, obj.metadata.namespace, extra)}`, obj);
  }

  /** `flotilla logs`: the log frames of a task or a service, through the server (see streams.ts). */
  logs(target: LogTarget, q: LogQuery, signal?: AbortSignal): AsyncGenerator<LogFrame> {
    return streamLogs(this.transport, target, q, signal);
  }

  /** `flotilla exec`: runs a command in a running task, output to the sinks; resolves with its exit code. */
  exec(task: { name: string; namespace?: string }, req: ExecRequest, sinks: ExecSinks, signal?: AbortSignal): Promise<ExecOutcome> {
    return execInTask(this.transport, task, req, sinks, signal);
  }

  /**
   * `flotilla rollout pause|resume|promote|undo|restart`: the server applies the action to the
   * service as stored and answers with the written Service (409 when the rollout's state does
   * not allow it).
   */
  /** `flotilla ca status`: trusted CA fingerprints, signer, rotation phase (GET /api/v1/ca). */
  caStatus(): Promise<CaStatus> {
    return this.transport.json('GET', '/api/v1/ca');
  }

  /** Trusts a new CA bundle from the next connection on (`flotilla ca rotate` follows its own rotation). */
  setTrustBundle(caPem: string): void {
    this.transport.setTrustBundle(caPem);
  }

  /** `flotilla ca rotate`: begins a CA rotation (POST /api/v1/ca/rotate). */
  rotateCa(deadlineSeconds?: number): Promise<CaStatus> {
    return this.transport.json('POST', '/api/v1/ca/rotate', deadlineSeconds !== undefined ? { deadlineSeconds } : {});
  }

  /** `flotilla node rotate-cert NAME`: the node gets a new certificate now, older ones are revoked. */
  rotateNodeCertificate(node: string): Promise<{ node: string; issuedAt: string; notAfter: string; revocation: string }> {
    return this.transport.json('POST', `/api/v1/nodes/${encodeURIComponent(node)}/rotate-cert`, {});
  }

  /** `flotilla secret rotate-key`: re-wraps every Secret under a new KEK (POST /api/v1/secret-key/rotate). */
  rotateSecretKey(): Promise<{ kek: string; file: string; rewrapped: number }> {
    return this.transport.json('POST', '/api/v1/secret-key/rotate', {});
  }

  rolloutAction(service: { name: string; namespace?: string }, req: RolloutActionRequest): Promise<Service> {
    const key: ObjectKey = { kind: 'Service', namespace: service.namespace ?? '', name: service.name };
    return this.transport.json('POST', `${item(key)}/rollout?${nsQuery('Service', service.namespace)}`, req);
  }

  /** The server's version (no credential needed). */
  version(): Promise<{ version: string; commit?: string }> {
    return this.transport.json('GET', '/version');
  }
}

function collection(kind: Kind): string {
  return `/api/v1/${PLURAL[kind]}`;
}

function item(key: ObjectKey): string {
  return `${collection(key.kind)}/${encodeURIComponent(key.name)}`;
}

function keyOfObj(o: ApiObject): ObjectKey {
  return { kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name };
}

function nsQuery(kind: Kind, namespace: string | undefined, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams(extra);
  if (!CLUSTER_SCOPED.has(kind) && namespace !== undefined && namespace !== '') q.set('namespace', namespace);
  return q.toString();
}
