/**
 * Resource quantities as Kubernetes users write them: `250m`, `1.5`, `64Mi`, `1G`, `1e3`.
 *
 * Parsing is exact: the decimal mantissa is kept as a BigInt with a power of ten and a power of
 * two, so `0.1` cores is exactly 100 millicores (no float rounding), and rounding up to whole
 * millicores or bytes happens once, at the end, as Kubernetes' `MilliValue()` / `Value()` do.
 */

/** Decimal SI suffixes and their power of ten. */
const DECIMAL_SUFFIX: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
/** Binary SI suffixes and their power of two. */
const BINARY_SUFFIX: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

// sign? (digits[.digits] | .digits) then one of: binary suffix, exponent, decimal suffix.
// The exponent alternative comes before the `E` (exa) suffix so `1E3` is 1000, `1E` is 1e18.
const QUANTITY_RE = /^\+?(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d{1,3}|[numkMGTPE])?$/;

/** A quantity held exactly: value = mantissa * 10^exp10 * 2^exp2. */
export interface ExactQuantity {
  mantissa: bigint;
  exp10: number;
  exp2: number;
}

const MAX_LENGTH = 64;

function render(q: unknown): string {
  const s = typeof q === 'string' ? JSON.stringify(q) : String(q);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function garbage(q: unknown, why = ''): Error {
  return new Error(`invalid quantity ${render(q)}: expected a non-negative number with an optional suffix (n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an exponent like 1e3), e.g. 250m, 1.5, 64Mi${why}`);
}

/** Parses a quantity exactly; throws a plain Error for garbage or negative values. */
export function parseExactQuantity(q: string | number): ExactQuantity {
  let text: string;
  if (typeof q === 'number') {
    if (!Number.isFinite(q)) throw garbage(q, ' (not a finite number)');
    if (q < 0) throw garbage(q, ' (negative quantities are not allowed)');
    text = String(q); // may be `1e+21` or `1e-7`: the grammar below reads both
  } else if (typeof q === 'string') {
    text = q.trim();
  } else {
    throw garbage(q);
  }
  if (text.startsWith('-')) throw garbage(q, ' (negative quantities are not allowed)');
  if (text.length === 0 || text.length > MAX_LENGTH) throw garbage(q);
  const m = QUANTITY_RE.exec(text);
  if (m === null) throw garbage(q);
  const num = m[1] as string;
  const suffix = m[2] ?? '';
  const dot = num.indexOf('.');
  const intPart = dot < 0 ? num : num.slice(0, dot);
  const fracPart = dot < 0 ? '' : num.slice(dot + 1);
  const mantissa = BigInt((intPart + fracPart).replace(/^0+(?=\d)/, '') || '0');
  let exp10 = -fracPart.length;
  let exp2 = 0;
  if (suffix in BINARY_SUFFIX) exp2 = BINARY_SUFFIX[suffix] as number;
  else if (/^[eE]/.test(suffix) && suffix.length > 1) exp10 += Number(suffix.slice(1));
  else exp10 += DECIMAL_SUFFIX[suffix] as number;
  // Beyond 1e30 nothing is a real resource amount; refusing it keeps BigInt math small.
  if (mantissa > 0n && exp10 + String(mantissa).length + exp2 * Math.LOG10E * Math.LN2 > 31) throw new Error(`quantity ${render(q)} is too large`);
  return { mantissa, exp10, exp2 };
}

/** The exact value as a fraction numerator/denominator (denominator a power of ten). */
function fraction(e: ExactQuantity, scale10: number): { num: bigint; den: bigint } {
  const p = e.exp10 + scale10;
  let num = e.mantissa * (1n << BigInt(e.exp2));
  let den = 1n;
  if (p >= 0) num *= 10n ** BigInt(p);
  else den = 10n ** BigInt(-p);
  return { num, den };
}

function ceilToNumber(num: bigint, den: bigint, q: unknown): number {
  const whole = (num + den - 1n) / den;
  if (whole > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`quantity ${render(q)} is too large`);
  return Number(whole);
}

/**
 * The value of a quantity as a number: `250m` = 0.25, `64Mi` = 67108864, `1G` = 1e9.
 * Accepts numbers as YAML gives them (`cpu: 0.5`). Throws a plain Error for garbage or negatives.
 */
export function parseQuantity(q: string | number): number {
  const e = parseExactQuantity(q);
  return Number(`${e.mantissa}e${e.exp10}`) * 2 ** e.exp2;
}

/**
 * CPU in millicores, rounded up like Kubernetes (`0.0001` -> 1): `250m` -> 250, `1.5` -> 1500,
 * `2` -> 2000. What the scheduler sums and runc's CPU quota is computed from.
 */
export function parseCpuMillis(q: string | number): number {
  const { num, den } = fraction(parseExactQuantity(q), 3);
  return ceilToNumber(num, den, q);
}

/** Memory (or any byte amount) as integer bytes, rounded up: `64Mi` -> 67108864, `1G` -> 1e9. */
export function parseBytes(q: string | number): number {
  const { num, den } = fraction(parseExactQuantity(q), 0);
  return ceilToNumber(num, den, q);
}

/** True when `s` parses as a quantity (for validation messages that do not need the reason). */
export function isQuantity(s: unknown): boolean {
  if (typeof s !== 'string' && typeof s !== 'number') return false;
  try {
    parseExactQuantity(s);
    return true;
  } catch {
    return false;
  }
}

/** Compares two quantities exactly: negative, zero or positive like a sort comparator. */
export function compareQuantities(a: string | number, b: string | number): number {
  const x = parseExactQuantity(a);
  const y = parseExactQuantity(b);
  // Bring both to the same power of ten and two, then compare the integers.
  const e10 = Math.min(x.exp10, y.exp10);
  const e2 = Math.min(x.exp2, y.exp2);
  const scale = (q: ExactQuantity): bigint => q.mantissa * 10n ** BigInt(q.exp10 - e10) * (1n << BigInt(q.exp2 - e2));
  const d = scale(x) - scale(y);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/** Renders a byte count for people: `67108864` -> `64Mi`, `1000` -> `1000`. */
export function formatBytes(bytes: number): string {
  const units = ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki'];
  for (let i = 0; i < units.length; i++) {
    const size = 2 ** (10 * (units.length - i));
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${units[i]}`;
  }
  return String(bytes);
}

/** Renders millicores for people: `250` -> `250m`, `2000` -> `2`. */
export function formatCpuMillis(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}
