/**
 * Conventions of the chaos suite (test/chaos/*.test.ts, issue 13): each fault test runs a short
 * form in CI and a long form under `bash scripts/chaos.sh` (FLOTILLA_CHAOS=long), and prints its
 * counts as one line that docs/reliability.md quotes:
 *   chaos <fault>: operations=1200 faults=3 acknowledged-lost=0 duplicate-tasks=0 ...
 */

/** True under `bash scripts/chaos.sh`: run the long form (more rounds, more load). */
export function chaosLong(): boolean {
  return process.env.FLOTILLA_CHAOS === 'long';
}

/** The short form's count in CI, the long form's under scripts/chaos.sh. */
export function rounds(short: number, long: number): number {
  return chaosLong() ? long : short;
}

/** Prints the counts of one fault test on one line (stdout, so the runner shows it). */
export function reportCounts(fault: string, counts: Record<string, number | string>): void {
  const fields = Object.entries(counts).map(([k, v]) => `${k}=${v}`).join(' ');
  console.log(`chaos ${fault}: ${fields}`);
}
