/**
 * Routes between nodes (host-gw): every agent keeps, in its own network namespace, one route
 * per other node, `ip route replace OTHER_SUBNET via OTHER_NODE_ADDRESS proto 176`, from a
 * watch on Nodes (`spec.podCIDR` handed out by the server, `status.address` reported by that
 * node's agent). Routes of nodes that are gone are removed. The routes carry their own
 * protocol number (FLOTILLA_ROUTE_PROTO), so the agent finds exactly its own routes again after
 * a restart and never touches anyone else's. Tasks keep their addresses across nodes (the
 * bridge plugin's ipMasq is off), so a task on node 1 reaches a task on node 3 directly.
 *
 * Also here: waitForNodeSubnet, the agent's start-up wait for the subnet the server assigns.
 */
import { execFile } from 'node:child_process';
import { FlotillaError, UnavailableError } from '../../api/errors.js';
import type { NodeObject } from '../../api/kinds.js';
import { Informer } from '../../controllers/framework/informer.js';
import { sleep, type Disposable } from '../../lifecycle.js';
import type { Store } from '../../store/store.js';

/** The `proto` of every route the agent adds (a number no routing daemon uses by default). */
export const FLOTILLA_ROUTE_PROTO = 176;

/** One host-gw route: a node's task subnet via that node's address. */
export interface NodeRoute {
  dst: string;
  via: string;
  /** The node it leads to (for logs). */
  node?: string;
}

/** What to change to get from the current routes to the wanted ones. */
export interface RoutePlan {
  replace: NodeRoute[];
  remove: NodeRoute[];
}

/** A route command failed (bad gateway, no such network, ...). */
export class RouteError extends FlotillaError {
  override readonly code = 'RouteFailed';
}

/** The routes this node wants: every other node with a subnet and an address. */
export function wantedRoutes(selfName: string, nodes: readonly NodeObject[]): NodeRoute[] {
  const self = nodes.find((n) => n.metadata.name === selfName);
  const out: NodeRoute[] = [];
  for (const n of nodes) {
    const dst = n.spec.podCIDR;
    const via = n.status?.address;
    if (n.metadata.name === selfName || dst === undefined || dst === '' || via === undefined || via === '') continue;
    if (via === self?.status?.address || dst === self?.spec.podCIDR) continue;
    out.push({ dst, via, node: n.metadata.name });
  }
  return out.sort((a, b) => a.dst.localeCompare(b.dst));
}

/** Pure diff (STYLE.md 5): replace what is missing or differs, remove what nobody wants. */
export function planRoutes(wanted: readonly NodeRoute[], current: readonly NodeRoute[]): RoutePlan {
  const have = new Map(current.map((r) => [r.dst, r.via]));
  const want = new Set(wanted.map((r) => r.dst));
  return {
    replace: wanted.filter((r) => have.get(r.dst) !== r.via),
    remove: current.filter((r) => !want.has(r.dst)),
  };
}

/** How NodeRoutes runs. */
export interface NodeRoutesOptions {
  /** Reads Nodes (the agent's API client). */
  store: Pick<Store, 'list' | 'watch' | 'get'>;
  nodeName: string;
  /** Prefix for `ip` (e.g. `['ip','netns','exec','node1']` when the agent is not inside the node's namespace). */
  ipPrefix?: string[];
  /** Full re-check interval (routes removed by hand come back). Default 30 s. */
  resyncMs?: number;
  log?: (msg: string) => void;
}

/** Keeps the host-gw routes in sync with the Nodes; see the file comment. */
export class NodeRoutes implements Disposable {
  private readonly informer: Informer<NodeObject>;
  private readonly log: (msg: string) => void;
  private readonly failing = new Map<string, string>();
  private dirty = true;
  private wake: (() => void) | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(private readonly opts: NodeRoutesOptions) {
    this.log = opts.log ?? (() => undefined);
    this.informer = new Informer<NodeObject>({ store: opts.store as Store, kind: 'Node', log: this.log });
    const poke = (): void => { this.dirty = true; this.wake?.(); };
    this.informer.addHandler({ onAdd: poke, onUpdate: (o, n) => { if (routeFacts(o) !== routeFacts(n)) poke(); }, onDelete: poke });
  }

  /** Starts watching; resolves after the first sync of the routes. */
  async start(): Promise<void> {
    await this.informer.start();
    await this.syncOnce();
    this.loop = this.run();
  }

  /** One pass: read our routes, apply the plan. Returns the plan it applied. */
  async syncOnce(): Promise<RoutePlan> {
    this.dirty = false;
    const plan = planRoutes(wantedRoutes(this.opts.nodeName, this.informer.list()), await this.current());
    for (const r of plan.remove) {
      try {
        await this.ip(['route', 'del', r.dst, 'proto', String(FLOTILLA_ROUTE_PROTO)]);
        this.log(`routes: removed ${r.dst} via ${r.via}`);
      } catch (err) {
        this.note(r, err);
      }
    }
    for (const r of plan.replace) {
      try {
        await this.ip(['route', 'replace', r.dst, 'via', r.via, 'proto', String(FLOTILLA_ROUTE_PROTO)]);
        this.failing.delete(r.dst);
        this.log(`routes: ${r.dst} via ${r.via} (node ${r.node ?? '?'})`);
      } catch (err) {
        this.note(r, err);
      }
    }
    return plan;
  }

  /** The routes this agent added (by their protocol number). */
  async current(): Promise<NodeRoute[]> {
    const out = await this.ip(['-j', 'route', 'show', 'proto', String(FLOTILLA_ROUTE_PROTO)]);
    const rows = JSON.parse(out.trim() === '' ? '[]' : out) as { dst?: string; gateway?: string }[];
    return rows.filter((r) => r.dst !== undefined && r.gateway !== undefined).map((r) => ({ dst: withPrefix(r.dst as string), via: r.gateway as string }));
  }

  /** Stops the loop and the watch; the routes stay (tasks on other nodes stay reachable while the agent restarts). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
    await this.loop;
    await this.informer.stop();
  }

  private async run(): Promise<void> {
    const resyncMs = this.opts.resyncMs ?? 30_000;
    let last = Date.now();
    while (!this.stopped) {
      if (!this.dirty) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          void sleep(Math.max(0, resyncMs - (Date.now() - last)), this.abort.signal).then(resolve);
        });
        this.wake = undefined;
      }
      if (this.stopped) return;
      await this.syncOnce().catch((err: unknown) => this.log(`routes: sync failed: ${(err as Error).message}`));
      last = Date.now();
      await sleep(100, this.abort.signal); // coalesce bursts of node updates
    }
  }

  private note(r: NodeRoute, err: unknown): void {
    const msg = (err as Error).message;
    if (this.failing.get(r.dst) === msg) return; // say it once, not every pass
    this.failing.set(r.dst, msg);
    this.log(`routes: cannot route ${r.dst} via ${r.via} (node ${r.node ?? '?'}): ${msg}`);
  }

  private ip(args: string[]): Promise<string> {
    const argv = [...(this.opts.ipPrefix ?? []), 'ip', ...args];
    return new Promise((resolve, reject) => {
      execFile(argv[0] ?? 'ip', argv.slice(1), { timeout: 10_000 }, (err, stdout, stderr) => {
        if (err === null) resolve(stdout);
        else reject(new RouteError(`${argv.join(' ')}: ${(stderr || err.message).trim()}`));
      });
    });
  }
}

/** What of a Node matters for routes (so heartbeats do not trigger passes). */
function routeFacts(n: NodeObject): string {
  return `${n.spec.podCIDR ?? ''}|${n.status?.address ?? ''}`;
}

/** `ip -j` prints a /32 host route without its prefix. */
function withPrefix(dst: string): string {
  return dst.includes('/') ? dst : `${dst}/32`;
}

/** Starts NodeRoutes and returns it once the first pass is done. */
export async function startNodeRoutes(opts: NodeRoutesOptions): Promise<NodeRoutes> {
  const r = new NodeRoutes(opts);
  try {
    await r.start();
  } catch (err) {
    await r.stop();
    throw err;
  }
  return r;
}

/** How long waitForNodeSubnet waits, and what it reads. */
export interface SubnetWaitOptions {
  /** Default 60 s. */
  timeoutMs?: number;
  pollMs?: number;
  log?: (msg: string) => void;
  signal?: AbortSignal;
}

/**
 * Waits until the server has written this node's `spec.podCIDR` and returns it. Rejects with
 * UnavailableError carrying the node's `status.message` (e.g. "cluster CIDR ... all taken")
 * when none comes within the timeout.
 */
export async function waitForNodeSubnet(api: Pick<Store, 'get'>, nodeName: string, opts: SubnetWaitOptions = {}): Promise<string> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let said = '';
  for (;;) {
    const node = (await api.get({ kind: 'Node', namespace: '', name: nodeName })) as NodeObject | undefined;
    const cidr = node?.spec.podCIDR;
    if (cidr !== undefined && cidr !== '') return cidr;
    const why = node?.status?.message ?? '';
    if (why !== said && why !== '') opts.log?.(`network: waiting for a task subnet: ${why}`);
    said = why;
    if (Date.now() > deadline || opts.signal?.aborted === true) {
      throw new UnavailableError(`node ${nodeName} has no task subnet from the server${why !== '' ? `: ${why}` : ' (is the server older than the agent?)'}`);
    }
    await sleep(opts.pollMs ?? 250, opts.signal);
  }
}
