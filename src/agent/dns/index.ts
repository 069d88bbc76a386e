/**
 * Service discovery on a node: the DNS server on the task bridge's gateway address (port 53,
 * UDP and TCP), its directory (caches of Services and Tasks), and the hook that points every
 * container's /etc/resolv.conf at it. See README.md.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { Disposable } from '../../lifecycle.js';
import type { Store } from '../../store/store.js';
import { InformerDirectory } from './directory.js';
import { DnsHook } from './hook.js';
import { DnsServer } from './server.js';

export { DnsServer, nameserversOf, type DnsServerOptions } from './server.js';
export { DnsHook, resolvConfFor } from './hook.js';
export { resolveName, labelsOf, type ServiceDirectory, type ServiceRecord, type NameAnswer } from './names.js';
export { InformerDirectory } from './directory.js';

/** What startNodeDns needs. */
export interface NodeDnsOptions {
  /** The agent's API client (reads Services and Tasks). */
  store: Pick<Store, 'list' | 'watch' | 'get'>;
  /** This node's task subnet; the server listens on its first address (the bridge gateway). */
  subnet: string;
  /** The task bridge (made here, with the gateway address, if the CNI plugin has not made it yet). */
  bridge: string;
  /** `<agent data dir>/dns`. */
  dir: string;
  /** Default 53. */
  port?: number;
  /** Default: nameservers of /etc/resolv.conf. */
  upstreams?: string[];
  log?: (msg: string) => void;
}

/** The running DNS of a node. */
export interface NodeDns extends Disposable {
  hook: DnsHook;
  /** Undefined when the address could not be bound (logged; containers keep their image's resolver). */
  server?: DnsServer;
}

/** The first host address of an IPv4 subnet (what host-local makes the gateway) and the prefix length. */
export function gatewayOf(subnet: string): { address: string; prefix: number } {
  const [base = '', bits = '24'] = subnet.split('/');
  const n = base.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(bits));
  const gw = n - (n % size) + 1;
  return { address: [24, 16, 8, 0].map((s) => Math.floor(gw / 2 ** s) % 256).join('.'), prefix: Number(bits) };
}

/** Starts the directory and the server; never fails the agent for DNS alone (see NodeDns.server). */
export async function startNodeDns(o: NodeDnsOptions): Promise<NodeDns> {
  const log = o.log ?? (() => undefined);
  const gw = gatewayOf(o.subnet);
  const directory = new InformerDirectory(o.store, log);
  await directory.start();
  let server: DnsServer | undefined;
  try {
    await ensureBridgeAddress(o.bridge, `${gw.address}/${gw.prefix}`);
    server = await DnsServer.start({ host: gw.address, port: o.port ?? 53, directory, upstreams: o.upstreams, log });
    log(`dns: serving cluster names on ${gw.address}:${server.port} (udp, tcp)`);
  } catch (err) {
    log(`dns: cannot serve on ${gw.address}:${o.port ?? 53}: ${(err as Error).message}; containers keep their image's resolv.conf`);
  }
  const hook = new DnsHook({ dir: o.dir ?? join('.', 'dns'), nameserver: server !== undefined ? gw.address : undefined });
  return {
    hook,
    ...(server !== undefined ? { server } : {}),
    stop: async () => {
      await server?.stop();
      await directory.stop();
    },
  };
}

function ip(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', args, { timeout: 10_000 }, (err, stdout, stderr) => (err === null ? resolve(stdout) : reject(new Error(`ip ${args.join(' ')}: ${(stderr || err.message).trim()}`))));
  });
}

/**
 * The bridge with its gateway address, up, before any task exists, so the server can bind to
 * it. The CNI bridge plugin later finds the same bridge and address and keeps them.
 */
async function ensureBridgeAddress(bridge: string, cidr: string): Promise<void> {
  const exists = await ip(['link', 'show', 'dev', bridge]).then(() => true, () => false);
  if (!exists) await ip(['link', 'add', bridge, 'type', 'bridge']).catch(async (err: unknown) => { if (!(await ip(['link', 'show', 'dev', bridge]).then(() => true, () => false))) throw err; });
  await ip(['addr', 'replace', cidr, 'dev', bridge]);
  await ip(['link', 'set', bridge, 'up']);
}
