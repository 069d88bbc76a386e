/**
 * Child processes of the end-to-end benchmarks (scale.ts, failover.ts): a real server
 * (`runServer` on SQLite, HTTPS on a loopback port) and hollow agents (`flotilla agent
 * --simulate N`), each started until its ready line, stopped by PID (SIGTERM, then SIGKILL),
 * with their memory and CPU read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The repository root (where tsx and src/ are). */
export const ROOT = path.resolve(import.meta.dirname, '..');

/** Seconds with one decimal, for figures. */
export const secs = (ms: number): string => (ms / 1000).toFixed(1);

/** The 1, 5 and 15 minute load averages (the machine is shared: say how busy it was). */
export function loadavg(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(', ');
}

/** Resident and peak memory of a process, from /proc (MiB). */
export function memoryOf(pid: number | undefined): { rssMiB: number; peakMiB: number } {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN);
    return { rssMiB: Math.round(kb('VmRSS') / 1024), peakMiB: Math.round(kb('VmHWM') / 1024) };
  } catch {
    return { rssMiB: NaN, peakMiB: NaN };
  }
}

/** `rss N MiB (peak M MiB)` of a process. */
export function fmtMem(pid: number | undefined): string {
  const m = memoryOf(pid);
  return `rss ${m.rssMiB} MiB (peak ${m.peakMiB} MiB)`;
}

/** CPU seconds (user + system) a process has used, from /proc. */
export function cpuSecondsOf(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

/** The event loop delay a child last reported (bench/loop-lag.ts), and the worst max so far. */
const lags = new WeakMap<ChildProcess, { p99Ms: number; maxMs: number; worstMs: number }>();

/** Node flags that make a child report its event loop delay every 5 s (read with lagOf). */
export const LOOP_LAG_ARGS = ['--import', path.join(ROOT, 'bench/loop-lag.ts')];

/** `loop lag p99 N ms, max M ms (worst W ms)` of a child started with LOOP_LAG_ARGS. */
export function lagOf(child: ChildProcess | undefined): string {
  const l = child === undefined ? undefined : lags.get(child);
  return l === undefined ? 'loop lag ?' : `loop lag p99 ${l.p99Ms} ms, max ${l.maxMs} ms (worst ${l.worstMs} ms)`;
}

/** Spawns node with `args` and resolves once a stdout line matches `ready` (rejects on exit or timeout). */
export function startChild(args: string[], ready: RegExp, timeoutMs: number, name: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    const text = d.toString();
    for (const m of text.matchAll(/loop-lag: p99=(\d+) max=(\d+)/g)) lags.set(child, { p99Ms: Number(m[1]), maxMs: Number(m[2]), worstMs: Math.max(Number(m[2]), lags.get(child)?.worstMs ?? 0) });
    err = (err + text).slice(-4000);
    if (process.env.BENCH_VERBOSE === '1') process.stderr.write(`[${name}] ${text}`);
  });
  return new Promise((resolve, reject) => {
    const fail = (e: Error): void => {
      child.kill('SIGKILL');
      reject(e);
    };
    const timer = setTimeout(() => fail(new Error(`${name} not ready within ${secs(timeoutMs)} s; stderr: ${err}`)), timeoutMs);
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`${name} exited (${code ?? sig}); stderr: ${err}`)); });
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
export function stopChild(child: ChildProcess | undefined, graceMs: number): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => { clearTimeout(kill); resolve(); });
    child.kill('SIGTERM');
  });
}

/** SIGKILL (a machine that dies); resolves once it has exited. */
export function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Options of the server child (RunServerOptions as JSON). */
export interface ServerChildOptions {
  dataDir: string;
  nodeGracePeriodMs?: number;
  sqliteSynchronous?: 'normal' | 'full';
  clusterCidr?: string;
  /** Extra node flags before the script (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

/** Starts `runServer` on SQLite on 127.0.0.1:0 in a child; resolves once it printed `ready` (admin.json is in dataDir). */
export function startServerChild(o: ServerChildOptions, timeoutMs = 60_000): Promise<ChildProcess> {
  const runTs = path.join(ROOT, 'src/server/run.ts');
  const serverOpts = {
    dataDir: o.dataDir, listen: '127.0.0.1:0', store: 'sqlite', sqliteSynchronous: o.sqliteSynchronous ?? 'normal',
    ...(o.nodeGracePeriodMs !== undefined ? { nodeGracePeriodMs: o.nodeGracePeriodMs } : {}),
    ...(o.clusterCidr !== undefined ? { clusterCidr: o.clusterCidr } : {}),
  };
  const script = `import(${JSON.stringify(runTs)}).then(async (m) => { const s = await m.runServer(${JSON.stringify(serverOpts)}); process.on('SIGTERM', () => s.stop().then(() => process.exit(0))); })`;
  return startChild([...(o.nodeArgs ?? []), '--max-old-space-size=8192', '--import', 'tsx', ...LOOP_LAG_ARGS, '-e', script], /ready/, timeoutMs, 'server');
}

/** Options of a hollow agent child (`flotilla agent --simulate N`). */
export interface HollowChildOptions {
  server: string;
  token: string;
  count: number;
  /** Node name prefix: nodes are PREFIX-0, PREFIX-1, ... */
  prefix: string;
  dataDir: string;
  heartbeatMs?: number;
  startDelayMs?: number;
  nodeArgs?: string[];
}

/** Starts a hollow agent child; resolves once its nodes are registered. */
export function startHollowChild(o: HollowChildOptions, timeoutMs: number): Promise<ChildProcess> {
  return startChild([
    ...(o.nodeArgs ?? []), '--max-old-space-size=8192', '--import', 'tsx', ...LOOP_LAG_ARGS, path.join(ROOT, 'src/cli/main.ts'), 'agent', '--server', o.server, '--token', o.token,
    '--simulate', String(o.count), '--name', o.prefix, '--data-dir', o.dataDir,
    ...(o.heartbeatMs !== undefined ? ['--heartbeat-ms', String(o.heartbeatMs)] : []),
    ...(o.startDelayMs !== undefined ? ['--start-delay-ms', String(o.startDelayMs)] : []),
  ], /hollow nodes ready/, timeoutMs, `hollow agent ${o.prefix}`);
}

/** Polls `f` every `pollMs` until it returns a value; throws naming `what` after `ms`. */
export async function waitFor<T>(what: string, ms: number, f: () => Promise<T | undefined>, pollMs = 25): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * An open loop: `op(i)` started at `rate` per second for `seconds` (never waiting for answers),
 * latency measured from each call's scheduled time, so a stall shows up in the tail instead of
 * slowing the load. Returns latencies (unsorted), the same by call index (`byIndex`, NaN for a
 * failed call: for a timeline of the run) and the count of failed calls.
 */
export async function openLoop(rate: number, seconds: number, op: (i: number) => Promise<unknown>): Promise<{ lat: number[]; byIndex: Float64Array; errors: number; elapsedMs: number }> {
  const total = Math.round(rate * seconds);
  const lat: number[] = [];
  const byIndex = new Float64Array(total).fill(NaN);
  let errors = 0;
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const at = start + (i * 1000) / rate;
    const wait = at - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inflight.push(op(i).then(() => {
      const ms = performance.now() - at;
      lat.push(ms);
      byIndex[i] = ms;
    }, () => void errors++));
  }
  await Promise.all(inflight);
  return { lat, byIndex, errors, elapsedMs: performance.now() - start };
}
