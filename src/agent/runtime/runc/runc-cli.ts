/**
 * Runs the runc binary with our own `--root`, so Flotilla's containers never mix with anyone
 * else's. Turns runc's failures into typed errors: "does not exist" is NotFoundError.
 */
import { execFile } from 'node:child_process';
import { NotFoundError } from '../../../api/errors.js';
import { ContainerRuntimeError } from '../runtime.js';

/** What runc reports in `state` and `list -f json`. */
export interface RuncState {
  id: string;
  pid: number;
  status: 'created' | 'running' | 'pausing' | 'paused' | 'stopped';
  bundle: string;
  created: string;
  annotations?: Record<string, string>;
}

/** A runc binary bound to one state root. */
export class RuncCli {
  constructor(readonly runcPath: string, readonly root: string, private readonly timeoutMs = 30_000) {}

  /** Runs `runc --root R ...args`; resolves stdout, rejects with a typed error. */
  run(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(this.runcPath, ['--root', this.root, ...args], { timeout: this.timeoutMs, maxBuffer: 16 << 20 },
        (err, stdout, stderr) => {
          if (err === null) return resolve(stdout);
          const msg = `${stderr || err.message}`.trim();
          if (/does not exist|not found in state/.test(msg)) reject(new NotFoundError(`runc ${args[0]}: ${msg}`));
          else reject(new ContainerRuntimeError(`runc ${args.join(' ')}: ${msg}`));
        });
    });
  }

  /** The container's runc state, or undefined when runc does not know it. */
  async state(id: string): Promise<RuncState | undefined> {
    try {
      return JSON.parse(await this.run(['state', id])) as RuncState;
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  /** Every container under our root. */
  async list(): Promise<RuncState[]> {
    const out = await this.run(['list', '-f', 'json']);
    const parsed = JSON.parse(out.trim() === '' ? 'null' : out) as RuncState[] | null;
    return parsed ?? [];
  }

  /** Sends a signal; a container that is already gone is not an error. */
  async kill(id: string, signal: string): Promise<void> {
    try {
      await this.run(['kill', id, signal.replace(/^SIG/, '')]);
    } catch (err) {
      if (err instanceof NotFoundError) return;
      if (err instanceof ContainerRuntimeError && /not running|process already finished|no such process/i.test(err.message)) return;
      throw err;
    }
  }

  /** `runc delete --force`: kills what is left, removes runc's state and the container's cgroup. */
  async delete(id: string): Promise<void> {
    try {
      await this.run(['delete', '--force', id]);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
}
