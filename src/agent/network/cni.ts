/**
 * Runs CNI plugins exactly as the CNI spec (v1.0.0) says: the command and the container in
 * `CNI_*` environment variables, the network configuration as JSON on stdin, the result as JSON
 * on stdout, and a failure as `{code, msg, details}` on stdout with a non-zero exit. A network
 * list ("conflist") is a chain: ADD runs the plugins in order, each getting the previous one's
 * result as `prevResult`; CHECK runs in order with the cached result; DEL runs in reverse order
 * and must succeed when things are already gone.
 *
 * The invocation can be prefixed (e.g. `ip netns exec NODE`) so a test, or a simulated node,
 * runs the plugins inside its own network namespace: the bridge then lives there, not in the
 * machine's root namespace.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { FlotillaError, NotFoundError } from '../../api/errors.js';

/** The CNI versions this runner understands, most preferred first (CHECK needs >= 0.4.0). */
export const SUPPORTED_CNI_VERSIONS = ['1.0.0', '0.4.0'] as const;

/** CNI spec error code 11: "try again later". */
const CNI_TRY_AGAIN = 11;

/** A plugin's failure, with the code and message the plugin itself reported. */
export class CniError extends FlotillaError {
  override readonly code = 'CniPluginFailed';
  override readonly retryable: boolean;
  constructor(
    readonly plugin: string,
    readonly command: CniCommand,
    /** The CNI error code (spec: 1-99 well-known, 100+ plugin-specific); -1 when the plugin gave none. */
    readonly cniCode: number,
    /** The plugin's own message. */
    readonly msg: string,
    readonly details?: string,
  ) {
    super(`CNI ${plugin} ${command}: ${msg}${details !== undefined && details !== '' ? ` (${details})` : ''}`);
    this.retryable = cniCode === CNI_TRY_AGAIN;
  }
}

/** The operations of the spec that a runtime issues. */
export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION';

const ipConfigSchema = z.object({
  address: z.string(),
  gateway: z.string().optional(),
  interface: z.number().int().optional(),
}).passthrough();

const resultSchema = z.object({
  cniVersion: z.string(),
  interfaces: z.array(z.object({ name: z.string(), mac: z.string().optional(), sandbox: z.string().optional() }).passthrough()).optional(),
  ips: z.array(ipConfigSchema).optional(),
  routes: z.array(z.object({ dst: z.string(), gw: z.string().optional() }).passthrough()).optional(),
  dns: z.object({}).passthrough().optional(),
}).passthrough();

/** A plugin's ADD result (spec "Success"). Unknown fields are kept and passed on as prevResult. */
export type CniResult = z.infer<typeof resultSchema>;

/** One plugin's configuration inside a network list: `type` names the binary. */
export interface CniPluginConf {
  type: string;
  /** Capabilities the plugin accepts through `runtimeConfig`, e.g. `{portMappings: true}`. */
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

/** A network configuration list (spec section 1). */
export interface CniNetworkList {
  cniVersion: string;
  name: string;
  plugins: CniPluginConf[];
}

/** The container a command applies to. */
export interface CniRuntimeArgs {
  containerId: string;
  /** Path of the network namespace; '' on DEL when the namespace is already gone. */
  netns: string;
  ifName: string;
  /** Dynamic values for plugins that declared the matching capability (e.g. portMappings). */
  capabilityArgs?: Record<string, unknown>;
  /** CNI_ARGS pairs. */
  args?: Record<string, string>;
}

/** Where plugins are found and how they are started. */
export interface CniInvokerOptions {
  /** Directories searched for plugin binaries (CNI_PATH). Default ['/usr/lib/cni']. */
  cniPath?: string[];
  /** Command prefix, e.g. `['ip', 'netns', 'exec', 'node1']`; empty runs the plugin directly. */
  prefix?: string[];
  /** Bound on one plugin run; the plugin is killed after it. Default 30 s. */
  timeoutMs?: number;
}

/** Starts plugin binaries with the spec's environment and reads their answers. */
export class CniInvoker {
  readonly cniPath: string[];
  private readonly prefix: string[];
  private readonly timeoutMs: number;

  constructor(opts: CniInvokerOptions = {}) {
    this.cniPath = opts.cniPath ?? ['/usr/lib/cni'];
    this.prefix = opts.prefix ?? [];
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** Full path of the plugin binary named `type`; NotFoundError when no CNI_PATH entry has it. */
  findPlugin(type: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(type)) throw new NotFoundError(`CNI plugin type ${JSON.stringify(type)} is not a plugin name`);
    for (const dir of this.cniPath) {
      const p = join(dir, type);
      try {
        accessSync(p, constants.X_OK);
        return p;
      } catch {
        // not in this directory
      }
    }
    throw new NotFoundError(`CNI plugin ${type} not found in ${this.cniPath.join(':')}`);
  }

  /** Runs one plugin; resolves its stdout parsed as JSON (undefined when empty), rejects with CniError. */
  async exec(type: string, command: CniCommand, rt: CniRuntimeArgs | undefined, conf: object): Promise<unknown> {
    const bin = this.findPlugin(type);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      CNI_COMMAND: command,
      CNI_PATH: this.cniPath.join(':'),
    };
    if (rt !== undefined) {
      env.CNI_CONTAINERID = rt.containerId;
      env.CNI_NETNS = rt.netns;
      env.CNI_IFNAME = rt.ifName;
      if (rt.args !== undefined) env.CNI_ARGS = Object.entries(rt.args).map(([k, v]) => `${k}=${v}`).join(';');
    }
    const { code, stdout, stderr } = await this.spawn([...this.prefix, bin], env, JSON.stringify(conf));
    const parsed = parseJson(stdout);
    if (code === 0) return parsed;
    const e = (parsed ?? {}) as { code?: unknown; msg?: unknown; details?: unknown };
    const msg = typeof e.msg === 'string' ? e.msg : (stderr.trim() || stdout.trim() || `exited with ${code}`);
    throw new CniError(type, command, typeof e.code === 'number' ? e.code : -1, msg, typeof e.details === 'string' ? e.details : undefined);
  }

  private spawn(argv: string[], env: Record<string, string>, input: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0] ?? '', argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, this.timeoutMs);
      child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
      child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
      child.stdin.on('error', () => undefined); // a plugin that exits without reading stdin
      child.once('error', (err) => { clearTimeout(timer); reject(err); });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        if (timedOut) stderr = `timed out after ${this.timeoutMs} ms ${stderr}`;
        resolve({ code: code ?? (signal !== null ? 128 : 1), stdout, stderr });
      });
      child.stdin.end(input);
    });
  }

  /** The versions a plugin supports (spec VERSION command). */
  async versions(type: string): Promise<string[]> {
    const out = (await this.exec(type, 'VERSION', undefined, { cniVersion: SUPPORTED_CNI_VERSIONS[0] })) as { supportedVersions?: unknown };
    return Array.isArray(out.supportedVersions) ? out.supportedVersions.filter((v): v is string => typeof v === 'string') : [];
  }
}

function parseJson(s: string): unknown {
  if (s.trim() === '') return undefined;
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
}

/** The highest version this runner understands that every named plugin supports. */
export async function negotiateVersion(invoker: CniInvoker, types: string[]): Promise<string> {
  const lists = await Promise.all([...new Set(types)].map((t) => invoker.versions(t)));
  const v = SUPPORTED_CNI_VERSIONS.find((cand) => lists.every((l) => l.includes(cand)));
  if (v === undefined) throw new NotFoundError(`CNI plugins ${types.join(', ')} share no version among ${SUPPORTED_CNI_VERSIONS.join(', ')}`);
  return v;
}

/** The configuration one plugin of a list receives (spec "Deriving execution configuration"). */
export function pluginConfig(list: CniNetworkList, plugin: CniPluginConf, rt: CniRuntimeArgs, prevResult: CniResult | undefined): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
  const runtimeConfig: Record<string, unknown> = {};
  for (const [cap, on] of Object.entries(plugin.capabilities ?? {})) {
    if (on && rt.capabilityArgs?.[cap] !== undefined) runtimeConfig[cap] = rt.capabilityArgs[cap];
  }
  delete conf.capabilities;
  if (Object.keys(runtimeConfig).length > 0) conf.runtimeConfig = runtimeConfig;
  if (prevResult !== undefined) conf.prevResult = prevResult;
  return conf;
}

/** Parses and checks a plugin's ADD answer. */
export function parseResult(plugin: string, out: unknown): CniResult {
  const r = resultSchema.safeParse(out);
  if (!r.success) throw new CniError(plugin, 'ADD', -1, `unreadable result: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}

/** ADD through the chain; returns the last plugin's result. On failure, DELs what was added. */
export async function addNetworkList(invoker: CniInvoker, list: CniNetworkList, rt: CniRuntimeArgs): Promise<CniResult> {
  let prev: CniResult | undefined;
  try {
    for (const p of list.plugins) {
      prev = parseResult(p.type, await invoker.exec(p.type, 'ADD', rt, pluginConfig(list, p, rt, prev)));
    }
  } catch (err) {
    // Spec: after a failed ADD the runtime cleans up with DEL (plugins tolerate partial state).
    await delNetworkList(invoker, list, rt, prev).catch(() => undefined);
    throw err;
  }
  if (prev === undefined) throw new CniError(list.name, 'ADD', -1, 'network list has no plugins');
  return prev;
}

/** CHECK through the chain with the cached ADD result; rejects with the first plugin's complaint. */
export async function checkNetworkList(invoker: CniInvoker, list: CniNetworkList, rt: CniRuntimeArgs, cached: CniResult): Promise<void> {
  for (const p of list.plugins) await invoker.exec(p.type, 'CHECK', rt, pluginConfig(list, p, rt, cached));
}

/**
 * DEL through the chain in reverse order with the cached ADD result (when known). Every plugin
 * runs even when one fails, so cleanup goes as far as it can; the first failure is rethrown.
 */
export async function delNetworkList(invoker: CniInvoker, list: CniNetworkList, rt: CniRuntimeArgs, cached?: CniResult): Promise<void> {
  let first: unknown;
  for (const p of [...list.plugins].reverse()) {
    try {
      await invoker.exec(p.type, 'DEL', rt, pluginConfig(list, p, rt, cached));
    } catch (err) {
      first ??= err;
    }
  }
  if (first !== undefined) throw first;
}

/** The container's address on `ifName`: the first IPv4 of the result bound to that interface. */
export function addressOf(result: CniResult, ifName: string): string | undefined {
  const ifaces = result.interfaces ?? [];
  const ips = result.ips ?? [];
  const onIf = ips.filter((ip) => ip.interface === undefined || ifaces[ip.interface]?.name === ifName);
  const v4 = onIf.find((ip) => !ip.address.includes(':')) ?? onIf[0];
  return v4?.address.split('/')[0];
}
