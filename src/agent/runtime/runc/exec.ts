/**
 * `runc exec` into a running container, streaming stdout/stderr to the caller. runc's own
 * errors go to a log file (not the process's stderr), so "executable not found" can be told
 * apart from the command's output and reported as exit code 127, as a shell would.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { ConflictError } from '../../../api/errors.js';
import { ContainerRuntimeError, type ExecOptions, type ExecResult } from '../runtime.js';
import type { RuncCli } from './runc-cli.js';

/** What runc's json log says about a failed exec, if anything. */
async function runcError(logPath: string): Promise<string | undefined> {
  const text = await readFile(logPath, 'utf8').catch(() => '');
  const errors = text.split('\n').filter((l) => l.trim() !== '').map((l) => {
    try {
      return JSON.parse(l) as { level?: string; msg?: string };
    } catch {
      return { level: 'error', msg: l };
    }
  }).filter((e) => e.level === 'error' || e.level === 'fatal');
  return errors.at(-1)?.msg;
}

function execArgs(id: string, cmd: string[], opts: ExecOptions, pidFile: string): string[] {
  const args = ['exec', '--pid-file', pidFile];
  for (const [k, v] of Object.entries(opts.env ?? {})) args.push('--env', `${k}=${v}`);
  if (opts.cwd !== undefined) args.push('--cwd', opts.cwd);
  return [...args, id, ...cmd];
}

/** Runs `cmd` in container `id`; `tmpDir` holds runc's log and the exec PID file. */
export async function runcExec(runc: RuncCli, tmpDir: string, id: string, cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  if (cmd.length === 0) throw new ContainerRuntimeError('exec: empty command');
  const tag = randomBytes(4).toString('hex');
  const logPath = `${tmpDir}/exec-${tag}.log`;
  const pidFile = `${tmpDir}/exec-${tag}.pid`;
  try {
    const { code, timedOut, held } = await runProcess(runc, execArgs(id, cmd, opts, pidFile), logPath, pidFile, opts);
    const err = code === 255 ? await runcError(logPath) : undefined;
    if (err === undefined && held !== '') opts.stderr?.write(held); // it was the command's own output
    if (timedOut) return { exitCode: 137, timedOut: true };
    if (err === undefined) return { exitCode: code };
    if (/executable file not found|no such file or directory/i.test(err)) {
      opts.stderr?.write(`exec: ${cmd[0]}: command not found in the container (${err.replace(/^.*exec: /, '')})\n`);
      return { exitCode: 127 };
    }
    if (/permission denied/i.test(err)) {
      opts.stderr?.write(`exec: ${cmd[0]}: permission denied\n`);
      return { exitCode: 126 };
    }
    if (/not running|cannot exec in a stopped|does not exist/i.test(err)) throw new ConflictError(`exec in ${id}: ${err}`);
    throw new ContainerRuntimeError(`exec in ${id}: ${err}`);
  } finally {
    await rm(logPath, { force: true });
    await rm(pidFile, { force: true });
  }
}

function runProcess(
  runc: RuncCli, args: string[], logPath: string, pidFile: string, opts: ExecOptions,
): Promise<{ code: number; timedOut: boolean; held: string }> {
  const child = spawn(runc.runcPath, ['--root', runc.root, '--log', logPath, '--log-format', 'json', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (b: Buffer) => opts.stdout?.write(b));
  // runc repeats its own failure on stderr ("exec failed: ..."): hold that back until we know.
  let held = '';
  child.stderr.on('data', (b: Buffer) => {
    const text = b.toString('utf8');
    if (held !== '' || text.startsWith('exec failed:')) held += text;
    else opts.stderr?.write(b);
  });
  let timedOut = false;
  const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    void killExec(pidFile, child.pid);
  }, opts.timeoutMs);
  const onAbort = (): void => void killExec(pidFile, child.pid);
  if (opts.signal?.aborted === true) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  return new Promise((resolve, reject) => {
    child.on('error', (err) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({ code: code ?? (signal !== null ? 137 : 255), timedOut, held });
    });
  });
}

/** Kills the exec'd process itself (runc cannot forward SIGKILL); runc then exits with 137. */
async function killExec(pidFile: string, runcPid: number | undefined): Promise<void> {
  const pid = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10);
  const target = Number.isNaN(pid) ? runcPid : pid;
  if (target === undefined) return;
  try {
    process.kill(target, 'SIGKILL');
  } catch {
    // already gone
  }
}
