/**
 * Launches conmon, the per-container monitor podman and CRI-O use. conmon runs `runc create`,
 * daemonizes (so the agent is not the container's parent and may restart), copies the
 * container's stdout/stderr into a k8s-file log, watches the memory cgroup for OOM kills
 * (writes `<persist-dir>/oom`) and writes the exit code to `<exit-dir>/<id>` when it ends.
 * The agent then calls `runc start`.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { ContainerRuntimeError } from '../runtime.js';

/** Where conmon reads and writes for one container. */
export interface ConmonLaunch {
  conmonPath: string;
  runcPath: string;
  runcRoot: string;
  id: string;
  bundleDir: string;
  /** k8s-file log of the container's output. */
  logPath: string;
  /** conmon truncates the log above this: a backstop for while the agent (which rotates) is down. */
  logSizeMaxBytes: number;
  exitDir: string;
  socketDir: string;
  /** conmon's own messages (diagnostics). */
  conmonLogPath: string;
  timeoutMs?: number;
}

/** Files conmon writes inside the bundle directory. */
export const CONMON_FILES = { pid: 'pid', conmonPid: 'conmon.pid', oom: 'oom', ctl: 'ctl' } as const;

function conmonArgs(l: ConmonLaunch): string[] {
  return [
    '--api-version', '1', '-c', l.id, '-u', l.id, '-n', l.id,
    '-r', l.runcPath, '--runtime-arg', `--root=${l.runcRoot}`,
    '-b', l.bundleDir, '-p', `${l.bundleDir}/${CONMON_FILES.pid}`, '-P', `${l.bundleDir}/${CONMON_FILES.conmonPid}`,
    '-l', `k8s-file:${l.logPath}`, '--log-size-max', String(l.logSizeMaxBytes),
    '--exit-dir', l.exitDir, '--persist-dir', l.bundleDir, '--socket-dir-path', l.socketDir,
    '--log-level', 'info',
  ];
}

/**
 * Runs conmon and resolves with the container's PID once `runc create` has succeeded; rejects
 * with runc's own message (e.g. executable not found) when it failed.
 */
export function launchConmon(l: ConmonLaunch): Promise<number> {
  const logFd = openSync(l.conmonLogPath, 'a');
  const child = spawn(l.conmonPath, conmonArgs(l), {
    cwd: l.bundleDir,
    detached: true,
    stdio: ['ignore', logFd, logFd, 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', _OCI_SYNCPIPE: '3' },
  });
  closeSync(logFd);
  child.unref();
  const sync = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
  return new Promise<number>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => finish(new ContainerRuntimeError(`conmon for ${l.id}: no answer within ${l.timeoutMs ?? 30_000} ms`)), l.timeoutMs ?? 30_000);
    function finish(result: number | Error): void {
      clearTimeout(timer);
      sync.removeAllListeners();
      sync.on('error', () => undefined);
      sync.destroy();
      if (typeof result === 'number') resolve(result);
      else reject(result);
    }
    sync.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      const line = buf.split('\n').find((s) => s.trim().startsWith('{'));
      if (line === undefined) return;
      try {
        const msg = JSON.parse(line) as { data?: number; message?: string };
        if (typeof msg.data === 'number' && msg.data > 0) finish(msg.data);
        else finish(new ContainerRuntimeError(`start ${l.id}: ${cleanMessage(msg.message ?? 'runc create failed')}`));
      } catch {
        // partial JSON: wait for more
      }
    });
    sync.on('error', (err: Error) => finish(err));
    sync.on('end', () => finish(new ContainerRuntimeError(`conmon for ${l.id} exited without reporting; see ${l.conmonLogPath}`)));
  });
}

/** runc's messages come wrapped in logrus fields; keep the message part. */
function cleanMessage(raw: string): string {
  const m = raw.match(/msg="((?:[^"\\]|\\.)*)"/);
  return (m?.[1] ?? raw).replace(/\\"/g, '"').trim();
}
