/**
 * Node ages for reverse uptime: the `--max-node-age` flag and the `flotilla.dev/max-node-age`
 * node label share this one parser, so the API refuses a label value the controller could not
 * read. `0` and `off` mean "never recycle by age".
 */
import { MAX_NODE_AGE_LABEL, type NodeObject } from './kinds.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** What a node age accepts, for error messages. */
export const NODE_AGE_EXPECTED = 'a duration such as 24h, 90m, 30s or 7d, or 0/off (never)';

/** Milliseconds of `24h`, `90m`, `30s`, `1500ms`, `7d`, `1.5h`; 0 for `0`/`off`; undefined when not a duration. */
export function parseNodeAgeMs(text: string): number | undefined {
  if (/^\s*(0|off)\s*$/i.test(text)) return 0;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(text);
  if (m === null) return undefined;
  const ms = Math.round(Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? NaN));
  return Number.isFinite(ms) ? ms : undefined;
}

/** `24h`, `90m`, `30s` (days as hours: `168h`): the shortest exact form (for reasons and messages). */
export function formatNodeAge(ms: number): string {
  for (const unit of ['h', 'm', 's'] as const) {
    const size = UNIT_MS[unit] ?? 1;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * The maximum age that applies to a node: its label when set (0 = exempt), else the cluster's
 * (undefined or 0 = off). An unreadable label (the API refuses those) counts as the cluster value.
 */
export function maxAgeOf(node: NodeObject, clusterMaxAgeMs: number | undefined): number | undefined {
  const label = node.metadata.labels?.[MAX_NODE_AGE_LABEL];
  const own = label === undefined ? undefined : parseNodeAgeMs(label);
  const ms = own ?? clusterMaxAgeMs;
  return ms === undefined || ms <= 0 ? undefined : ms;
}
