/**
 * The volumes lifecycle hook (STYLE.md 7): before a task's container is created, each entry of
 * its template's `volumes` becomes a mount.
 *
 *   type volume ─> the local driver's directory DIR/<namespace>/<name> (created on first use,
 *                  0755 root), bind-mounted read-write or read-only
 *   type tmpfs  ─> a tmpfs of `size` bytes inside the container (mode 1777)
 *   type bind   ─> the host path as it is (the API admits these only with --allow-host-binds);
 *                  a missing host path rejects the task, naming it
 *
 * Nothing is removed when a task ends: a volume's data outlives its tasks, the agent and
 * service updates (LocalVolumeDriver never deletes).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Task, VolumeRef } from '../../api/kinds.js';
import { parseBytes } from '../../api/quantity.js';
import { DEFAULT_TMPFS_SIZE } from '../../api/kinds.js';
import type { MountSpec } from '../runtime/runtime.js';
import type { HookContribution, TaskHook } from '../tasks/hooks.js';
import { LocalVolumeDriver } from './local.js';

/** How the hook is set up. */
export interface VolumeHookOptions {
  /** Root of the local driver's volumes (`<agent data dir>/volumes`). */
  dir: string;
}

/** A task whose mounts cannot be made; a permanent error (the task is rejected with it). */
export class VolumeMountError extends Error {}

/** See the file comment. */
export class VolumeHook implements TaskHook {
  readonly name = 'volumes';
  private readonly local: LocalVolumeDriver;

  constructor(opts: VolumeHookOptions) {
    this.local = new LocalVolumeDriver(opts.dir);
  }

  async beforeStart(task: Task): Promise<HookContribution> {
    const mounts: MountSpec[] = [];
    for (const [i, v] of (task.spec.template.volumes ?? []).entries()) mounts.push(await this.mountOf(task.metadata.namespace, v, i));
    return { mounts };
  }

  /** Volumes are kept when a task ends: nothing to clean up. */
  afterStop(): Promise<void> {
    return Promise.resolve();
  }

  private async mountOf(namespace: string, v: VolumeRef, i: number): Promise<MountSpec> {
    switch (v.type) {
      case 'volume':
        return { type: 'bind', source: await this.local.ensure(namespace, v.source), target: v.target, readOnly: v.readOnly };
      case 'tmpfs':
        return { type: 'tmpfs', target: v.target, readOnly: v.readOnly, options: tmpfsOptions(v.size) };
      case 'bind':
        await hostPathExists(v.source, i);
        return { type: 'bind', source: path.resolve(v.source), target: v.target, readOnly: v.readOnly };
    }
  }
}

/** Mount options of a tmpfs volume: its size in bytes and a world-writable sticky mode, like /tmp. */
export function tmpfsOptions(size: string | undefined): string[] {
  return [`size=${parseBytes(size ?? DEFAULT_TMPFS_SIZE)}`, 'mode=1777'];
}

async function hostPathExists(p: string, i: number): Promise<void> {
  try {
    await fs.stat(p);
  } catch {
    throw new VolumeMountError(`volumes[${i}]: host path ${p} does not exist on this node`);
  }
}
