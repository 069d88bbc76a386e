/**
 * The provisioner hook of reverse uptime (`--node-provisioner COMMAND`): asked for a replacement
 * before a node is drained. Contract (docs/reverse-uptime.md): run as `/bin/sh -c 'COMMAND "$1"'
 * sh NODE_NAME` (so COMMAND may carry its own arguments; the name is the last argument), with
 * FLOTILLA_NODE=NAME and FLOTILLA_NODE_LABELS=k=v,... in its environment; exit 0 = replacement
 * asked for (it may also wait until the new machine joined); anything else, or running past the
 * timeout (its process group is killed), is a failure. It runs once per recycle.
 */
import { spawn } from 'node:child_process';

/** What the recycle loop needs of a provisioner (tests pass a fake). */
export interface NodeProvisioner {
  /** Asks for a replacement of `node`; never rejects: the outcome is the result. */
  provision(node: { name: string; labels: Readonly<Record<string, string>> }): Promise<{ ok: boolean; message: string }>;
  /** Kills hooks still running (the loop is stopping). */
  stop(): void;
}

/** Last bytes of the hook's output kept for the Event message. */
const OUTPUT_TAIL_BYTES = 400;

/** The hook as a child process; see the file comment. */
export function commandProvisioner(command: string, timeoutMs: number): NodeProvisioner {
  const running = new Set<() => void>();
  return {
    provision(node) {
      const started = Date.now();
      const labels = Object.entries(node.labels).map(([k, v]) => `${k}=${v}`).join(',');
      return new Promise((resolve) => {
        const child = spawn('/bin/sh', ['-c', `${command} "$1"`, 'sh', node.name], {
          env: { ...process.env, FLOTILLA_NODE: node.name, FLOTILLA_NODE_LABELS: labels },
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true, // its own process group: a timeout kills what it started too
        });
        let output = '';
        const keep = (d: Buffer): void => { output = (output + d.toString()).slice(-OUTPUT_TAIL_BYTES); };
        child.stdout.on('data', keep);
        child.stderr.on('data', keep);
        let timedOut = false;
        const kill = (): void => {
          try {
            if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
          } catch { /* already gone */ }
        };
        const timer = setTimeout(() => { timedOut = true; kill(); }, timeoutMs);
        running.add(kill);
        const done = (ok: boolean, what: string): void => {
          clearTimeout(timer);
          running.delete(kill);
          const tail = output.trim().replace(/\s+/g, ' ');
          const secs = ((Date.now() - started) / 1000).toFixed(1);
          resolve({ ok, message: `provisioner "${command} ${node.name}" ${what} after ${secs}s${tail !== '' ? `: ${tail}` : ''}` });
        };
        child.on('error', (err) => done(false, `could not start (${err.message})`));
        child.on('close', (code, signal) => {
          if (timedOut) done(false, `timed out (limit ${timeoutMs / 1000}s)`);
          else if (code === 0) done(true, 'exited 0');
          else done(false, code !== null ? `exited ${code}` : `was killed by ${signal ?? 'a signal'}`);
        });
      });
    },
    stop() {
      for (const kill of [...running]) kill();
    },
  };
}
