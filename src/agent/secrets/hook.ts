/**
 * The secrets and configs lifecycle hook (STYLE.md 7): before a task's container is created it
 * reads each Secret and Config the task names (GET through the agent's API client: the server
 * answers a node only for its own tasks), writes them to a tmpfs of the task's own and
 * bind-mounts each read-only at its target; after the container is gone the tmpfs goes.
 *
 *   beforeStart: GET every source (missing -> NotFoundError naming it: the task is rejected)
 *     -> umount/rm a leftover DIR -> mount tmpfs DIR (RUNTIME_DIR/<containerId>, 0700)
 *     -> secrets[i]: one key: file DIR/secret-i (target = file); several: DIR/secret-i/<key>
 *        configs[i]: the same under DIR/config-i; mode, uid, gid as given
 *     -> mounts [{bind DIR/..., target, ro}]  (only paths reach the bundle's config.json)
 *   afterStop: umount DIR, rm DIR
 *
 * Values are only in memory and on the tmpfs: never in logs, Events or the task status.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { NotFoundError } from '../../api/errors.js';
import type { Task } from '../../api/kinds.js';
import type { ApiObject, ObjectKey } from '../../api/object.js';
import type { MountSpec } from '../runtime/runtime.js';
import type { HookContribution, TaskHook } from '../tasks/hooks.js';
import type { TmpfsMounter } from './tmpfs.js';

/** The part of the API client the hook reads with. */
export interface SourceReader {
  get(key: ObjectKey): Promise<ApiObject | undefined>;
}

/** How the hook is set up. */
export interface SecretsHookOptions {
  client: SourceReader;
  /** Parent of the per-task tmpfs mounts, e.g. /run/flotilla/<node>/secrets. */
  runtimeDir: string;
  tmpfs: TmpfsMounter;
}

/** One source to deliver: its files (key -> bytes) and where they go. */
interface Delivery {
  name: string;
  files: Map<string, Buffer>;
  target: string;
  mode: number;
  uid: number;
  gid: number;
}

/** Smallest tmpfs size; the values' sizes are added on top. */
const TMPFS_BASE_BYTES = 256 * 1024;

/** Directory mode that lets whoever may read the files list them: an x bit for each r bit. */
export function dirModeFor(fileMode: number): number {
  return (fileMode & 0o777) | ((fileMode & 0o444) >> 2);
}

/** See the file comment. */
export class SecretsHook implements TaskHook {
  readonly name = 'secrets';

  constructor(private readonly opts: SecretsHookOptions) {}

  async beforeStart(task: Task, containerId: string): Promise<HookContribution> {
    const t = task.spec.template;
    if ((t.secrets ?? []).length === 0 && (t.configs ?? []).length === 0) return {};
    const deliveries = await this.fetch(task);
    const dir = this.dirOf(containerId);
    await this.afterStop(containerId);
    const bytes = deliveries.reduce((n, d) => n + [...d.files.values()].reduce((m, b) => m + b.length + 4096, 0), 0);
    await this.opts.tmpfs.mount(dir, TMPFS_BASE_BYTES + bytes);
    try {
      const mounts: MountSpec[] = [];
      for (const d of deliveries) mounts.push({ type: 'bind', source: await writeDelivery(dir, d), target: d.target, readOnly: true });
      return { mounts };
    } catch (err) {
      await this.afterStop(containerId);
      throw err;
    }
  }

  async afterStop(containerId: string): Promise<void> {
    const dir = this.dirOf(containerId);
    await this.opts.tmpfs.unmount(dir);
    await fs.rm(dir, { recursive: true, force: true });
  }

  private dirOf(containerId: string): string {
    return path.join(this.opts.runtimeDir, containerId);
  }

  /** Reads every source first, so a missing one fails the task before anything is mounted. */
  private async fetch(task: Task): Promise<Delivery[]> {
    const ns = task.metadata.namespace;
    const t = task.spec.template;
    const out: Delivery[] = [];
    for (const [i, r] of (t.secrets ?? []).entries()) {
      const data = await this.read('Secret', ns, r.source, `secrets[${i}]`);
      const files = new Map(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64')] as const));
      out.push({ name: `secret-${i}`, files, target: r.target, mode: r.mode, uid: r.uid, gid: r.gid });
    }
    for (const [i, r] of (t.configs ?? []).entries()) {
      const data = await this.read('Config', ns, r.source, `configs[${i}]`);
      const files = new Map(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'utf8')] as const));
      out.push({ name: `config-${i}`, files, target: r.target, mode: r.mode, uid: 0, gid: 0 });
    }
    return out;
  }

  private async read(kind: 'Secret' | 'Config', namespace: string, name: string, field: string): Promise<Record<string, string>> {
    const obj = await this.opts.client.get({ kind, namespace, name });
    const noun = kind === 'Secret' ? 'secret' : 'config';
    if (obj === undefined) throw new NotFoundError(`${noun} ${name} not found in namespace ${namespace} (spec.${field}.source)`);
    const data = (obj.spec as { data?: Record<string, string> } | undefined)?.data;
    if (data === undefined) throw new NotFoundError(`${noun} ${namespace}/${name}: the server sent no data`);
    return data;
  }
}

/** Writes one source on the tmpfs; returns the path to bind (a file for one key, else a directory). */
async function writeDelivery(dir: string, d: Delivery): Promise<string> {
  const entries = [...d.files.entries()];
  if (entries.length === 1) {
    const file = path.join(dir, d.name);
    await writeFile(file, (entries[0] as [string, Buffer])[1], d);
    return file;
  }
  const sub = path.join(dir, d.name);
  await fs.mkdir(sub, { mode: 0o700 });
  for (const [key, value] of entries) await writeFile(path.join(sub, key), value, d);
  await fs.chown(sub, d.uid, d.gid);
  await fs.chmod(sub, dirModeFor(d.mode));
  return sub;
}

async function writeFile(file: string, value: Buffer, d: Delivery): Promise<void> {
  await fs.writeFile(file, value, { mode: 0o600, flag: 'wx' });
  await fs.chown(file, d.uid, d.gid);
  await fs.chmod(file, d.mode);
}
