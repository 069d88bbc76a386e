/**
 * The service load balancer of one node: keeps the kernel's nftables rules equal to the
 * endpoints view. Any change of Services or Tasks schedules a sync (coalesced over `debounceMs`);
 * a sync renders the rule set and, when the text changed, applies it as one atomic `nft -f`.
 * One sync at a time; a failed apply is retried after `retryMs`. stop() leaves the rules in
 * place: traffic keeps flowing while the agent restarts (the next agent rewrites them).
 *
 *   ServiceDirectory ──onChange──► schedule (debounce) ──► sync: view ─► LbService[] ─► render
 *                                                                 └─ text changed? ─► nft -f - (atomic)
 */
import type { ServiceEndpoints } from '../../controllers/endpoints/endpoints.js';
import { DEFAULT_SERVICE_CIDR } from '../../controllers/endpoints/vip.js';
import type { Disposable } from '../../lifecycle.js';
import { applyNftRuleset, commandRunner, ensureServiceRoute, removeServiceRoute, type CommandRunner } from './nft.js';
import { DEFAULT_TABLE, renderRemoval, renderRuleset, type LbService } from './ruleset.js';

/** What the balancer reads: the endpoints view and a change signal (ServiceDirectory, or a fake). */
export interface EndpointsSource {
  view(): Map<string, ServiceEndpoints>;
  onChange(fn: () => void): () => void;
}

/** How a ServiceLoadBalancer is set up; everything but `source` has a default. */
export interface LoadBalancerOptions {
  source: EndpointsSource;
  /** Runs nft and ip; default: real commands with `execPrefix`. */
  run?: CommandRunner;
  /** e.g. `['ip','netns','exec','node1']` when the node is a namespace the agent is not in. */
  execPrefix?: string[];
  /** nft table (family ip). Default `flotilla`. */
  table?: string;
  /** This node's task subnet (hairpin masquerade). */
  localSubnet?: string;
  /** This node's task bridge (hairpin masquerade when the subnet is not given). Default flotilla0. */
  bridge?: string;
  /** Routed to `serviceDevice` so that the node's own processes reach VIPs. Default 10.96.0.0/16. */
  serviceCidr?: string;
  /** Device the service CIDR is routed to. Default `lo`. */
  serviceDevice?: string;
  debounceMs?: number;
  retryMs?: number;
  log?: (msg: string) => void;
}

/** Default device of the service CIDR route. */
export const DEFAULT_SERVICE_DEVICE = 'lo';

/**
 * The balancer's input from the view: services (and `NAME-preview` entries, VIP = previewVip)
 * with a VIP or a published port; a canary's weighted groups carried over.
 */
export function lbServices(view: Map<string, ServiceEndpoints>): LbService[] {
  const out: LbService[] = [];
  for (const [ref, s] of view) {
    const ports = s.ports.filter((p) => s.vip !== undefined || p.publish !== undefined);
    if (ports.length === 0) continue;
    const groups = s.groups?.map((g) => ({ weight: g.weight, backends: g.endpoints.map((e) => e.ip) }));
    out.push({ ref, ...(s.vip !== undefined ? { vip: s.vip } : {}), ports, backends: s.endpoints.map((e) => e.ip), ...(groups !== undefined ? { groups } : {}) });
  }
  return out;
}

/** See the file comment. */
export class ServiceLoadBalancer implements Disposable {
  private readonly run: CommandRunner;
  private readonly log: (msg: string) => void;
  private applied: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> = Promise.resolve();
  private again = false;
  private running = false;
  private stopped = false;
  private unsubscribe: (() => void) | undefined;
  private reported = new Set<string>();

  constructor(private readonly opts: LoadBalancerOptions) {
    this.run = opts.run ?? commandRunner(opts.execPrefix ?? []);
    this.log = opts.log ?? (() => undefined);
  }

  /** Routes the service CIDR, applies the current view, then follows changes. */
  async start(): Promise<void> {
    await ensureServiceRoute(this.run, this.opts.serviceDevice ?? DEFAULT_SERVICE_DEVICE, this.opts.serviceCidr ?? DEFAULT_SERVICE_CIDR);
    this.unsubscribe = this.opts.source.onChange(() => this.schedule(this.opts.debounceMs ?? 10));
    this.schedule(0);
    await this.settled();
  }

  /** The rule set last applied (tests, debugging). */
  lastApplied(): string | undefined {
    return this.applied;
  }

  /** Resolves once no sync is running or scheduled. */
  async settled(): Promise<void> {
    while (this.running || this.timer !== undefined) await (this.running ? this.syncing : new Promise((r) => setTimeout(r, 5)));
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    return this.syncing;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = true;
      this.syncing = this.sync().finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.schedule(this.opts.debounceMs ?? 10);
        }
      });
    }, ms);
  }

  private async sync(): Promise<void> {
    const rendered = renderRuleset(lbServices(this.opts.source.view()), { table: this.opts.table, localSubnet: this.opts.localSubnet, bridge: this.opts.bridge ?? 'flotilla0' });
    for (const c of rendered.conflicts) {
      if (!this.reported.has(c)) this.log(`lb: published port clash: ${c}`);
      this.reported.add(c);
    }
    if (rendered.text === this.applied) return;
    try {
      await applyNftRuleset(this.run, rendered.text);
      this.applied = rendered.text;
    } catch (err) {
      this.log(`lb: applying nftables rules failed (retrying in ${this.opts.retryMs ?? 1_000} ms): ${(err as Error).message}`);
      if (!this.stopped) this.timer = setTimeout(() => { this.timer = undefined; this.schedule(0); }, this.opts.retryMs ?? 1_000);
    }
  }
}

/** Removes the balancer's table and the service route from a node (tests, uninstall). */
export async function removeLoadBalancer(opts: { run?: CommandRunner; execPrefix?: string[]; table?: string; serviceCidr?: string }): Promise<void> {
  const run = opts.run ?? commandRunner(opts.execPrefix ?? []);
  await applyNftRuleset(run, renderRemoval(opts.table ?? DEFAULT_TABLE));
  await removeServiceRoute(run, opts.serviceCidr ?? DEFAULT_SERVICE_CIDR);
}
