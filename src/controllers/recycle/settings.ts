/**
 * Reverse-uptime settings as `flotilla server` and `flotilla up` take them (`--max-node-age`,
 * `--node-provisioner`), and their translation into the recycle loop's options (a hook command
 * becomes a commandProvisioner, one per leadership term, killed when the loops stop).
 */
import { DEFAULT_PROVISIONER_TIMEOUT_MS } from './compute.js';
import { commandProvisioner, type NodeProvisioner } from './provisioner.js';

/** The settings (all optional; none: recycling only by node label or `node recycle`). */
export interface RecycleSettings {
  /** Cluster maximum node age in ms (0 or absent: off). */
  maxNodeAgeMs?: number;
  /** Provisioner hook command (see provisioner.ts for its contract). */
  nodeProvisioner?: string;
  /** Bound on the hook (default 5 min). */
  provisionerTimeoutMs?: number;
  /** Bound on the drain (default 10 min). */
  drainTimeoutMs?: number;
}

/** The recycle loop's options for `startControllers`. */
export function recycleOptions(s: RecycleSettings | undefined): { maxNodeAgeMs?: number; provisioner?: NodeProvisioner; provisionerTimeoutMs?: number; drainTimeoutMs?: number } {
  if (s === undefined) return {};
  const timeout = s.provisionerTimeoutMs ?? DEFAULT_PROVISIONER_TIMEOUT_MS;
  return {
    ...(s.maxNodeAgeMs !== undefined ? { maxNodeAgeMs: s.maxNodeAgeMs } : {}),
    ...(s.nodeProvisioner !== undefined && s.nodeProvisioner.trim() !== '' ? { provisioner: commandProvisioner(s.nodeProvisioner, timeout) } : {}),
    provisionerTimeoutMs: timeout,
    ...(s.drainTimeoutMs !== undefined ? { drainTimeoutMs: s.drainTimeoutMs } : {}),
  };
}
