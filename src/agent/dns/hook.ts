/**
 * The DNS lifecycle hook (STYLE.md 7): before a task's container is created it gets its own
 * /etc/resolv.conf, bind-mounted read-only, naming the node's DNS server and the search list
 * `NAMESPACE.svc svc` (so `web` finds the service web of the task's namespace, and
 * `web.other` the one of namespace other); the file goes when the container is gone.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Task } from '../../api/kinds.js';
import type { HookContribution, TaskHook } from '../tasks/hooks.js';

/** How the hook is set up. */
export interface DnsHookOptions {
  /** Where the per-container files go (`<agent data dir>/dns`). */
  dir: string;
  /** The node's DNS server address; undefined: contribute nothing (containers keep the image's resolv.conf). */
  nameserver?: string;
}

/** The resolv.conf text of a task in `namespace`. */
export function resolvConfFor(nameserver: string, namespace: string): string {
  return `nameserver ${nameserver}\nsearch ${namespace}.svc svc\noptions ndots:1 timeout:2 attempts:2\n`;
}

/** See the file comment. */
export class DnsHook implements TaskHook {
  readonly name = 'dns';

  constructor(private readonly opts: DnsHookOptions) {}

  beforeStart(task: Task, containerId: string): Promise<HookContribution> {
    if (this.opts.nameserver === undefined) return Promise.resolve({});
    const dir = join(this.opts.dir, containerId);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'resolv.conf');
    writeFileSync(file, resolvConfFor(this.opts.nameserver, task.metadata.namespace), { mode: 0o644 });
    return Promise.resolve({ mounts: [{ source: file, target: '/etc/resolv.conf', type: 'bind', readOnly: true }] });
  }

  afterStop(containerId: string): Promise<void> {
    rmSync(join(this.opts.dir, containerId), { recursive: true, force: true });
    return Promise.resolve();
  }
}
