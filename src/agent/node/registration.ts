/**
 * The node's own record: the agent creates its Node object (labels, capacity, role) when it
 * joins and then proves it is alive with heartbeats. The node controller marks a node down when
 * heartbeats stop; labels and availability set by users (`flotilla node label|drain`) are never
 * overwritten by the agent after the first creation.
 *
 * A heartbeat is a renewal of the node's Lease (kinds.ts LeaseSpec: a small spec write that
 * only the node lifecycle loop watches); every `nodeStatusEveryMs` (default 6 beats: 12 s for
 * the real agent's 2 s) the beat is a full Node status write instead: `status.heartbeat` (and
 * capacity, state ready) stays fresh to that granularity for people, at a sixth of the Node writes. Without leases (an API without the
 * Lease kind, or a NodeApi without updateSpec) every beat is a Node status write, as before.
 *
 *   every intervalMs:  status due? ──yes──> PUT nodes/NAME/status {state ready, heartbeat now}
 *                          │no                 (NotFound: the Node was deleted -> register again)
 *                          v
 *                      PUT leases/NAME {holder, renewTime now}   (NotFound -> create it;
 *                                                                 no Lease kind -> status beats)
 */
import os from 'node:os';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../../api/errors.js';
import type { Lease, NodeCondition, NodeObject, NodeResources, NodeStatus } from '../../api/kinds.js';
import { RUNTIME_READY } from '../../api/node-conditions.js';
import type { ApiObject } from '../../api/object.js';
import { disposable, type Disposable } from '../../lifecycle.js';

/** What registration needs from the API client. */
export interface NodeApi {
  get(key: { kind: 'Node'; namespace: string; name: string }): Promise<ApiObject | undefined>;
  create(obj: ApiObject): Promise<ApiObject>;
  updateStatus(obj: ApiObject): Promise<ApiObject>;
  /** Spec writes (the Lease renewal, unconditional with revision 0); without it every beat is a status write. */
  updateSpec?(obj: ApiObject): Promise<ApiObject>;
}

/** A full Node status write every this many beats by default (the others renew the Lease). */
export const NODE_STATUS_EVERY_BEATS = 6;

/** Knobs of startHeartbeats beside the interval. */
export interface HeartbeatOptions {
  /** How often a beat is a full Node status write rather than a Lease renewal (default 6 beats). */
  nodeStatusEveryMs?: number;
}

/** How this node describes itself. */
export interface NodeIdentity {
  name: string;
  labels: Record<string, string>;
  /** Overrides of the machine's figures (`--cpu 4 --memory 8Gi`), e.g. for hollow nodes. */
  capacity?: Partial<NodeResources>;
  address?: string;
  /** Port of the agent endpoint (logs, exec) on `address`. */
  agentPort?: number;
  role?: 'worker' | 'manager';
  /** Root of the node's local volumes, reported in the status (Volume.status.path is under it). */
  volumesDir?: string;
  /** The node's conditions now (the real agent's RuntimeReady check); default: RuntimeReady true (hollow nodes). */
  conditions?: () => NodeCondition[];
}

/** What a node without a runtime check (a hollow node) reports. */
export const RUNTIME_READY_ASSUMED: NodeCondition = { type: RUNTIME_READY, status: true, reason: 'Assumed', message: 'no runtime check (hollow node)' };

/** Capacity from the machine: all cores, all memory; allocatable keeps 5% memory for the system. */
export function machineResources(override?: Partial<NodeResources>): { capacity: NodeResources; allocatable: NodeResources } {
  const cpu = override?.cpu ?? String(os.availableParallelism());
  const memoryBytes = os.totalmem();
  const memory = override?.memory ?? String(memoryBytes);
  const allocMemory = override?.memory ?? String(Math.floor(memoryBytes * 0.95));
  const pids = override?.pids ?? 32768;
  return { capacity: { cpu, memory, pids }, allocatable: { cpu, memory: allocMemory, pids } };
}

function nodeStatus(id: NodeIdentity, agentVersion: string): NodeStatus {
  return { state: 'ready', conditions: id.conditions?.() ?? [RUNTIME_READY_ASSUMED], ...machineResources(id.capacity), heartbeat: new Date().toISOString(), address: id.address, ...(id.agentPort !== undefined ? { agentPort: id.agentPort } : {}), ...(id.volumesDir !== undefined ? { volumesDir: id.volumesDir } : {}), agentVersion };
}

/** Creates the Node when missing, then writes a ready status with fresh capacity. */
export async function registerNode(api: NodeApi, id: NodeIdentity, agentVersion: string): Promise<NodeObject> {
  const key = { kind: 'Node' as const, namespace: '', name: id.name };
  let node = (await api.get(key)) as NodeObject | undefined;
  if (node === undefined) {
    try {
      node = (await api.create({
        kind: 'Node',
        metadata: { name: id.name, namespace: '', uid: '', labels: id.labels, revision: 0, generation: 0, creationTimestamp: '' },
        spec: { availability: 'active', role: id.role ?? 'worker', taints: [] },
      })) as NodeObject;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      node = (await api.get(key)) as NodeObject;
    }
  }
  return heartbeat(api, node, id, agentVersion);
}

async function heartbeat(api: NodeApi, node: NodeObject, id: NodeIdentity, agentVersion: string): Promise<NodeObject> {
  for (let attempt = 0; ; attempt++) {
    try {
      return (await api.updateStatus({ ...node, status: nodeStatus(id, agentVersion) })) as NodeObject;
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= 3) throw err;
      const again = (await api.get({ kind: 'Node', namespace: '', name: id.name })) as NodeObject | undefined;
      if (again === undefined) throw new NotFoundError(`node ${id.name} was deleted`);
      node = again;
    }
  }
}

/** The Lease a beat writes: unconditional (revision 0), renewTime now. */
export function leaseOf(name: string, intervalMs: number, now = new Date()): Lease {
  return {
    kind: 'Lease',
    metadata: { name, namespace: '', uid: '', labels: {}, revision: 0, generation: 0, creationTimestamp: '' },
    spec: { holder: name, renewTime: now.toISOString(), durationSeconds: Math.max(1, Math.ceil(intervalMs / 1000)) },
  };
}

/** Renews the Lease, creating it when missing; false when the API has no Lease kind. */
async function renewLease(api: NodeApi, update: (o: ApiObject) => Promise<ApiObject>, lease: Lease): Promise<boolean> {
  try {
    await update(lease);
    return true;
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  try {
    await api.create(lease);
    return true;
  } catch (err) {
    if (err instanceof AlreadyExistsError || err instanceof ConflictError) return true; // created meanwhile: the next beat renews it
    if (err instanceof NotFoundError) return false; // no such kind on this server
    throw err;
  }
}

/**
 * Heartbeats every `intervalMs` until stopped (see the file comment); a failed beat is logged
 * and retried next time.
 */
export function startHeartbeats(api: NodeApi, first: NodeObject, id: NodeIdentity, agentVersion: string, intervalMs: number, log: (m: string) => void, opts: HeartbeatOptions = {}): Disposable {
  let node = first;
  let inFlight: Promise<void> = Promise.resolve();
  const statusEveryMs = opts.nodeStatusEveryMs ?? NODE_STATUS_EVERY_BEATS * intervalMs;
  let leases = api.updateSpec !== undefined;
  let lastStatusMs = Date.now(); // registerNode just wrote it
  const beatStatus = async (): Promise<void> => {
    try {
      node = await heartbeat(api, node, id, agentVersion);
      lastStatusMs = Date.now();
    } catch (err) {
      if (err instanceof NotFoundError) {
        node = await registerNode(api, id, agentVersion).catch(() => node);
        return;
      }
      log(`heartbeat failed: ${(err as Error).message}`);
      const again = (await api.get({ kind: 'Node', namespace: '', name: id.name }).catch(() => undefined)) as NodeObject | undefined;
      if (again !== undefined) node = again;
    }
  };
  // A condition that changed (disk pressure, runtime) goes out on the next beat, not up to statusEveryMs later.
  const conditionKey = (cs: readonly NodeCondition[] | undefined): string => JSON.stringify((cs ?? []).map((c) => [c.type, c.status, c.reason]));
  const conditionsChanged = (): boolean => id.conditions !== undefined && conditionKey(id.conditions()) !== conditionKey(node.status?.conditions);
  const beat = async (): Promise<void> => {
    if (!leases || api.updateSpec === undefined || Date.now() - lastStatusMs >= statusEveryMs || conditionsChanged()) return beatStatus();
    try {
      if (await renewLease(api, (o) => (api.updateSpec as (o: ApiObject) => Promise<ApiObject>).call(api, o), leaseOf(id.name, intervalMs))) return;
      leases = false;
      log('heartbeat: the server has no Lease kind; writing the Node status on every beat');
      await beatStatus();
    } catch (err) {
      log(`heartbeat (lease) failed: ${(err as Error).message}`);
    }
  };
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return; // the last beat is still on its way: do not pile up behind a slow server
    busy = true;
    inFlight = beat().finally(() => { busy = false; });
  }, intervalMs);
  timer.unref();
  return disposable(async () => {
    clearInterval(timer);
    await inFlight;
  });
}
