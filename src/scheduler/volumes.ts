/**
 * Named volumes in the scheduler: which exist and which node each lives on (Volume.status.node),
 * fed in like nodes and tasks, so the scheduler stays pure. A task template's named volumes are
 * resolved per batch into one of: place anywhere (no volumes, or none bound yet), pin to the one
 * node the bound volumes live on, or refuse with a reason (a volume missing, volumes on two nodes).
 *
 *   template.volumes (type volume) ─> keys ns/name ─> VolumeBook.resolve
 *     any missing        ─> refuse "volume data does not exist"
 *     bound to 2+ nodes  ─> refuse "volumes a and b live on different nodes (n1, n2)"
 *     bound to one node  ─> pin: the VolumeNode filter passes that node only
 *     none bound         ─> free; the first placement binds every unbound one to its node
 */
import type { ServiceSpec, Volume } from '../api/kinds.js';

/** What the scheduler knows of one Volume. */
export interface VolumeBinding {
  /** Its node, once bound (stored, or chosen by this scheduler in a pass whose write may not have landed). */
  node?: string;
  /** True when `node` was chosen by this scheduler and not yet seen in the store. */
  tentative?: boolean;
}

/** How a batch's volumes constrain it. */
export type VolumeNeeds =
  | { kind: 'none' }
  | { kind: 'refuse'; reason: string }
  | { kind: 'pin'; volume: string; node: string; unbound: string[] }
  | { kind: 'free'; unbound: string[] };

/** The keys (`namespace/name`) of the named volumes a template mounts, sorted, without repeats. */
export function volumeKeysOf(namespace: string, spec: ServiceSpec | undefined): string[] {
  const names = new Set<string>();
  for (const v of spec?.volumes ?? []) if (v.type === 'volume' && v.source !== '') names.add(`${namespace}/${v.source}`);
  return [...names].sort();
}

/** The name part of a `namespace/name` key. */
export function volumeName(key: string): string {
  return key.slice(key.indexOf('/') + 1);
}

/** The scheduler's view of the Volumes; see the file comment. */
export class VolumeBook {
  private readonly volumes = new Map<string, VolumeBinding>();

  /** A Volume appeared or changed. A tentative binding survives an event that has no node yet. */
  upsert(v: Volume): void {
    const key = `${v.metadata.namespace}/${v.metadata.name}`;
    const node = v.status?.node;
    const cur = this.volumes.get(key);
    if ((node === undefined || node === '') && cur?.tentative === true) return;
    this.volumes.set(key, node === undefined || node === '' ? {} : { node });
  }

  /** A Volume was deleted. */
  remove(namespace: string, name: string): void {
    this.volumes.delete(`${namespace}/${name}`);
  }

  /** Records a binding this scheduler chose (until the store confirms or `forget` undoes it). */
  bind(key: string, node: string): void {
    if (this.volumes.has(key)) this.volumes.set(key, { node, tentative: true });
  }

  /** Undoes a tentative binding whose write failed (a stored one stays). */
  forget(key: string): void {
    const cur = this.volumes.get(key);
    if (cur?.tentative === true) this.volumes.set(key, {});
  }

  /** The binding of a key, for tests and explanations. */
  get(key: string): Readonly<VolumeBinding> | undefined {
    return this.volumes.get(key);
  }

  /** How the volumes (keys) of a batch constrain it. */
  resolve(keys: readonly string[]): VolumeNeeds {
    if (keys.length === 0) return { kind: 'none' };
    const missing = keys.filter((k) => !this.volumes.has(k)).map(volumeName);
    if (missing.length === 1) return { kind: 'refuse', reason: `volume ${missing[0] as string} does not exist` };
    if (missing.length > 1) return { kind: 'refuse', reason: `volumes ${missing.join(', ')} do not exist` };
    const bound = keys.filter((k) => this.volumes.get(k)?.node !== undefined);
    const unbound = keys.filter((k) => this.volumes.get(k)?.node === undefined);
    const nodes = [...new Set(bound.map((k) => this.volumes.get(k)?.node as string))];
    if (nodes.length > 1) {
      return { kind: 'refuse', reason: `volumes ${bound.map(volumeName).join(' and ')} live on different nodes (${bound.map((k) => this.volumes.get(k)?.node as string).join(', ')})` };
    }
    const first = bound[0];
    if (first !== undefined) return { kind: 'pin', volume: volumeName(first), node: nodes[0] as string, unbound };
    return { kind: 'free', unbound };
  }
}

/**
 * Why a task pinned by a volume cannot go to the volume's node, from the first filter reason
 * that rejected that node (`missing`: the node does not exist): "volume data lives on node
 * node2, which is down", "... which has insufficient memory".
 */
export function volumeNodeReason(volume: string, node: string, why: string, state: string | undefined): string {
  const head = `volume ${volume} lives on node ${node}`;
  if (why === 'missing') return `${head}, which does not exist`;
  if (why === 'not ready') return `${head}, which is ${state === 'down' ? 'down' : 'not ready'}`;
  if (why === 'paused' || why === 'draining') return `${head}, which is ${why}`;
  if (why.startsWith('insufficient ')) return `${head}, which has ${why}`;
  if (why.startsWith('host port ')) return `${head}, which has ${why}`;
  return `${head}, which ${why}`;
}
