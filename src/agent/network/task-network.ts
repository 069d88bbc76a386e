/**
 * The network lifecycle hook (STYLE.md 7): before a task's container is created it gets a named
 * network namespace and an address on this node's task subnet, through the CNI chain
 * `loopback` (lo) then `bridge` + `host-local` (eth0) and optionally `portmap`; after the
 * container is gone CNI DEL releases the address and the namespace is deleted. Every step is
 * idempotent and survives an agent restart: per-container records on disk keep the namespace
 * name, the configuration and the cached ADD result (see state.ts).
 *
 * Side effect on the node: the bridge plugin turns on net.ipv4.ip_forward in the network
 * namespace it runs in (the machine's, or the one given by `execPrefix`). The hook records the
 * value before and after in `<dataDir>/network/node.json` and logs the change.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ValidationError } from '../../api/errors.js';
import type { Task } from '../../api/kinds.js';
import type { HookContribution, TaskHook } from '../tasks/hooks.js';
import {
  addNetworkList, addressOf, checkNetworkList, CniError, CniInvoker, delNetworkList, negotiateVersion,
  type CniNetworkList, type CniPluginConf, type CniRuntimeArgs,
} from './cni.js';
import { NamedNetns } from './netns.js';
import { NetworkRecords, type NetworkRecord } from './state.js';

/** A host port published to a container port (CNI portmap's `portMappings` capability). */
export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIP?: string;
}

/** CNI operations of different containers that may run at once. */
const MAX_PARALLEL_CNI = 6;

/** How the hook is configured; everything but dataDir has a default. */
export interface TaskNetworkOptions {
  /** The agent's data dir: records go to `<dataDir>/network/`, IPAM state under it too. */
  dataDir: string;
  /** Linux bridge for this node's tasks. Default 'flotilla0'. */
  bridgeName?: string;
  /** This node's task subnet (IPv4 CIDR). Default 10.88.0.0/16; later handed out by the server. */
  subnet?: string;
  mtu?: number;
  /** Masquerade traffic leaving the subnet. Default false: host-gw routing needs real task addresses. */
  ipMasq?: boolean;
  /** Append the portmap plugin to the chain; ports come from `portMappingsOf`. */
  portmap?: boolean;
  portMappingsOf?: (task: Task) => PortMapping[];
  /** CNI network name (also the IPAM state folder). Default 'flotilla'. */
  networkName?: string;
  /** Plugin directories. Default ['/usr/lib/cni']. */
  cniPath?: string[];
  /** Prefix for plugin runs, e.g. `['ip','netns','exec','node1']` for a simulated node. */
  execPrefix?: string[];
  /** Bound on one plugin run. Default 30 s. */
  timeoutMs?: number;
  log?: (msg: string) => void;
}

/** The node-level facts the hook observed (written to `<dataDir>/network/node.json`). */
export interface NodeNetworkFacts {
  /** net.ipv4.ip_forward in the plugins' namespace before the first ADD, and after it. */
  ipForwardBefore: string;
  ipForwardAfter: string;
  enabledByBridgePlugin: boolean;
  at: string;
}

/** What gc removed. */
export interface NetworkGcReport {
  /** Containers whose namespace and address were released. */
  containers: string[];
  /** Addresses released from IPAM that had no record (a crash between ADD and the record). */
  addresses: string[];
}

const IFNAME = 'eth0';
const CIDR4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** The namespace name of a container: short (ip and ifnames like short names) and stable. */
export function netnsNameOf(containerId: string): string {
  return `flt-${createHash('sha256').update(containerId).digest('hex').slice(0, 12)}`;
}

function checkSubnet(subnet: string): void {
  const m = CIDR4.exec(subnet);
  const ok = m !== null && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) >= 8 && Number(m[5]) <= 30;
  if (!ok) throw new ValidationError([{ path: 'network.subnet', expected: 'an IPv4 CIDR with a prefix of /8 to /30', found: subnet }]);
}

/** See the file comment. */
export class TaskNetwork implements TaskHook {
  readonly name = 'network';
  readonly bridgeName: string;
  readonly subnet: string;
  readonly networkName: string;
  readonly stateDir: string;
  readonly ipamDir: string;
  private readonly invoker: CniInvoker;
  private readonly netns = new NamedNetns();
  private readonly records: NetworkRecords;
  private readonly log: (msg: string) => void;
  private version: Promise<string> | undefined;
  private ipForwardNoted = false;
  /**
   * Exclusive operations (gc, and attaches until the bridge exists) run alone, in order; once the
   * bridge exists, attaches and detaches of different containers run side by side (at most
   * MAX_PARALLEL_CNI): host-local IPAM locks its own state, and the bridge plugin only creates
   * what is missing. Starting 50 tasks no longer waits for 50 plugin runs in a row.
   */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly inflight = new Set<Promise<unknown>>();
  private bridgeReady = false;
  private running = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(private readonly opts: TaskNetworkOptions) {
    this.bridgeName = opts.bridgeName ?? 'flotilla0';
    this.subnet = opts.subnet ?? '10.88.0.0/16';
    this.networkName = opts.networkName ?? 'flotilla';
    checkSubnet(this.subnet);
    this.stateDir = join(opts.dataDir, 'network');
    this.ipamDir = join(this.stateDir, 'ipam');
    this.records = new NetworkRecords(join(this.stateDir, 'containers'));
    this.invoker = new CniInvoker({ cniPath: opts.cniPath, prefix: opts.execPrefix, timeoutMs: opts.timeoutMs });
    this.log = opts.log ?? (() => undefined);
  }

  /** Namespace and address for the container; returns the same ones when it already has them. */
  beforeStart(task: Task, containerId: string): Promise<HookContribution> {
    return this.shared(() => this.attach(containerId, task));
  }

  /** Releases the address and deletes the namespace; succeeds for containers it never saw. */
  afterStop(containerId: string): Promise<void> {
    return this.shared(() => this.detach(containerId));
  }

  /** At agent start-up: releases every namespace and address whose container is not in `live`. */
  gc(liveContainerIds: Set<string>): Promise<NetworkGcReport> {
    return this.serial(() => this.collect(liveContainerIds));
  }

  /** The record of a container (for status and tests), if the hook has one. */
  recordOf(containerId: string): NetworkRecord | undefined {
    return this.records.read(netnsNameOf(containerId));
  }

  /** What the hook observed about ip_forward, once it has run an ADD. */
  nodeFacts(): NodeNetworkFacts | undefined {
    try {
      return JSON.parse(readFileSync(join(this.stateDir, 'node.json'), 'utf8')) as NodeNetworkFacts;
    } catch {
      return undefined;
    }
  }

  /** The chain for this node: bridge (+ host-local IPAM), then portmap when enabled. */
  async networkList(): Promise<CniNetworkList> {
    const types = ['loopback', 'bridge', 'host-local', ...(this.opts.portmap === true ? ['portmap'] : [])];
    this.version ??= negotiateVersion(this.invoker, types);
    const cniVersion = await this.version.catch((err: unknown) => { this.version = undefined; throw err; });
    const bridge: CniPluginConf = {
      type: 'bridge',
      bridge: this.bridgeName,
      isGateway: true,
      ipMasq: this.opts.ipMasq ?? false,
      hairpinMode: true,
      ipam: { type: 'host-local', dataDir: this.ipamDir, ranges: [[{ subnet: this.subnet }]], routes: [{ dst: '0.0.0.0/0' }] },
    };
    if (this.opts.mtu !== undefined) bridge.mtu = this.opts.mtu;
    const plugins = [bridge];
    if (this.opts.portmap === true) plugins.push({ type: 'portmap', capabilities: { portMappings: true }, snat: true });
    return { cniVersion, name: this.networkName, plugins };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const after = (): Promise<T> => Promise.allSettled([...this.inflight]).then(fn);
    const run = this.queue.then(after, after);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private shared<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.bridgeReady) {
      return this.serial(async () => {
        const r = await fn();
        this.bridgeReady = true;
        return r;
      });
    }
    const run = this.queue.then(() => this.limited(fn));
    this.inflight.add(run);
    void run.finally(() => this.inflight.delete(run)).catch(() => undefined);
    return run;
  }

  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    while (this.running >= MAX_PARALLEL_CNI) await new Promise<void>((r) => this.waiters.push(r));
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.waiters.shift()?.();
    }
  }

  private runtimeArgs(containerId: string, netnsPath: string, task?: Task): CniRuntimeArgs {
    const portMappings = task !== undefined ? this.opts.portMappingsOf?.(task) : undefined;
    return { containerId, netns: netnsPath, ifName: IFNAME, capabilityArgs: portMappings !== undefined ? { portMappings } : undefined };
  }

  private async attach(containerId: string, task: Task): Promise<HookContribution> {
    const name = netnsNameOf(containerId);
    const netnsPath = this.netns.pathOf(name);
    const old = this.records.read(name);
    if (old?.result !== undefined && old.ip !== undefined && this.netns.exists(name)) {
      try {
        await checkNetworkList(this.invoker, old.network, this.runtimeArgs(containerId, netnsPath, task), old.result);
        return { netnsPath, ip: old.ip };
      } catch (err) {
        this.log(`network: ${containerId} failed CNI CHECK, setting it up again: ${(err as Error).message}`);
      }
    }
    if (old !== undefined) await this.delChain(old, task).catch(() => undefined);
    const network = await this.networkList();
    const rec: NetworkRecord = { containerId, netns: name, netnsPath, network, task: task.metadata.name, updatedAt: new Date().toISOString() };
    this.records.write(rec); // before the namespace: a crash from here on leaves a trace for gc
    try {
      await this.netns.ensure(name);
      const rt = this.runtimeArgs(containerId, netnsPath, task);
      await this.invoker.exec('loopback', 'ADD', { ...rt, ifName: 'lo' }, { cniVersion: network.cniVersion, name: `${network.name}-lo`, type: 'loopback' });
      const forwardBefore = this.ipForwardNoted ? undefined : await this.readIpForward();
      const result = await addNetworkList(this.invoker, network, rt);
      const ip = addressOf(result, IFNAME);
      if (ip === undefined) throw new CniError('bridge', 'ADD', -1, `result has no address for ${IFNAME}`);
      this.records.write({ ...rec, result, ip, updatedAt: new Date().toISOString() });
      await this.noteIpForward(forwardBefore);
      this.log(`network: ${containerId} has ${ip} in ${name}`);
      return { netnsPath, ip };
    } catch (err) {
      await this.detach(containerId).catch(() => undefined);
      throw err;
    }
  }

  private async delChain(rec: NetworkRecord, task?: Task): Promise<void> {
    const path = this.netns.exists(rec.netns) ? rec.netnsPath : '';
    await delNetworkList(this.invoker, rec.network, this.runtimeArgs(rec.containerId, path, task), rec.result);
  }

  private async detach(containerId: string): Promise<void> {
    const name = netnsNameOf(containerId);
    const rec = this.records.read(name) ?? {
      containerId, netns: name, netnsPath: this.netns.pathOf(name), network: await this.networkList(), updatedAt: '',
    };
    let failure: unknown;
    try {
      await this.delChain(rec);
    } catch (err) {
      failure = err; // the namespace goes anyway; the record stays so gc retries the DEL
    }
    await this.netns.remove(name);
    if (failure !== undefined) throw failure;
    this.records.remove(name);
  }

  private async collect(live: Set<string>): Promise<NetworkGcReport> {
    const report: NetworkGcReport = { containers: [], addresses: [] };
    for (const rec of this.records.list()) {
      if (live.has(rec.containerId)) continue;
      try {
        await this.detach(rec.containerId);
        report.containers.push(rec.containerId);
      } catch (err) {
        this.log(`network gc: ${rec.containerId}: ${(err as Error).message}`);
      }
    }
    for (const { ip, containerId, ifName } of this.reservations()) {
      if (live.has(containerId) || this.records.read(netnsNameOf(containerId)) !== undefined) continue;
      try {
        await delNetworkList(this.invoker, await this.networkList(), { containerId, netns: '', ifName });
        report.addresses.push(ip);
      } catch (err) {
        this.log(`network gc: address ${ip} of ${containerId}: ${(err as Error).message}`);
      }
    }
    return report;
  }

  /** host-local's reservations: one file per address holding `containerId\r\nifName`. */
  private reservations(): { ip: string; containerId: string; ifName: string }[] {
    const dir = join(this.ipamDir, this.networkName);
    if (!existsSync(dir)) return [];
    const out: { ip: string; containerId: string; ifName: string }[] = [];
    for (const ip of readdirSync(dir).filter((n) => /^[0-9.]+$|:/.test(n))) {
      const [containerId = '', ifName = IFNAME] = readFileSync(join(dir, ip), 'utf8').split(/\r?\n/);
      if (containerId !== '') out.push({ ip, containerId, ifName });
    }
    return out;
  }

  /** net.ipv4.ip_forward in the namespace the plugins run in. */
  private async readIpForward(): Promise<string | undefined> {
    const argv = [...(this.opts.execPrefix ?? []), 'cat', '/proc/sys/net/ipv4/ip_forward'];
    return new Promise((resolve) => {
      execFile(argv[0] ?? 'cat', argv.slice(1), { timeout: 10_000 }, (err, stdout) => resolve(err === null ? stdout.trim() : undefined));
    });
  }

  private async noteIpForward(before: string | undefined): Promise<void> {
    if (before === undefined) return;
    this.ipForwardNoted = true;
    const after = (await this.readIpForward()) ?? before;
    const file = join(this.stateDir, 'node.json');
    const facts: NodeNetworkFacts = { ipForwardBefore: before, ipForwardAfter: after, enabledByBridgePlugin: before !== after && after === '1', at: new Date().toISOString() };
    if (facts.enabledByBridgePlugin) this.log('network: the CNI bridge plugin turned on net.ipv4.ip_forward in this node\'s network namespace');
    if (facts.enabledByBridgePlugin || !existsSync(file)) writeFileSync(file, JSON.stringify(facts, null, 2));
  }
}
