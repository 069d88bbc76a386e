/**
 * Builds the OCI runtime config (a bundle's config.json) from a ContainerSpec. Pure: the user is
 * resolved and the cgroup path chosen before, so this is table-testable without runc.
 * Mounts, masked and read-only paths follow `runc spec`'s defaults; `terminal` is always false
 * (a detached runc with a terminal fails; conmon reads pipes).
 */
import type { ContainerSpec, MountSpec } from '../runtime.js';
import type { ResolvedUser } from './user.js';

/** Capabilities every container gets: containerd's default set without NET_RAW. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT',
  'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Used when the spec's env has no PATH. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** CFS period the CPU quota is expressed over (100 ms). */
export const CPU_PERIOD_US = 100_000;

/** RLIMIT_NOFILE when the context gives none. */
export const DEFAULT_NOFILE = 1_048_576;

const MASKED_PATHS = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
];
const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** An OCI mount entry. */
export interface OciMount { destination: string; type: string; source: string; options?: string[] }

const DEFAULT_MOUNTS: readonly OciMount[] = [
  { destination: '/proc', type: 'proc', source: 'proc' },
  { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
  { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
  { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
  { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
];

/** Inputs decided outside the pure builder. */
export interface OciConfigContext {
  user: ResolvedUser;
  /** cgroupfs-style path, unique per container: `/flotilla/<id>`. */
  cgroupsPath: string;
  /** RLIMIT_NOFILE (soft = hard); at most what the agent itself may raise to. */
  nofile?: number;
}

function toOciMount(m: MountSpec): OciMount {
  const extra = m.options ?? [];
  const ro = m.readOnly === true ? ['ro'] : [];
  if (m.type === 'tmpfs') {
    return { destination: m.target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', ...ro, ...extra] };
  }
  return { destination: m.target, type: 'bind', source: m.source ?? '', options: ['rbind', 'rprivate', ...ro, ...extra] };
}

function envList(spec: ContainerSpec, user: ResolvedUser): string[] {
  const env: Record<string, string> = { PATH: DEFAULT_PATH, HOME: user.home ?? '/', ...(spec.env ?? {}) };
  if (spec.hostname !== undefined && env.HOSTNAME === undefined) env.HOSTNAME = spec.hostname;
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

function resources(spec: ContainerSpec): Record<string, unknown> {
  const limits = spec.limits ?? {};
  const r: Record<string, unknown> = { devices: [{ allow: false, access: 'rwm' }] };
  if (limits.memoryBytes !== undefined) {
    // swap == limit means "no swap on top": the container is OOM-killed at the limit.
    r.memory = { limit: limits.memoryBytes, swap: limits.memoryBytes };
  }
  if (limits.cpuMillis !== undefined) {
    r.cpu = { quota: Math.max(1000, Math.round(limits.cpuMillis * CPU_PERIOD_US / 1000)), period: CPU_PERIOD_US };
  }
  if (limits.pids !== undefined) r.pids = { limit: limits.pids };
  return r;
}

function namespaces(spec: ContainerSpec): Array<{ type: string; path?: string }> {
  return [
    { type: 'pid' },
    { type: 'ipc' },
    { type: 'uts' },
    { type: 'mount' },
    spec.netnsPath !== undefined ? { type: 'network', path: spec.netnsPath } : { type: 'network' },
  ];
}

/** The config.json of a container's bundle. */
export function buildOciConfig(spec: ContainerSpec, ctx: OciConfigContext): Record<string, unknown> {
  const caps = [...DEFAULT_CAPABILITIES];
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: false,
      user: { uid: ctx.user.uid, gid: ctx.user.gid, ...(ctx.user.additionalGids.length > 0 ? { additionalGids: ctx.user.additionalGids } : {}) },
      args: spec.args,
      env: envList(spec, ctx.user),
      cwd: spec.cwd ?? '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: ctx.nofile ?? DEFAULT_NOFILE, soft: ctx.nofile ?? DEFAULT_NOFILE }],
      noNewPrivileges: true,
    },
    root: { path: spec.rootfs, readonly: spec.readonlyRootfs === true },
    hostname: spec.hostname ?? spec.id.slice(0, 63),
    mounts: [...DEFAULT_MOUNTS, ...(spec.mounts ?? []).map(toOciMount)],
    annotations: { ...(spec.annotations ?? {}) },
    linux: {
      cgroupsPath: ctx.cgroupsPath,
      resources: resources(spec),
      namespaces: namespaces(spec),
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
    },
  };
}
