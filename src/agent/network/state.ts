/**
 * What the network hook remembers per container, on disk under the agent's data dir, so that
 * after an agent restart afterStop, CHECK and gc still find the namespace, the network
 * configuration used at ADD time and the cached ADD result (which the CNI spec wants passed
 * to CHECK and DEL). One small JSON file per container, written atomically (tmp + rename).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CniNetworkList, CniResult } from './cni.js';

/** One container's network, as the hook last left it. */
export interface NetworkRecord {
  containerId: string;
  /** Name of its network namespace (`flt-<hash>`). */
  netns: string;
  netnsPath: string;
  /** The chain as configured at ADD time: DEL must use the same one. */
  network: CniNetworkList;
  /** Absent while ADD has not completed (the record is written before the namespace). */
  result?: CniResult;
  ip?: string;
  /** Task name, for people reading the files. */
  task?: string;
  updatedAt: string;
}

/** The directory of records; file names are namespace names. */
export class NetworkRecords {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private fileOf(netns: string): string {
    return join(this.dir, `${netns}.json`);
  }

  read(netns: string): NetworkRecord | undefined {
    try {
      return JSON.parse(readFileSync(this.fileOf(netns), 'utf8')) as NetworkRecord;
    } catch {
      return undefined;
    }
  }

  write(rec: NetworkRecord): void {
    const file = this.fileOf(rec.netns);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(rec, null, 2));
    renameSync(tmp, file);
  }

  remove(netns: string): void {
    rmSync(this.fileOf(netns), { force: true });
  }

  list(): NetworkRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    return names.map((n) => this.read(n.slice(0, -'.json'.length))).filter((r): r is NetworkRecord => r !== undefined);
  }
}
