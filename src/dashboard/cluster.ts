/**
 * The page's view of the cluster: Nodes, Services and Tasks kept live by watch streams (one
 * each: Leases and Events, the noisiest kinds, are not streamed here), and the nodes' usage,
 * which is not in the store (the server's metrics rings): fetched every `usageEveryMs` (10 s,
 * the agents' default sampling interval). Changes are coalesced into one render per frame.
 */
import type { NodeObject, Service, Task } from '../api/kinds.js';
import type { NodeUsage } from '../api/metrics.js';
import { Api, ApiError } from './api.js';
import { LiveCollection, sleep } from './live.js';

/** See the file comment. */
export class ClusterData {
  readonly nodes: LiveCollection<NodeObject>;
  readonly services: LiveCollection<Service>;
  readonly tasks: LiveCollection<Task>;
  usage: NodeUsage[] = [];
  usageError: ApiError | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly abort = new AbortController();
  private scheduled: ReturnType<typeof setTimeout> | undefined;
  private usageLoop: Promise<void> | undefined;

  constructor(readonly api: Api, onUnauthorized: (err: ApiError) => void, private readonly usageEveryMs = 10_000) {
    const common = { onChange: () => this.changed(), onUnauthorized };
    this.nodes = new LiveCollection<NodeObject>(api, { kind: 'Node', plural: 'nodes', ...common });
    this.services = new LiveCollection<Service>(api, { kind: 'Service', plural: 'services', ...common });
    this.tasks = new LiveCollection<Task>(api, { kind: 'Task', plural: 'tasks', ...common });
  }

  start(): void {
    this.nodes.start();
    this.services.start();
    this.tasks.start();
    this.usageLoop ??= this.pollUsage();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    clearTimeout(this.scheduled);
    await Promise.all([this.nodes.stop(), this.services.stop(), this.tasks.stop(), this.usageLoop]);
  }

  /** Calls `fn` after changes (at most once per 16 ms); returns the unsubscribe. */
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The worst state of the three streams, for the header. */
  connection(): 'live' | 'loading' | 'reconnecting' {
    const states = [this.nodes.state, this.services.state, this.tasks.state];
    if (states.includes('reconnecting')) return 'reconnecting';
    if (states.includes('loading')) return 'loading';
    return 'live';
  }

  changed(): void {
    this.scheduled ??= setTimeout(() => {
      this.scheduled = undefined;
      for (const fn of this.listeners) fn();
    }, 16);
  }

  private async pollUsage(): Promise<void> {
    while (!this.abort.signal.aborted) {
      let wait = this.usageEveryMs;
      try {
        this.usage = (await this.api.get<{ items: NodeUsage[] }>('/api/v1/metrics/nodes', this.abort.signal)).items;
        this.usageError = undefined;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.usageError = err instanceof ApiError ? err : new ApiError(0, 'Error', (err as Error).message);
        // A dropped connection is worth a quick second try; a 403 is not.
        if (this.usageError.retryable) wait = Math.min(wait, 2_000);
      }
      this.changed();
      await sleep(wait, this.abort.signal);
    }
  }
}
