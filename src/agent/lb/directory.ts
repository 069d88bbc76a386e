/**
 * The agent's view of the cluster's services: Services and Tasks caches (list + watch through
 * the API client) and the endpoints view computed from them (src/controllers/endpoints). The
 * load balancer, the ingress proxy and DNS read it; `onChange` tells them to look again,
 * coalesced so a burst of task updates costs one recomputation.
 */
import type { Service, Task } from '../../api/kinds.js';
import { Informer } from '../../controllers/framework/informer.js';
import { buildEndpointsView, type ServiceEndpoints } from '../../controllers/endpoints/endpoints.js';
import type { Disposable } from '../../lifecycle.js';
import type { Store } from '../../store/store.js';

/** See the file comment. */
export class ServiceDirectory implements Disposable {
  private readonly services: Informer<Service>;
  private readonly tasks: Informer<Task>;
  private readonly listeners = new Set<() => void>();
  private cached: Map<string, ServiceEndpoints> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly reported = new Set<string>();

  constructor(store: Store, private readonly log: (m: string) => void = () => undefined) {
    this.services = new Informer<Service>({ store, kind: 'Service', log });
    this.tasks = new Informer<Task>({ store, kind: 'Task', log });
    const changed = (): void => {
      this.cached = undefined;
      for (const l of this.listeners) l();
    };
    for (const inf of [this.services, this.tasks] as Array<Informer<Service> | Informer<Task>>) {
      inf.addHandler({ onAdd: changed, onUpdate: changed, onDelete: changed });
    }
  }

  /** Starts both caches; resolves once both have their first list. */
  async start(): Promise<void> {
    await Promise.all([this.services.start(), this.tasks.start()]);
  }

  /**
   * Every service (and blue-green preview) with its VIP, ports and ready endpoints, keyed by
   * `namespace/name`. Recomputed after a change; a preview name a real service holds is logged once.
   */
  view(): Map<string, ServiceEndpoints> {
    if (this.cached === undefined) {
      const built = buildEndpointsView(this.services.list(), this.tasks.list(), Date.now());
      for (const ref of built.shadowed) {
        if (!this.reported.has(ref)) this.log(`endpoints: service ${ref} exists: the preview of the blue-green service of that name is not reachable by name or VIP`);
      }
      this.reported.clear();
      for (const ref of built.shadowed) this.reported.add(ref);
      this.cached = built.view;
    }
    return this.cached;
  }

  /** Every Service in the cache (network policies read their labels). */
  serviceList(): Service[] {
    return this.services.list();
  }

  /** Every Task of the cluster in the cache (network policies need the addresses of all of them). */
  taskList(): Task[] {
    return this.tasks.list();
  }

  /** Calls `fn` (synchronously, must only schedule work) after every change; returns its remover. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.listeners.clear();
      await Promise.all([this.services.stop(), this.tasks.stop()]);
    })();
    return this.stopping;
  }
}
