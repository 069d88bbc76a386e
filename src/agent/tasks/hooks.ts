/**
 * Lifecycle hooks (STYLE.md 7): features that attach to a task's container without the
 * supervisor knowing them: the network (a namespace and an address), later configs, secrets,
 * volumes and probes. Each hook lives in a file of its own and is idempotent.
 */
import type { Task } from '../../api/kinds.js';
import type { MountSpec } from '../runtime/runtime.js';

/** What hooks add to a container before it starts. */
export interface HookContribution {
  /** Network namespace to join (set by the network hook). */
  netnsPath?: string;
  /** Address of the task on the container network. */
  ip?: string;
  mounts?: MountSpec[];
}

/** A feature attached to the task lifecycle. */
export interface TaskHook {
  readonly name: string;
  /** Before the container is created; may be called again for the same task after a restart. */
  beforeStart?(task: Task, containerId: string): Promise<HookContribution>;
  /** After the container is gone; must tolerate being called for a task it never saw. */
  afterStop?(containerId: string): Promise<void>;
}

/** Runs every hook's beforeStart in order and merges their contributions. */
export async function runBeforeStart(hooks: readonly TaskHook[], task: Task, id: string): Promise<HookContribution> {
  const out: HookContribution = { mounts: [] };
  for (const h of hooks) {
    const c = (await h.beforeStart?.(task, id)) ?? {};
    if (c.netnsPath !== undefined) out.netnsPath = c.netnsPath;
    if (c.ip !== undefined) out.ip = c.ip;
    out.mounts?.push(...(c.mounts ?? []));
  }
  return out;
}

/** Runs every hook's afterStop in reverse order; one failing hook does not skip the others. */
export async function runAfterStop(hooks: readonly TaskHook[], id: string, log: (m: string) => void): Promise<void> {
  for (const h of [...hooks].reverse()) {
    try {
      await h.afterStop?.(id);
    } catch (err) {
      log(`hook ${h.name}: cleanup of ${id} failed: ${(err as Error).message}`);
    }
  }
}
