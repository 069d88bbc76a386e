/**
 * The network policy enforcer of one node: keeps the `flotilla-netpol` nft table equal to what
 * the policies say. Any change schedules a sync, coalesced over `debounceMs`; a sync renders the
 * text (compute.ts) and, when it differs from what was applied, runs ONE `nft -f -` (atomic).
 * One sync at a time; a failed apply is logged and retried after `retryMs`. stop() removes the
 * table: without an agent to follow changes, stale rules would block the tasks that come next.
 *
 *   PolicySource ──onChange──► dirty ──(debounce)──► loop: input ─► render ─► changed? ─► nft -f -
 */
import type { Disposable } from '../../lifecycle.js';
import { applyNftRuleset, commandRunner, type CommandRunner } from '../lb/nft.js';
import { renderNetpolRemoval, renderNetpolRuleset, NETPOL_TABLE } from './compute.js';
import type { NetpolSource } from './source.js';

/** How an enforcer is set up; everything but `source` has a default. */
export interface EnforcerOptions {
  source: NetpolSource;
  /** Runs nft and sysctl; default: real commands with `execPrefix`. */
  run?: CommandRunner;
  /** e.g. `['ip','netns','exec','node1']` when the node is a namespace the agent is not in. */
  execPrefix?: string[];
  /** nft table (family ip). Default `flotilla-netpol`. */
  table?: string;
  debounceMs?: number;
  retryMs?: number;
  log?: (msg: string) => void;
}

/** See the file comment. */
export class NetworkPolicyEnforcer implements Disposable {
  private readonly run: CommandRunner;
  private readonly log: (msg: string) => void;
  private applied: string | undefined;
  private dirty = false;
  private busy = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private stopped = false;
  private unsubscribe: (() => void) | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: EnforcerOptions) {
    this.run = opts.run ?? commandRunner(opts.execPrefix ?? []);
    this.log = opts.log ?? (() => undefined);
  }

  /**
   * Makes bridged traffic between tasks of this node pass the ip filter hooks (br_netfilter),
   * applies the current policies, then follows changes.
   */
  async start(): Promise<void> {
    try {
      await this.run(['sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=1']);
    } catch (err) {
      this.log(`netpol: cannot turn on bridge-nf-call-iptables (policies between tasks of one node may not hold): ${(err as Error).message}`);
    }
    this.unsubscribe = this.opts.source.onChange(() => this.markDirty());
    await this.syncOnce();
    this.loop = this.follow();
  }

  /** The text last applied (tests, benchmarks). */
  lastApplied(): string | undefined {
    return this.applied;
  }

  /** Resolves once nothing is left to apply (tests). */
  async settled(): Promise<void> {
    while ((this.dirty || this.busy) && !this.stopped) await new Promise((r) => setTimeout(r, 5));
  }

  private markDirty(): void {
    this.dirty = true;
    this.wake?.();
  }

  /** Renders and applies if the text changed; returns false when nft failed. */
  private async syncOnce(): Promise<boolean> {
    this.dirty = false;
    const text = renderNetpolRuleset(this.opts.source.input(), { table: this.opts.table });
    if (text === this.applied) return true;
    this.busy = true;
    try {
      await applyNftRuleset(this.run, text);
      this.applied = text;
      return true;
    } catch (err) {
      this.log(`netpol: applying nftables rules failed (retrying in ${this.opts.retryMs ?? 1_000} ms): ${(err as Error).message}`);
      this.dirty = true;
      return false;
    } finally {
      this.busy = false;
    }
  }

  private async follow(): Promise<void> {
    while (!this.stopped) {
      if (!this.dirty) await new Promise<void>((r) => { this.wake = r; });
      this.wake = undefined;
      if (this.stopped) break;
      await new Promise((r) => setTimeout(r, this.opts.debounceMs ?? 10));
      if (this.stopped) break;
      const ok = await this.syncOnce();
      if (!ok) await new Promise((r) => setTimeout(r, this.opts.retryMs ?? 1_000));
    }
  }

  /** Stops following and removes the table (idempotent). */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      this.unsubscribe?.();
      this.wake?.();
      await this.loop;
      try {
        await applyNftRuleset(this.run, renderNetpolRemoval(this.opts.table ?? NETPOL_TABLE));
      } catch (err) {
        this.log(`netpol: removing the nftables table failed: ${(err as Error).message}`);
      }
    })();
    return this.stopping;
  }
}
