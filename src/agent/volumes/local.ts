/**
 * The `local` volume driver: a named Volume is the directory ROOT/<namespace>/<name> on the node
 * that holds it, created on first use and never removed by the agent (a task ending, the agent
 * restarting or a service update leave it as it is; deleting the data is the operator's call).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Directories of the node's local volumes under one root. */
export class LocalVolumeDriver {
  constructor(readonly root: string) {}

  /** The directory of a volume (whether or not it exists yet). */
  pathOf(namespace: string, name: string): string {
    // Names are DNS labels (validated by the API): no "/" or "..".
    return path.join(this.root, namespace, name);
  }

  /** Creates the volume's directory when missing (0755) and returns it. */
  async ensure(namespace: string, name: string): Promise<string> {
    const dir = this.pathOf(namespace, name);
    await fs.mkdir(dir, { recursive: true, mode: 0o755 });
    return dir;
  }
}
