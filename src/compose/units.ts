/**
 * Compose's value formats, read into what Flotilla's objects hold: durations (`1m30s`, `500ms`,
 * a number of seconds) into whole seconds, byte sizes (`50M` = 50 MiB, as Docker reads them)
 * into Kubernetes-style quantities, and numbers written as strings (after interpolation).
 * Each returns undefined and records an issue when the value does not parse.
 */
import type { MapContext, Path } from './context.js';

const DURATION_PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** Seconds of a Go-style duration (`1m30s`, `10s`, `250ms`); a bare number is seconds. */
export function durationSeconds(v: unknown): number | undefined {
  if (typeof v === 'number') return v >= 0 ? v : undefined;
  if (typeof v !== 'string' || v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  let total = 0;
  let consumed = 0;
  for (const m of v.matchAll(DURATION_PART)) {
    total += Number(m[1]) * (UNIT_SECONDS[m[2] as string] as number);
    consumed += m[0].length;
  }
  return consumed === v.length ? total : undefined;
}

/**
 * A duration as whole seconds (rounded up, so a probe never runs more often than asked; a
 * non-whole value is warned about), or undefined with an issue.
 */
export function wholeSeconds(ctx: MapContext, path: Path, v: unknown, min = 0): number | undefined {
  const s = durationSeconds(v);
  if (s === undefined) {
    ctx.issue(path, 'a duration like 10s, 1m30s or 500ms', v);
    return undefined;
  }
  const whole = Math.max(min, Math.ceil(s - 1e-9));
  if (whole !== s) ctx.warn(path, `rounded to ${whole}s: Flotilla counts this in whole seconds${min > 0 ? ` (at least ${min})` : ''}`);
  return whole;
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4 };

/** Bytes of a Docker size (`50M`, `1g`, `512k`, `100b`, a number); binary units, as Docker's. */
export function dockerBytes(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(v.trim());
  const unit = m !== null ? BYTE_UNITS[(m[2] as string).toLowerCase()] : undefined;
  if (m === null || unit === undefined) return undefined;
  return Math.round(Number(m[1]) * unit);
}

/** A byte size as a Flotilla quantity (`50Mi`, `1Gi`, or plain bytes), or undefined with an issue. */
export function byteQuantity(ctx: MapContext, path: Path, v: unknown): string | undefined {
  const n = dockerBytes(v);
  if (n === undefined) {
    ctx.issue(path, 'a size like 64M, 1g or 512k (binary units, as Docker reads them)', v);
    return undefined;
  }
  for (const [suffix, size] of [['Gi', 1024 ** 3], ['Mi', 1024 ** 2], ['Ki', 1024]] as const) {
    if (n > 0 && n % size === 0) return `${n / size}${suffix}`;
  }
  return String(n);
}

/** An integer written as a number or a string (after interpolation), or undefined with an issue. */
export function integer(ctx: MapContext, path: Path, v: unknown, min = 0): number | undefined {
  const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min) {
    ctx.issue(path, min === 0 ? 'a number (whole, >= 0)' : `a number (whole, >= ${min})`, v);
    return undefined;
  }
  return n;
}

/** A number (integer or not) written as a number or a string, or undefined with an issue. */
export function decimal(ctx: MapContext, path: Path, v: unknown, min = 0, max = Infinity): number | undefined {
  const n = typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) {
    ctx.issue(path, `a number${max < Infinity ? ` from ${min} to ${max}` : ` >= ${min}`}`, v);
    return undefined;
  }
  return n;
}

/** A boolean written as one or as "true"/"false" (after interpolation). */
export function boolean(ctx: MapContext, path: Path, v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  ctx.issue(path, 'true or false', v);
  return undefined;
}
