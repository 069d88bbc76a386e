/**
 * Leader election for the control plane: only the lease holder runs the scheduler and the
 * controllers; every server serves the API. See README in src/server (section "HA").
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Disposable } from '../../lifecycle.js';
import { startElector, type LeaderElector, type LeadershipStatus } from './elector.js';
import { etcdLeaseBackend } from './etcd.js';

export { startElector, type ElectorOptions, type LeaseBackend, type LeaderElector, type LeadershipStatus } from './elector.js';
export { etcdLeaseBackend, type EtcdLeaseOptions } from './etcd.js';

/** A server identity for the leader key: host, PID and a random suffix (two servers in one process differ). */
export function newServerId(): string {
  return `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
}

/** What runServer holds: who leads, and a stop() that stops the loops and steps down. */
export interface Leadership extends Disposable {
  status(): LeadershipStatus;
  whenLeader(): Promise<void>;
}

/** Options of startLeadership. */
export interface LeadershipOptions {
  /** undefined: no election (SQLite: the one server always leads). */
  etcdEndpoints?: string[];
  id: string;
  ttlSeconds?: number;
  /** Starts the leader-only loops. */
  onLead: () => Promise<Disposable>;
  log?: (line: string) => void;
}

/** With etcd: campaign (see elector.ts). Without: lead at once, for good. */
export async function startLeadership(opts: LeadershipOptions): Promise<Leadership> {
  if (opts.etcdEndpoints === undefined) {
    const loops = await opts.onLead();
    return { status: () => ({ leader: true, id: opts.id, leaderId: opts.id }), whenLeader: () => Promise.resolve(), stop: () => loops.stop() };
  }
  const elector: LeaderElector = startElector({
    backend: etcdLeaseBackend({ endpoints: opts.etcdEndpoints }),
    id: opts.id,
    ttlSeconds: opts.ttlSeconds,
    onLead: opts.onLead,
    log: opts.log,
  });
  return elector;
}
