/**
 * How the dashboard writes figures: the same units as `flotilla top` (binary bytes, millicores),
 * ages like `kubectl get` (5s, 3m, 2h, 4d). Pure: unit-tested in test/dashboard/format.test.ts.
 */

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 -> "1.5 KiB"; 64 MiB -> "64 MiB"; negative or not finite -> "-". */
export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n) || n < 0) return '-';
  let v = n;
  let u = 0;
  while (v >= 1024 && u < BYTE_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${Math.round(v)} B`;
  const digits = v >= 100 || Number.isInteger(v) ? 0 : v >= 10 ? 1 : 2;
  return `${trimZeros(v.toFixed(digits))} ${BYTE_UNITS[u]}`;
}

/** Cores as `top` writes them: 0.25 -> "250m", 0.0004 -> "0m" (rounded), 1.5 -> "1.5", 2 -> "2". */
export function formatCores(cores: number | undefined): string {
  if (cores === undefined || !Number.isFinite(cores) || cores < 0) return '-';
  if (cores < 1) return `${Math.round(cores * 1000)}m`;
  return trimZeros(cores.toFixed(2));
}

/** 42.34 -> "42%"; 0.4 -> "0.4%"; undefined -> "-". */
export function formatPercent(p: number | undefined): string {
  if (p === undefined || !Number.isFinite(p)) return '-';
  if (p > 0 && p < 1) return `${trimZeros(p.toFixed(1))}%`;
  return `${Math.round(p)}%`;
}

/** A percentage for a bar's width: 0..100. */
export function barPercent(p: number | undefined): number {
  if (p === undefined || !Number.isFinite(p) || p < 0) return 0;
  return Math.min(100, p);
}

/** Time since an RFC 3339 instant: "5s", "3m", "2h", "4d"; "-" when missing or unparsable. */
export function formatAge(since: string | undefined, nowMs: number): string {
  if (since === undefined) return '-';
  const t = Date.parse(since);
  if (Number.isNaN(t)) return '-';
  const s = Math.max(0, Math.floor((nowMs - t) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** "HH:MM:SS" of an RFC 3339 instant in local time (log lines, events); the text itself when unparsable. */
export function formatClock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** Kubernetes quantities of a Node's capacity: "4" -> 4 cores, "500m" -> 0.5; undefined when not a CPU quantity. */
export function parseCpuQuantity(q: string | undefined): number | undefined {
  if (q === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(q.trim());
  if (m === null) return undefined;
  const v = Number(m[1]);
  return m[2] === 'm' ? v / 1000 : v;
}

/** Memory quantities: "64Mi", "1Gi", "512", "1G" -> bytes; undefined when not one. */
export function parseMemoryQuantity(q: string | undefined): number | undefined {
  if (q === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|k|K|M|G|T|P)?$/.exec(q.trim());
  if (m === null) return undefined;
  const mult: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };
  return Number(m[1]) * (mult[m[2] ?? ''] ?? 1);
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}
