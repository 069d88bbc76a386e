/**
 * Leadership for runServer without loading the etcd client when the store is SQLite (idle
 * memory, issue 14): src/server/leader/index.ts imports its etcd lease backend (etcd3, gRPC,
 * protobufjs) at load time, so it is imported only when there are etcd endpoints. Without them
 * the one server leads at once, for good, as startLeadership does.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Leadership, LeadershipOptions } from './leader/index.js';

/** As newServerId in src/server/leader: host, PID and a random suffix. */
export function serverId(): string {
  return `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
}

/** startLeadership of src/server/leader, loaded only for etcd. */
export async function startLeadershipLazily(opts: LeadershipOptions): Promise<Leadership> {
  if (opts.etcdEndpoints !== undefined) return (await import('./leader/index.js')).startLeadership(opts);
  const loops = await opts.onLead();
  return { status: () => ({ leader: true, id: opts.id, leaderId: opts.id }), whenLeader: () => Promise.resolve(), stop: () => loops.stop() };
}
