/**
 * Turns a Task (its service template) and its image's config into the ContainerSpec the runtime
 * runs: Kubernetes semantics for command/args over the image's entrypoint/cmd, env merged over
 * the image's, limits parsed from quantities.
 */
import type { Task } from '../../api/kinds.js';
import { parseBytes, parseCpuMillis } from '../../api/quantity.js';
import type { ContainerSpec, MountSpec } from '../runtime/runtime.js';

/** The parts of an image's config the runtime needs (OCI image config `config` section). */
export interface ImageRunConfig {
  entrypoint?: string[];
  cmd?: string[];
  /** `KEY=VALUE` entries. */
  env?: string[];
  workingDir?: string;
  user?: string;
}

/** A container id unique on the node and stable for the task: `<namespace>_<task name>`. */
export function containerIdOf(task: Task): string {
  return `${task.metadata.namespace}_${task.metadata.name}`;
}

/** The task a container id names (the inverse of containerIdOf: a namespace has no `_`). */
export function taskOfContainerId(id: string): { namespace: string; name: string } {
  const i = id.indexOf('_');
  return { namespace: id.slice(0, i), name: id.slice(i + 1) };
}

/** Entrypoint and command as Kubernetes resolves them: `command` replaces the entrypoint and drops the image's cmd. */
export function resolveArgs(task: Task, image: ImageRunConfig): string[] {
  const t = task.spec.template;
  if (t.command !== undefined && t.command.length > 0) return [...t.command, ...(t.args ?? [])];
  return [...(image.entrypoint ?? []), ...(t.args ?? image.cmd ?? [])];
}

/** Image env, then the service's env on top. */
export function resolveEnv(task: Task, image: ImageRunConfig): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of image.env ?? []) {
    const i = kv.indexOf('=');
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  env.PATH ??= '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  return { ...env, ...task.spec.template.env, FLOTILLA_TASK: task.metadata.name, FLOTILLA_SERVICE: task.spec.service };
}

/** Builds the runtime's spec; `extraMounts` come from hooks (configs, secrets, volumes). */
export function containerSpecOf(task: Task, rootfs: string, image: ImageRunConfig, opts: { netnsPath?: string; logDir: string; mounts?: MountSpec[] }): ContainerSpec {
  const t = task.spec.template;
  const limits = t.resources.limits;
  return {
    id: containerIdOf(task),
    rootfs,
    args: resolveArgs(task, image),
    env: resolveEnv(task, image),
    cwd: t.workingDir ?? (image.workingDir !== undefined && image.workingDir !== '' ? image.workingDir : '/'),
    user: t.user ?? (image.user !== undefined && image.user !== '' ? image.user : undefined),
    hostname: task.metadata.name,
    netnsPath: opts.netnsPath,
    limits: {
      memoryBytes: limits.memory !== undefined ? parseBytes(limits.memory) : undefined,
      cpuMillis: limits.cpu !== undefined ? parseCpuMillis(limits.cpu) : undefined,
      pids: limits.pids,
    },
    mounts: opts.mounts ?? [],
    annotations: {
      'flotilla.task': task.metadata.name,
      'flotilla.namespace': task.metadata.namespace,
      'flotilla.service': task.spec.service,
      'flotilla.uid': task.metadata.uid,
    },
    log: { dir: opts.logDir, maxBytes: 10 * 1024 * 1024, maxFiles: 3 },
  };
}
