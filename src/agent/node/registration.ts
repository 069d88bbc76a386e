/**
 * The node's own record: the agent creates its Node object (labels, capacity, role) when it
 * joins and then proves it is alive by writing `status.heartbeat` every few seconds. The node
 * controller marks a node down when heartbeats stop; labels and availability set by users
 * (`flotilla node label|drain`) are never overwritten by the agent after the first creation.
 */
import os from 'node:os';
import { ConflictError, NotFoundError } from '../../api/errors.js';
import type { NodeObject, NodeResources, NodeStatus } from '../../api/kinds.js';
import type { ApiObject } from '../../api/object.js';
import { disposable, type Disposable } from '../../lifecycle.js';

/** What registration needs from the API client. */
export interface NodeApi {
  get(key: { kind: 'Node'; namespace: string; name: string }): Promise<ApiObject | undefined>;
  create(obj: ApiObject): Promise<ApiObject>;
  updateStatus(obj: ApiObject): Promise<ApiObject>;
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
}

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
  return { state: 'ready', ...machineResources(id.capacity), heartbeat: new Date().toISOString(), address: id.address, ...(id.agentPort !== undefined ? { agentPort: id.agentPort } : {}), agentVersion };
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

/** Heartbeats every `intervalMs` until stopped; a failed beat is logged and retried next time. */
export function startHeartbeats(api: NodeApi, first: NodeObject, id: NodeIdentity, agentVersion: string, intervalMs: number, log: (m: string) => void): Disposable {
  let node = first;
  let inFlight: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    inFlight = (async () => {
      try {
        node = await heartbeat(api, node, id, agentVersion);
      } catch (err) {
        if (err instanceof NotFoundError) {
          node = await registerNode(api, id, agentVersion).catch(() => node);
          return;
        }
        log(`heartbeat failed: ${(err as Error).message}`);
        const again = (await api.get({ kind: 'Node', namespace: '', name: id.name }).catch(() => undefined)) as NodeObject | undefined;
        if (again !== undefined) node = again;
      }
    })();
  }, intervalMs);
  timer.unref();
  return disposable(async () => {
    clearInterval(timer);
    await inFlight;
  });
}
