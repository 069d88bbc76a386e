/**
 * How far this machine's clock is from the server's, read from the `Date` header of one
 * unauthenticated request (1 s resolution), so that the agent can say so when it starts
 * (docs/reliability.md, fault 8). The server judges liveness by its own receive times, so skew
 * does not make heartbeats flap; it does shift the times the agent writes (logs, task status
 * timestamps) and how it sees certificate validity, hence the warning.
 */
import https from 'node:https';

/** Skew beyond which the agent warns at start (the Date header has a 1 s resolution). */
export const CLOCK_SKEW_WARN_MS = 30_000;

/** Local clock minus the server's, from a response's Date header (taken half-way through the request). */
export function skewFromDate(dateHeader: string | undefined, sentMs: number, receivedMs: number): number | undefined {
  const server = Date.parse(dateHeader ?? '');
  if (!Number.isFinite(server)) return undefined;
  return Math.round((sentMs + receivedMs) / 2) - (server + 500);
}

/** "10m0s ahead of" / "2m30s behind": a person's reading of a skew. */
export function describeSkew(skewMs: number): string {
  const total = Math.round(Math.abs(skewMs) / 1000);
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${m > 0 ? `${m}m` : ''}${s}s ${skewMs > 0 ? 'ahead of' : 'behind'}`;
}

/** The warning line for `skewMs`, or undefined when within CLOCK_SKEW_WARN_MS. */
export function clockSkewWarning(server: string, skewMs: number | undefined): string | undefined {
  if (skewMs === undefined || Math.abs(skewMs) <= CLOCK_SKEW_WARN_MS) return undefined;
  return `agent: warning: this machine's clock is ${describeSkew(skewMs)} the clock of the server ${server}; ` +
    'the server judges heartbeats by its own clock, but task timestamps and certificate checks here use this one: fix the clock (NTP)';
}

/** Measures the skew against `server` (GET /api/v1/join/ca, unverified TLS: only its Date header is read); undefined when unknown. */
export function measureClockSkew(server: string, timeoutMs = 5_000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const sent = Date.now();
    const req = https.get(`${server}/api/v1/join/ca`, { rejectUnauthorized: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(skewFromDate(res.headers.date, sent, Date.now()));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}
