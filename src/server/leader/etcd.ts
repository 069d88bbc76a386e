/**
 * The leader lease on etcd: a lease of a few seconds and ONE key, `PREFIX/leader`, created only
 * if absent (txn `create_revision == 0`) and attached to that lease. Whoever's value is in the
 * key leads; the key vanishes with the lease when its holder stops renewing (dies, is cut off).
 * Every call has a gRPC deadline, so an unreachable etcd fails the call instead of hanging.
 */
import { createEtcdClient, type EtcdTlsOptions } from '../../store/etcd/client.js';
import type { LeaseBackend } from './elector.js';

/** How the election talks to etcd (the store's endpoints; its own client). */
export interface EtcdLeaseOptions {
  endpoints: string[];
  tls?: EtcdTlsOptions;
  /** Key prefix shared with the store (default `/flotilla`); the key is PREFIX/leader. */
  prefix?: string;
  /** Deadline of one gRPC call (default 1000 ms). */
  callTimeoutMs?: number;
}

/** Opens a client for the election; close() releases its channels. */
export function etcdLeaseBackend(opts: EtcdLeaseOptions): LeaseBackend {
  const client = createEtcdClient({ endpoints: opts.endpoints, tls: opts.tls });
  const key = `${opts.prefix ?? '/flotilla'}/leader`;
  const callMs = opts.callTimeoutMs ?? 1_000;
  const deadline = (): { deadline: number } => ({ deadline: Date.now() + callMs });
  return {
    async grant(ttlSeconds) {
      const res = await client.leaseClient.leaseGrant({ TTL: ttlSeconds }, deadline());
      return { id: res.ID, ttlSeconds: Number(res.TTL) };
    },
    async keepAlive(leaseId) {
      const stream = await client.leaseClient.leaseKeepAlive(deadline());
      try {
        const res = await new Promise<{ TTL: string }>((resolve, reject) => {
          stream.on('data', resolve);
          stream.on('error', reject);
          stream.write({ ID: leaseId });
        });
        return Number(res.TTL);
      } finally {
        stream.end();
      }
    },
    async acquire(leaseId, holder) {
      const res = await client
        .if(key, 'Create', '==', 0)
        .then(client.put(key).value(holder).lease(leaseId))
        .else(client.get(key))
        .options(deadline())
        .commit();
      if (res.succeeded) return { holder, ours: true };
      const kv = res.responses[0]?.response_range?.kvs[0];
      if (kv === undefined) return { ours: false };
      // Our id on ANOTHER lease (one we gave up, e.g. across an etcd restart) is not ours: it expires.
      return { holder: kv.value.toString(), ours: kv.value.toString() === holder && kv.lease === leaseId };
    },
    async release(leaseId, holder) {
      await client.if(key, 'Value', '==', holder).then(client.delete().key(key)).options(deadline()).commit();
      await client.leaseClient.leaseRevoke({ ID: leaseId }, deadline());
    },
    close() {
      client.close();
      return Promise.resolve();
    },
  };
}
