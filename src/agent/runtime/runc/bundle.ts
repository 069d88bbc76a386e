/**
 * The on-disk layout of the runc runtime under its state directory. Everything a later agent
 * process needs to adopt a container lives here, so nothing is kept only in memory:
 *
 *   <stateDir>/bundles/<id>/config.json   OCI config (runc reads it)
 *   <stateDir>/bundles/<id>/meta.json     the ContainerSpec and derived paths
 *   <stateDir>/bundles/<id>/{pid,conmon.pid,oom,ctl,conmon.log,exit.json}
 *   <stateDir>/exits/<id>                 exit code written by conmon
 *   <stateDir>/sock/                      conmon's attach-socket symlinks
 *   <stateDir>/logs/<id>/<id>.log[.N]     default log location
 *   <runcRoot>/<id>/state.json            runc's own state
 */
import { readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerSpec } from '../runtime.js';

/** What prepare records next to config.json. */
export interface BundleMeta {
  spec: ContainerSpec;
  cgroupsPath: string;
  logPath: string;
  maxBytes: number;
  maxFiles: number;
  preparedAt: string;
}

/** Default log rotation bounds. */
export const DEFAULT_LOG_MAX_BYTES = 10 << 20;
export const DEFAULT_LOG_MAX_FILES = 3;

/** Paths of one runtime's state directory. */
export class BundleLayout {
  constructor(readonly stateDir: string) {}

  get bundlesDir(): string { return join(this.stateDir, 'bundles'); }
  get exitDir(): string { return join(this.stateDir, 'exits'); }
  get socketDir(): string { return join(this.stateDir, 'sock'); }
  bundleDir(id: string): string { return join(this.bundlesDir, id); }
  exitFile(id: string): string { return join(this.exitDir, id); }
  file(id: string, name: string): string { return join(this.bundleDir(id), name); }
  defaultLogDir(id: string): string { return join(this.stateDir, 'logs', id); }

  /** Reads meta.json; undefined when the bundle does not exist. */
  async readMeta(id: string): Promise<BundleMeta | undefined> {
    try {
      return JSON.parse(await readFile(this.file(id, 'meta.json'), 'utf8')) as BundleMeta;
    } catch {
      return undefined;
    }
  }

  /** Writes a JSON file atomically (write, then rename). */
  async writeJson(id: string, name: string, value: unknown): Promise<void> {
    const path = this.file(id, name);
    await writeFile(`${path}.tmp`, JSON.stringify(value, null, 1));
    await rename(`${path}.tmp`, path);
  }

  /** Reads a JSON file of the bundle, undefined when absent or unreadable. */
  async readJson<T>(id: string, name: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(this.file(id, name), 'utf8')) as T;
    } catch {
      return undefined;
    }
  }
}
