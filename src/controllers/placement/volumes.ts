/**
 * Volume bindings of the scheduler loop: when a pass places the first task that mounts an
 * unbound Volume, the pass's result names the binding (volume -> node), and this writes it into
 * Volume.status.node (with the Volume's expected revision) before any placement that mounts the
 * volume is written. A binding that loses a race (someone bound it elsewhere, the Volume changed
 * or went) fails the placements that need it: the scheduler forgets its choice and the pass is
 * retried, so two tasks can never bind one volume to two nodes.
 *
 *   result.bindings ──> for each: Volume in cache ──> bound to that node already? ok
 *                                      │ no node: update status {node, state: bound, path} @rev
 *                                      └ other node / gone / conflict ──> failed
 *   placements mounting a failed volume ──> not written; scheduler.taskEnded; re-queue
 */
import { ConflictError } from '../../api/errors.js';
import type { NodeObject, Task, Volume } from '../../api/kinds.js';
import type { ApiObject } from '../../api/object.js';
import { volumeKeysOf, type VolumeBindingDecision } from '../../scheduler/index.js';
import type { Store } from '../../store/store.js';

/** Where the bindings' inputs come from (the informers' caches). */
export interface BindingSources {
  /** By `namespace/name`. */
  volume(key: string): Volume | undefined;
  node(name: string): NodeObject | undefined;
}

/** What writing a pass's bindings came to. */
export interface BindingOutcome {
  /** Volume objects written (for the loop's expectations). */
  written: ApiObject[];
  /** `namespace/name` of the volumes whose binding failed. */
  failed: Set<string>;
  /** The first error, to re-queue the pass with. */
  error: unknown;
}

/** The Volume with its status bound to `node` (path when the node reports its volumes dir). */
export function boundVolume(v: Volume, nodeName: string, node: NodeObject | undefined, nowMs: number): Volume {
  const dir = node?.status?.volumesDir;
  const path = dir === undefined || dir === '' ? undefined : `${dir}/${v.metadata.namespace}/${v.metadata.name}`;
  const status = { ...(v.status ?? {}), node: nodeName, state: 'bound' as const, boundAt: new Date(nowMs).toISOString(), ...(path === undefined ? {} : { path }) };
  return { ...v, status };
}

/** Writes each binding (see the file comment); never throws. */
export async function writeBindings(store: Pick<Store, 'update'>, src: BindingSources, bindings: readonly VolumeBindingDecision[], nowMs: number): Promise<BindingOutcome> {
  const out: BindingOutcome = { written: [], failed: new Set(), error: undefined };
  for (const b of bindings) {
    const v = src.volume(b.volume);
    const fail = (why: string): void => {
      out.failed.add(b.volume);
      out.error ??= new ConflictError(`volume ${b.volume}: ${why}`);
    };
    if (v === undefined) {
      fail('it was deleted before it could be bound');
      continue;
    }
    if (v.status?.node !== undefined && v.status.node !== '') {
      if (v.status.node !== b.node) fail(`already bound to node ${v.status.node}`);
      continue;
    }
    try {
      out.written.push(await store.update(boundVolume(v, b.node, src.node(b.node), nowMs), v.metadata.revision));
    } catch (err) {
      out.failed.add(b.volume);
      out.error ??= err;
    }
  }
  return out;
}

/** True when the task mounts one of the volumes (keys `namespace/name`). */
export function mountsAny(t: Task, volumes: ReadonlySet<string>): boolean {
  if (volumes.size === 0) return false;
  return volumeKeysOf(t.metadata.namespace, t.spec.template).some((k) => volumes.has(k));
}
