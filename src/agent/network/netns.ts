/**
 * Named network namespaces through iproute2 (`ip netns add|delete`): a name under
 * /var/run/netns stays valid across agent restarts, so a namespace made before a crash is
 * found again by its name. These commands run in the machine's own mount namespace (never
 * under `ip netns exec`, whose private mount namespace would hide the bind mount).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FlotillaError } from '../../api/errors.js';

/** Where `ip netns` keeps its names (fixed in iproute2). */
export const NETNS_DIR = '/var/run/netns';

/** `ip netns` failed for a reason other than "already there" or "already gone". */
export class NetnsError extends FlotillaError {
  override readonly code = 'NetnsFailed';
}

/** Runs `ip ARGS`, resolving stdout; rejects with NetnsError carrying ip's message. */
export function runIp(args: string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err === null) resolve(stdout);
      else reject(new NetnsError(`ip ${args.join(' ')}: ${(stderr || err.message).trim()}`));
    });
  });
}

/** Creates, finds and deletes named network namespaces. */
export class NamedNetns {
  constructor(readonly dir = NETNS_DIR) {}

  /** The path a runtime joins (`linux.namespaces[].path` in the OCI config). */
  pathOf(name: string): string {
    return join(this.dir, name);
  }

  exists(name: string): boolean {
    return existsSync(this.pathOf(name));
  }

  /** Creates the namespace unless it is already there (its loopback is set up by the CNI loopback plugin). */
  async ensure(name: string): Promise<string> {
    if (!this.exists(name)) {
      try {
        await runIp(['netns', 'add', name]);
      } catch (err) {
        if (!this.exists(name)) throw err; // else someone made it meanwhile: fine
      }
    }
    return this.pathOf(name);
  }

  /** Deletes the namespace; a no-op when it is already gone. */
  async remove(name: string): Promise<void> {
    if (!this.exists(name)) return;
    try {
      await runIp(['netns', 'delete', name]);
    } catch (err) {
      if (this.exists(name)) throw err;
    }
  }

  /** Names present now (for tests and diagnostics). */
  list(): string[] {
    try {
      return readdirSync(this.dir);
    } catch {
      return [];
    }
  }
}
