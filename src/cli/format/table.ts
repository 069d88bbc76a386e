/**
 * Plain aligned text tables, the way `get` prints lists: upper-case headers, columns
 * separated by three spaces, no trailing blanks. Cells never contain newlines.
 */

/** Renders rows under headers; every row has one cell per header. */
export function renderTable(headers: string[], rows: string[][]): string {
  const all = [headers, ...rows.map((r) => r.map(oneLine))];
  const widths = headers.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const lines = all.map((r) =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] ?? 0)))
      .join('   ')
      .trimEnd(),
  );
  return lines.join('\n') + '\n';
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}

/** Human age of a timestamp relative to now: `42s`, `7m`, `3h`, `12d`; `-` when unknown. */
export function formatAge(timestamp: string | undefined, now: Date): string {
  if (timestamp === undefined || timestamp === '') return '-';
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return '-';
  const s = Math.max(0, Math.floor((now.getTime() - t) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** `k=v,k2=v2`, or `<none>`. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const pairs = Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`);
  return pairs.length > 0 ? pairs.join(',') : '<none>';
}

/** A value or `-` when empty or absent. */
export function orDash(v: string | number | boolean | undefined | null): string {
  if (v === undefined || v === null || v === '') return '-';
  return String(v);
}
