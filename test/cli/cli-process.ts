/**
 * Runs the real CLI as a child process (`node --import tsx src/cli/main.ts`): `cli()` to its
 * end with a deadline, `startCli()` for long-running commands (`get --watch`) that a test reads
 * while they run and stops with a signal. Every child is killed by PID if it outlives its test.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';

/** The repository root (the CLI's working directory). */
export const ROOT = resolve(import.meta.dirname, '../..');
const CLI_TIMEOUT_MS = 30_000;

/** How one CLI run ended. */
export interface Result {
  code: number | null;
  out: string;
  err: string;
}

function spawnCli(args: string[], env: NodeJS.ProcessEnv): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env, FLOTILLA_DEBUG: '' } });
}

/** Runs the CLI once; kills it (by PID) if it outlives the timeout. */
export function cli(args: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const child = spawnCli(args, env);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`flotilla ${args.join(' ')}: no exit within ${CLI_TIMEOUT_MS} ms\n${out}\n${err}`));
    }, CLI_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, out, err });
    });
    child.stdin.end(stdin);
  });
}

/** A CLI process still running. */
export interface RunningCli {
  /** Output so far. */
  out(): string;
  err(): string;
  /** Resolves once stdout matches `re` (rejects after timeoutMs, with what was printed). */
  waitForOut(re: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends a signal and resolves with the exit (SIGKILL after timeoutMs). */
  stop(signal: NodeJS.Signals, timeoutMs?: number): Promise<Result>;
}

/** Starts the CLI and returns at once. */
export function startCli(args: string[], env: NodeJS.ProcessEnv): RunningCli {
  const child = spawnCli(args, env);
  child.stdin.end();
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const poke = (): void => waiters.forEach((w) => w());
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    poke();
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  void exited.then(poke);
  return {
    out: () => out,
    err: () => err,
    waitForOut: (re, timeoutMs = 30_000) =>
      new Promise<void>((res, rej) => {
        const check = (): void => {
          if (re.test(out)) done(undefined);
          else if (child.exitCode !== null) done(new Error(`flotilla ${args.join(' ')} exited ${child.exitCode} before printing ${re}\n${out}\n${err}`));
        };
        const timer = setTimeout(() => done(new Error(`flotilla ${args.join(' ')}: no ${re} within ${timeoutMs} ms\n${out}\n${err}`)), timeoutMs);
        const done = (e: Error | undefined): void => {
          clearTimeout(timer);
          waiters.delete(check);
          if (e === undefined) res();
          else rej(e);
        };
        waiters.add(check);
        check();
      }),
    stop: async (signal, timeoutMs = 15_000) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return { code, out, err };
    },
  };
}
