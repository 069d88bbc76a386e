/**
 * "Did you mean ...?" for the CLI: the closest of the known words to a mistyped one (edit
 * distance, case-insensitive), used for KIND arguments and `explain` fields. Commander makes
 * its own suggestions for command and option names.
 */
import { distance } from '../api/validate/issues.js';

/** The candidate nearest to `word`, if it is near enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d <= limit && (best === undefined || d < best.d)) best = { c, d };
  }
  return best?.c;
}

/** ` (did you mean X?)`, or "" when nothing is close. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const near = closest(word, candidates);
  return near !== undefined ? `did you mean ${near}?` : '';
}
