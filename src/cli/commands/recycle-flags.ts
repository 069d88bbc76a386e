/**
 * The reverse-uptime flags `flotilla server` and `flotilla up` share: `--max-node-age DURATION`
 * (24h, 90m; 0/off: never, the default) and `--node-provisioner COMMAND` (the hook asked for a
 * replacement before a node is drained; docs/reverse-uptime.md).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { NODE_AGE_EXPECTED, parseNodeAgeMs } from '../../api/node-age.js';
import type { RecycleSettings } from '../../controllers/recycle/settings.js';

/** The parsed flags. */
export interface RecycleFlags {
  maxNodeAge?: number;
  nodeProvisioner?: string;
}

/** Commander parser of `--max-node-age`. */
export function parseMaxNodeAge(text: string): number {
  const ms = parseNodeAgeMs(text);
  if (ms === undefined) throw new InvalidArgumentError(`expected ${NODE_AGE_EXPECTED}, found "${text}"`);
  return ms;
}

/** Adds the two flags to `cmd`. */
export function addRecycleOptions(cmd: Command): Command {
  return cmd
    .option('--max-node-age <duration>', 'recycle nodes older than this since their join (24h, 90m; node label flotilla.dev/max-node-age overrides; default off)', parseMaxNodeAge)
    .option('--node-provisioner <command>', 'command run with the node name (env FLOTILLA_NODE, FLOTILLA_NODE_LABELS) to ask for a replacement before a node is recycled');
}

/** The settings for runServer / runUp; undefined when neither flag is given. */
export function recycleSettings(f: RecycleFlags): RecycleSettings | undefined {
  if (f.maxNodeAge === undefined && f.nodeProvisioner === undefined) return undefined;
  return { ...(f.maxNodeAge !== undefined ? { maxNodeAgeMs: f.maxNodeAge } : {}), ...(f.nodeProvisioner !== undefined ? { nodeProvisioner: f.nodeProvisioner } : {}) };
}
