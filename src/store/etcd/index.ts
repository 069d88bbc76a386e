/**
 * The HA state store (DESIGN.md "Real components"): the Store interface on etcd 3. Several
 * servers share one etcd cluster; each opens one EtcdStore (one client, reused by every call).
 * Objects live at `PREFIX/objects/<Kind>/<namespace>/<name>`; an object's revision is etcd's
 * mod_revision, so store revisions are etcd revisions. See README.md for the flows.
 */
import { UnavailableError } from '../../api/errors.js';
import { keyOf, keyString, type ApiObject, type Kind, type ObjectKey } from '../../api/object.js';
import { matchesSelector, type ListOptions, type ListResult, type Store, type TxnOp, type Watch, type WatchHandlers, type WatchOptions } from '../store.js';
import type { IRangeResponse } from 'etcd3';
import { createEtcdClient, EtcdCaller, type EtcdConnectionOptions, type EtcdTlsOptions } from './client.js';
import { decodeKv, KeyLayout, prefixEnd } from './keys.js';
import { PlannedTxn } from './txn.js';
import { WatchHub } from './watch.js';

export type { EtcdTlsOptions };

/** Options of openEtcdStore. */
export interface EtcdStoreOptions extends EtcdConnectionOptions {
  /** Key prefix of this store in etcd (default `/flotilla`): several stores can share one etcd. */
  prefix?: string;
  /** Keys per range request when listing (default 1000); a list is still read at one revision. */
  listPageSize?: number;
}

const DEFAULT_PREFIX = '/flotilla';

/** Opens a store on etcd. Connects lazily: the first call that cannot reach etcd fails with UnavailableError. */
export function openEtcdStore(opts: EtcdStoreOptions): EtcdStore {
  return new EtcdStore(opts);
}

/** Store on etcd; see the module comment. Also offers `compact`, which only etcd has. */
export class EtcdStore implements Store {
  private readonly caller: EtcdCaller;
  private readonly keys: KeyLayout;
  private readonly hub: WatchHub;
  private readonly pageSize: number;
  private closing: Promise<void> | undefined;

  constructor(opts: EtcdStoreOptions) {
    this.caller = new EtcdCaller(createEtcdClient(opts), opts);
    this.keys = new KeyLayout(opts.prefix ?? DEFAULT_PREFIX);
    this.pageSize = opts.listPageSize ?? 1000;
    this.hub = new WatchHub({ caller: this.caller, keys: this.keys, connectTimeoutMs: opts.timeoutMs ?? 5_000 });
  }

  async create(obj: ApiObject): Promise<ApiObject> {
    return (await this.txn([{ op: 'create', object: obj }]))[0] as ApiObject;
  }

  async get(key: ObjectKey): Promise<ApiObject | undefined> {
    const res = await this.caller.call('read', `get ${keyString(key)}`, (deadline) => this.caller.client.kv.range({ key: this.keys.key(key) }, { deadline }));
    const kv = res.kvs[0];
    return kv === undefined ? undefined : decodeKv(kv);
  }

  /** Reads page after page at the revision of the first page: one consistent snapshot. */
  async list(kind: Kind, opts: ListOptions = {}): Promise<ListResult> {
    const prefix = Buffer.from(this.keys.scope(kind, opts.namespace));
    const end = prefixEnd(prefix);
    const items: ApiObject[] = [];
    let from = prefix;
    let revision: number | undefined;
    for (;;) {
      const atRevision = revision;
      const res: IRangeResponse = await this.caller.call('read', `list ${kind}`, (deadline) =>
        this.caller.client.kv.range({ key: from, range_end: end, limit: this.pageSize, revision: atRevision ?? 0 }, { deadline }),
      );
      revision ??= Number(res.header.revision);
      for (const kv of res.kvs) {
        const obj = decodeKv(kv);
        if (matchesSelector(obj.metadata.labels, opts.labelSelector)) items.push(obj);
      }
      const lastKey = res.kvs[res.kvs.length - 1]?.key;
      if (!res.more || lastKey === undefined) break;
      from = Buffer.concat([lastKey, Buffer.from([0])]);
    }
    return { items, revision };
  }

  async update(obj: ApiObject, expectedRevision?: number): Promise<ApiObject> {
    return (await this.txn([{ op: 'update', object: obj, expectedRevision }]))[0] as ApiObject;
  }

  async delete(key: ObjectKey, expectedRevision?: number): Promise<ApiObject> {
    return (await this.txn([{ op: 'delete', key, expectedRevision }]))[0] as ApiObject;
  }

  /** One etcd txn: guards of every op, then every write at one revision, or nothing. */
  async txn(ops: TxnOp[]): Promise<ApiObject[]> {
    if (ops.length === 0) return [];
    const planned = new PlannedTxn(ops, this.keys);
    const res = await this.caller.call('write', describeOps(ops), (deadline) => this.caller.client.kv.txn(planned.request(), { deadline }));
    if (!res.succeeded) throw planned.failure(res);
    return planned.results(res);
  }

  /** Watch from `fromRevision` (exclusive), or from the current revision when omitted; see watch.ts. */
  async watch(opts: WatchOptions, handlers: WatchHandlers): Promise<Watch> {
    if (this.closing !== undefined) throw new UnavailableError('etcd store closed');
    const from = opts.fromRevision ?? (await this.revision());
    return this.hub.watch(opts, handlers, from);
  }

  async revision(): Promise<number> {
    const res = await this.caller.call('read', 'revision', (deadline) => this.caller.client.kv.range({ key: this.keys.probeKey }, { deadline }));
    return Number(res.header.revision);
  }

  /** Discards history before `revision` (etcd compaction): watches from older revisions get GoneError. */
  async compact(revision: number): Promise<void> {
    await this.caller.call('write', `compact ${revision}`, (deadline) => this.caller.client.kv.compact({ revision, physical: true }, { deadline }));
  }

  /** Deletes every key of this store's prefix (tests; never used by the server). */
  async wipe(): Promise<void> {
    const key = Buffer.from(this.keys.objectsPrefix);
    await this.caller.call('write', 'wipe', (deadline) => this.caller.client.kv.deleteRange({ key, range_end: prefixEnd(key) }, { deadline }));
  }

  /** Ends every watch with UnavailableError (as the SQLite store does), then closes the client. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.hub.close(new UnavailableError('etcd store closed'));
      this.caller.close();
      this.caller.client.close();
    })();
    return this.closing;
  }
}

/** `create Service/default/web`, or `txn of 3 ops`: for error messages. */
function describeOps(ops: TxnOp[]): string {
  if (ops.length !== 1) return `txn of ${ops.length} ops`;
  const op = ops[0] as TxnOp;
  return `${op.op} ${keyString(op.op === 'delete' ? op.key : keyOf(op.object))}`;
}
