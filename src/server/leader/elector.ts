/**
 * Leader election over a lease (DESIGN.md: several servers share one etcd; the holder of the
 * leader lease runs the scheduler and controllers, every server serves the API).
 *
 *   campaign: hold a lease (renewed every ttl/3) -> acquire the key (create if absent) -> leader?
 *   leader:   start the loops; every ttl/3: renew the lease + check the key is still ours
 *   fence:    a timer at (send time of the last good renewal + TTL - margin) stops the loops
 *             BEFORE etcd could expire the lease and let another server in
 *   stop():   stop the loops, then release (delete key, revoke lease): a successor takes over at once
 *
 * The storage side is the narrow LeaseBackend (etcd.ts; fakes in tests), so the fencing logic
 * is the same code in both.
 */
import type { Disposable } from '../../lifecycle.js';
import { sleep } from '../../lifecycle.js';

/** What the elector needs from the store of the lease (etcd, or a fake in unit tests). */
export interface LeaseBackend {
  /** Grants a lease; returns its id and the TTL the server granted. */
  grant(ttlSeconds: number): Promise<{ id: string; ttlSeconds: number }>;
  /** Renews the lease; returns its remaining TTL in seconds (<= 0: the lease is gone). */
  keepAlive(leaseId: string): Promise<number>;
  /**
   * Creates the leader key = holder on this lease if absent. Returns the key's holder (undefined:
   * none) and whether the key is ours: our holder value ON THIS lease.
   */
  acquire(leaseId: string, holder: string): Promise<{ holder?: string; ours: boolean }>;
  /** Deletes the key if it holds `holder`, and revokes the lease. */
  release(leaseId: string, holder: string): Promise<void>;
  close(): Promise<void>;
}

/** Options of the elector. */
export interface ElectorOptions {
  backend: LeaseBackend;
  /** This server's identity in the leader key. */
  id: string;
  /** Lease TTL in seconds (default 3: a successor leads within about 3.5 s of a leader's death). */
  ttlSeconds?: number;
  /** How often a follower tries to acquire (default min(250 ms, ttl/5)). */
  pollMs?: number;
  /** Starts what only the leader runs; the Disposable stops it on loss of leadership. */
  onLead: () => Promise<Disposable>;
  log?: (line: string) => void;
  /** Clock (tests). */
  now?: () => number;
}

/** Who leads, as seen by this server (for /leaderz). */
export interface LeadershipStatus {
  leader: boolean;
  id: string;
  /** The holder of the leader key when last seen (undefined: unknown / none). */
  leaderId?: string;
}

/** A running campaign. stop() steps down (loops stopped, lease released) and ends. */
export interface LeaderElector extends Disposable {
  status(): LeadershipStatus;
  /** Resolves when this server leads (or the elector stops); for tests and startup logs. */
  whenLeader(): Promise<void>;
}

/** Starts campaigning at once; never throws (etcd errors are retried, logged once per change). */
export function startElector(opts: ElectorOptions): LeaderElector {
  const e = new Elector(opts);
  e.done = e.run();
  return e;
}

/** One campaign: state held across the run loop, the leader term, the fence timer. */
class Elector implements LeaderElector {
  done: Promise<void> = Promise.resolve();
  private readonly ttl: number;
  private readonly pollMs: number;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly stopper = new AbortController();
  private lease: { id: string; deadline: number; renewedAt: number } | undefined;
  private leading = false;
  private leaderId: string | undefined;
  private lastError = '';
  private waiters: Array<() => void> = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: ElectorOptions) {
    this.ttl = opts.ttlSeconds ?? 3;
    this.pollMs = opts.pollMs ?? Math.min(250, (this.ttl * 1000) / 5);
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? ((l) => console.error(l));
  }

  status(): LeadershipStatus {
    return { leader: this.leading, id: this.opts.id, leaderId: this.leaderId };
  }

  whenLeader(): Promise<void> {
    if (this.leading || this.stopper.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopper.abort();
      await this.done;
      this.wake();
      await this.opts.backend.close().catch(() => undefined);
    })();
    return this.stopping;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Campaign until stopped; lead whenever the key is ours. */
  async run(): Promise<void> {
    const signal = this.stopper.signal;
    while (!signal.aborted) {
      try {
        await this.ensureLease();
        const { holder, ours } = await this.opts.backend.acquire(this.lease!.id, this.opts.id);
        this.seeLeader(holder);
        this.lastError = '';
        if (ours) await this.lead();
      } catch (err) {
        this.failed(err);
      }
      await sleep(this.pollMs, signal);
    }
  }

  /** Grants a lease if there is none; renews the one we have once a third of its TTL is spent. */
  private async ensureLease(): Promise<void> {
    const sent = this.now();
    if (this.lease === undefined || sent >= this.lease.deadline) {
      this.lease = undefined;
      const g = await this.opts.backend.grant(this.ttl);
      this.lease = { id: g.id, deadline: sent + g.ttlSeconds * 1000, renewedAt: sent };
    } else if (sent - this.lease.renewedAt >= (this.ttl * 1000) / 3) {
      await this.renew();
    }
  }

  /** One keepalive; the new deadline counts from when it was SENT (etcd counts from receipt). */
  private async renew(): Promise<void> {
    const lease = this.lease!;
    const sent = this.now();
    const ttl = await this.opts.backend.keepAlive(lease.id);
    if (ttl <= 0) {
      this.lease = undefined;
      throw new Error('the leader lease expired in etcd');
    }
    lease.deadline = Math.max(lease.deadline, sent + ttl * 1000);
    lease.renewedAt = sent;
  }

  private seeLeader(holder: string | undefined): void {
    if (holder !== this.leaderId && holder !== undefined && holder !== this.opts.id) this.log(`flotilla server: leader is ${holder} (this server ${this.opts.id} follows)`);
    this.leaderId = holder;
  }

  private failed(err: unknown): void {
    const msg = (err as Error).message;
    if (msg !== this.lastError) this.log(`flotilla server: leader election: ${msg}`);
    this.lastError = msg;
  }

  /** One term: start the loops, renew + check until fenced, lost or stopped; then stop the loops. */
  private async lead(): Promise<void> {
    const term = new AbortController();
    const onStop = (): void => term.abort();
    this.stopper.signal.addEventListener('abort', onStop, { once: true });
    const fence = this.armFence(term);
    this.leading = true;
    this.log(`flotilla server: ${this.opts.id} is the leader: starting the controllers`);
    this.wake();
    let loops: Disposable | undefined;
    try {
      loops = await this.opts.onLead();
      while (!term.signal.aborted) {
        await sleep((this.ttl * 1000) / 3, term.signal);
        if (term.signal.aborted) break;
        if (!(await this.renewTerm(term.signal))) break;
        fence.rearm();
      }
    } catch (err) {
      this.failed(err);
    } finally {
      fence.clear();
      this.stopper.signal.removeEventListener('abort', onStop);
      this.leading = false;
      await loops?.stop().catch((err: unknown) => this.failed(err));
      this.log(`flotilla server: ${this.opts.id} is no longer the leader: controllers stopped`);
    }
    await this.afterTerm();
  }

  /** Renews the lease and checks the key; false when leadership is surely or possibly lost. */
  private async renewTerm(signal: AbortSignal): Promise<boolean> {
    try {
      await raceAbort(this.renew(), signal);
      const { holder, ours } = await raceAbort(this.opts.backend.acquire(this.lease!.id, this.opts.id), signal);
      this.seeLeader(holder);
      if (!ours) return false;
      this.lastError = '';
    } catch (err) {
      if (signal.aborted) return false;
      this.failed(err); // transient: the fence decides when it is too late
      return this.lease !== undefined;
    }
    return true;
  }

  /** A timer that aborts the term `margin` before the lease could expire in etcd. */
  private armFence(term: AbortController): { rearm(): void; clear(): void } {
    const marginMs = Math.min(1_000, (this.ttl * 1000) / 5);
    let timer: NodeJS.Timeout | undefined;
    const rearm = (): void => {
      clearTimeout(timer);
      const left = (this.lease?.deadline ?? 0) - marginMs - this.now();
      timer = setTimeout(() => {
        if (!term.signal.aborted) this.failed(new Error('leader lease not renewed in time: stepping down'));
        term.abort();
      }, Math.max(0, left));
    };
    rearm();
    return { rearm, clear: () => clearTimeout(timer) };
  }

  /** After a term: on stop, release at once (successor need not wait a TTL); else forget a doubtful lease. */
  private async afterTerm(): Promise<void> {
    const lease = this.lease;
    if (lease === undefined) return;
    if (this.stopper.signal.aborted || this.now() >= lease.deadline - 1_000) {
      this.lease = undefined;
      await this.opts.backend.release(lease.id, this.opts.id).catch((err: unknown) => this.failed(err));
    }
  }
}

/** Rejects as soon as the signal aborts (the call itself carries its own deadline). */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject);
    void p.catch(() => undefined).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
