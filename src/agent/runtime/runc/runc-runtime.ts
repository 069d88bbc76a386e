/**
 * ContainerRuntime on runc, with one conmon monitor per container. prepare writes an OCI
 * bundle; start runs conmon (which runs `runc create` and stays as the container's parent,
 * detached from the agent) and then `runc start`. All state is on disk (bundle dir, exit
 * files, runc's --root), so a new instance after an agent restart adopts what runs.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AlreadyExistsError, ConflictError, NotFoundError, ValidationError } from '../../../api/errors.js';
import type { Disposable } from '../../../lifecycle.js';
import { readLogFiles } from '../logs/k8s-log.js';
import { startLogRotation, type RotationTarget } from '../logs/log-rotator.js';
import {
  CONTAINER_ID_PATTERN, type ContainerInfo, type ContainerRuntime, type ContainerSpec, type ContainerState,
  type ContainerStats, type ExecOptions, type ExecResult, type ExitInfo, type LogEntry, type ReadLogsOptions,
} from '../runtime.js';
import { BundleLayout, DEFAULT_LOG_MAX_BYTES, DEFAULT_LOG_MAX_FILES, type BundleMeta } from './bundle.js';
import { removeCgroup } from './cgroups.js';
import { readCgroupStats, readNetDev } from './cgroup-stats.js';
import { CONMON_FILES, launchConmon } from './conmon.js';
import { runcExec } from './exec.js';
import { monitorAlive, monitorPid, readExit, waitForExit } from './exit.js';
import { buildOciConfig, DEFAULT_NOFILE } from './oci-config.js';
import { RuncCli, type RuncState } from './runc-cli.js';
import { resolveUser } from './user.js';

/** Where the runtime keeps its state and which binaries it runs. */
export interface RuncRuntimeOptions {
  /** Bundles, exit files, default logs (e.g. DATA_DIR/runtime). */
  stateDir: string;
  /** runc's --root (default `<stateDir>/runc`). */
  runcRoot?: string;
  runcPath?: string;
  conmonPath?: string;
  /** Parent cgroup of every container (default `flotilla`); removed when it empties. */
  cgroupParent?: string;
  /** How often logs are checked for rotation (default 1000 ms). */
  logRotateIntervalMs?: number;
  onError?: (err: unknown) => void;
}

const RUNNING = new Set<RuncState['status']>(['created', 'running', 'pausing', 'paused']);

/** The runc + conmon implementation of ContainerRuntime. */
export class RuncRuntime implements ContainerRuntime {
  readonly layout: BundleLayout;
  readonly runc: RuncCli;
  readonly cgroupParent: string;
  private readonly conmonPath: string;
  private readonly rotation: Disposable;

  constructor(private readonly opts: RuncRuntimeOptions) {
    this.layout = new BundleLayout(opts.stateDir);
    this.runc = new RuncCli(opts.runcPath ?? '/usr/sbin/runc', opts.runcRoot ?? join(opts.stateDir, 'runc'));
    this.conmonPath = opts.conmonPath ?? '/usr/bin/conmon';
    this.cgroupParent = (opts.cgroupParent ?? 'flotilla').replace(/^\/+|\/+$/g, '');
    this.rotation = startLogRotation(() => this.rotationTargets(), opts.logRotateIntervalMs ?? 1000, opts.onError ?? (() => undefined));
  }

  /**
   * The runtime's own background work (log rotation) as a Disposable; stopping it leaves the
   * containers running under their monitors. (`stop` itself is the container operation.)
   */
  get background(): Disposable {
    return this.rotation;
  }

  async prepare(spec: ContainerSpec): Promise<void> {
    validateSpec(spec);
    // runc keeps a container's state in <root>/<id>: cheaper than asking `runc state`.
    if (existsSync(this.layout.bundleDir(spec.id)) || existsSync(join(this.runc.root, spec.id))) {
      throw new AlreadyExistsError(`container ${spec.id} already exists`);
    }
    const user = await resolveUser(spec.rootfs, spec.user);
    const cgroupsPath = `/${this.cgroupParent}/${spec.id}`;
    const logDir = spec.log?.dir ?? this.layout.defaultLogDir(spec.id);
    const meta: BundleMeta = {
      spec, cgroupsPath, logPath: join(logDir, `${spec.id}.log`),
      maxBytes: spec.log?.maxBytes ?? DEFAULT_LOG_MAX_BYTES, maxFiles: spec.log?.maxFiles ?? DEFAULT_LOG_MAX_FILES,
      preparedAt: new Date().toISOString(),
    };
    await mkdir(this.layout.bundleDir(spec.id), { recursive: true });
    await writeFile(this.layout.file(spec.id, 'config.json'), JSON.stringify(buildOciConfig(spec, { user, cgroupsPath, nofile: await nofileLimit() }), null, 1));
    await this.layout.writeJson(spec.id, 'meta.json', meta);
  }

  async start(id: string): Promise<{ pid: number }> {
    const meta = await this.meta(id);
    if (await monitorPid(this.layout, id) !== undefined) throw new ConflictError(`container ${id} was already started`);
    await Promise.all([this.layout.exitDir, this.layout.socketDir, this.runc.root, dirname(meta.logPath)]
      .map((d) => mkdir(d, { recursive: true })));
    const pid = await launchConmon({
      conmonPath: this.conmonPath, runcPath: this.runc.runcPath, runcRoot: this.runc.root, id,
      bundleDir: this.layout.bundleDir(id), logPath: meta.logPath,
      logSizeMaxBytes: Math.max(meta.maxBytes * Math.max(meta.maxFiles, 2), 64 * 1024),
      exitDir: this.layout.exitDir, socketDir: this.layout.socketDir,
      conmonLogPath: this.layout.file(id, 'conmon.log'),
    });
    await this.runc.run(['start', id]);
    return { pid };
  }

  async wait(id: string): Promise<ExitInfo> {
    const meta = await this.meta(id);
    const info = await waitForExit(this.layout, id, meta.cgroupsPath, {
      gone: async () => !existsSync(this.layout.bundleDir(id)),
    });
    if (info === undefined) throw new NotFoundError(`container ${id} was removed while waiting`);
    return info;
  }

  async stop(id: string, gracePeriodMs: number): Promise<void> {
    const meta = await this.meta(id);
    const st = await this.runc.state(id);
    if (st === undefined || !RUNNING.has(st.status)) return;
    await this.runc.kill(id, meta.spec.stopSignal ?? 'SIGTERM');
    if (await this.exitWithin(id, meta, gracePeriodMs)) return;
    await this.runc.kill(id, 'SIGKILL');
    if (!await this.exitWithin(id, meta, 10_000)) throw new ConflictError(`container ${id} did not exit after SIGKILL`);
  }

  /** True when the container exited within `ms` (or has no monitor to tell, and runc says stopped). */
  private async exitWithin(id: string, meta: BundleMeta, ms: number): Promise<boolean> {
    const signal = AbortSignal.timeout(Math.max(ms, 1));
    const info = await waitForExit(this.layout, id, meta.cgroupsPath, { signal, pollMs: 100 });
    if (info !== undefined) return true;
    const st = await this.runc.state(id);
    return st === undefined || st.status === 'stopped' && await monitorAlive(this.layout, id) !== true;
  }

  async remove(id: string): Promise<void> {
    const meta = await this.layout.readMeta(id);
    const st = await this.runc.state(id);
    if (st !== undefined && RUNNING.has(st.status)) {
      await this.runc.kill(id, 'SIGKILL');
      if (meta !== undefined) await this.exitWithin(id, meta, 10_000);
    }
    if (meta !== undefined) await readExit(this.layout, id, meta.cgroupsPath); // keep OOM facts before the cgroup goes
    await this.runc.delete(id);
    await this.killMonitor(id);
    await removeCgroup(meta?.cgroupsPath ?? `/${this.cgroupParent}/${id}`);
    await removeCgroup(`/${this.cgroupParent}`); // only succeeds once no container is left in it
    await rm(this.layout.exitFile(id), { force: true });
    await rm(join(this.layout.socketDir, id), { force: true, recursive: true });
    if (meta !== undefined) await this.removeLogs(id, meta);
    await rm(this.layout.bundleDir(id), { recursive: true, force: true });
  }

  private async killMonitor(id: string): Promise<void> {
    const pid = await monitorPid(this.layout, id);
    if (pid === undefined || await monitorAlive(this.layout, id) !== true) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }

  private async removeLogs(id: string, meta: BundleMeta): Promise<void> {
    if (meta.spec.log === undefined) {
      await rm(this.layout.defaultLogDir(id), { recursive: true, force: true });
      return;
    }
    await rm(meta.logPath, { force: true });
    for (let i = 1; i <= meta.maxFiles + 1; i++) await rm(`${meta.logPath}.${i}`, { force: true });
  }

  async state(id: string): Promise<ContainerState | undefined> {
    const meta = await this.layout.readMeta(id);
    const st = await this.runc.state(id);
    if (meta === undefined && st === undefined) return undefined;
    const annotations = meta?.spec.annotations ?? st?.annotations ?? {};
    const exit = meta !== undefined ? await readExit(this.layout, id, meta.cgroupsPath) : undefined;
    if (exit !== undefined) return { id, status: 'stopped', annotations, exit };
    if (st === undefined) {
      const started = await monitorPid(this.layout, id) !== undefined;
      return { id, status: started ? 'stopped' : 'prepared', annotations };
    }
    const status = st.status === 'pausing' ? 'paused' : st.status;
    return { id, status, annotations, ...(st.pid > 0 && status !== 'stopped' ? { pid: st.pid } : {}) };
  }

  async list(): Promise<ContainerInfo[]> {
    const fromBundles = await readdir(this.layout.bundlesDir).catch(() => [] as string[]);
    const fromRunc = existsSync(this.runc.root) ? (await this.runc.list()).map((s) => s.id) : [];
    const ids = [...new Set([...fromBundles, ...fromRunc])].sort();
    const states = await Promise.all(ids.map((id) => this.state(id)));
    return states.filter((s): s is ContainerState => s !== undefined);
  }

  async exec(id: string, cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    await this.meta(id);
    return runcExec(this.runc, this.layout.bundleDir(id), id, cmd, opts);
  }

  async *readLogs(id: string, opts: ReadLogsOptions = {}): AsyncGenerator<LogEntry> {
    const meta = await this.meta(id);
    yield* readLogFiles(meta.logPath, {
      maxFiles: meta.maxFiles,
      ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
      ...(opts.follow !== undefined ? { follow: opts.follow } : {}),
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
      isFinished: async () => existsSync(this.layout.exitFile(id)) || !existsSync(this.layout.bundleDir(id)),
    });
  }

  /** From the cgroup files and /proc/PID/net/dev (no runc process per sample: src/agent/runtime/runc/cgroup-stats.ts). */
  async stats(id: string): Promise<ContainerStats> {
    const meta = await this.meta(id);
    const pid = Number((await readFile(this.layout.file(id, CONMON_FILES.pid), 'utf8').catch(() => '')).trim());
    const [cg, net] = await Promise.all([readCgroupStats(meta.cgroupsPath), pid > 0 ? readNetDev(pid) : Promise.resolve({ rx: 0, tx: 0 })]);
    return { ...cg, netRxBytes: net.rx, netTxBytes: net.tx };
  }

  private async meta(id: string): Promise<BundleMeta> {
    const meta = await this.layout.readMeta(id);
    if (meta === undefined) throw new NotFoundError(`container ${id} not found`);
    return meta;
  }

  private async rotationTargets(): Promise<RotationTarget[]> {
    const ids = await readdir(this.layout.bundlesDir).catch(() => [] as string[]);
    const targets: RotationTarget[] = [];
    for (const id of ids) {
      if (existsSync(this.layout.exitFile(id))) continue;
      const meta = await this.layout.readMeta(id);
      if (meta === undefined) continue;
      targets.push({ logPath: meta.logPath, ctlPath: this.layout.file(id, CONMON_FILES.ctl), maxBytes: meta.maxBytes, maxFiles: meta.maxFiles });
    }
    return targets;
  }
}

/** The agent's own hard RLIMIT_NOFILE, capped: a container cannot get more than runc may set. */
async function nofileLimit(): Promise<number> {
  const text = await readFile('/proc/self/limits', 'utf8').catch(() => '');
  const m = text.match(/^Max open files\s+\S+\s+(\d+|unlimited)/m);
  const hard = m?.[1] === undefined || m[1] === 'unlimited' ? DEFAULT_NOFILE : Number(m[1]);
  return Math.min(hard, DEFAULT_NOFILE);
}

function validateSpec(spec: ContainerSpec): void {
  const issues = [];
  if (!CONTAINER_ID_PATTERN.test(spec.id)) issues.push({ path: 'id', expected: `to match ${CONTAINER_ID_PATTERN}`, found: spec.id });
  if (spec.args.length === 0) issues.push({ path: 'args', expected: 'at least the program to run' });
  if (!spec.rootfs.startsWith('/')) issues.push({ path: 'rootfs', expected: 'an absolute path', found: spec.rootfs });
  for (const [i, m] of (spec.mounts ?? []).entries()) {
    if (!m.target.startsWith('/')) issues.push({ path: `mounts[${i}].target`, expected: 'an absolute path', found: m.target });
    if (m.type === 'bind' && (m.source === undefined || !m.source.startsWith('/'))) {
      issues.push({ path: `mounts[${i}].source`, expected: 'an absolute host path', found: String(m.source) });
    }
  }
  if (issues.length > 0) throw new ValidationError(issues);
}
