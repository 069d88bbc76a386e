/**
 * The ServiceDirectory the node's DNS server reads: caches of Services and Tasks fed by
 * list+watch from the API (the same Informer the controllers use), indexed so that a question
 * costs a map lookup and the endpoints of one service. What a name serves is the endpoints
 * view's (controllers/endpoints serviceEntries): the same "in rotation" rule and the same
 * reading of a rollout's traffic plan as the load balancer and the ingress, so DNS never names
 * a task they would skip:
 *
 *   NAME          -> the service's entry (blue-green: the active revision's tasks only)
 *   NAME-preview  -> the preview entry of the blue-green service NAME (vip = previewVip),
 *                    unless a real service is called NAME-preview (the real one wins)
 */
import type { Service, Task } from '../../api/kinds.js';
import { keyString } from '../../api/object.js';
import { previewedName, serviceEntries, type ServiceEndpoints } from '../../controllers/endpoints/endpoints.js';
import { Informer } from '../../controllers/framework/informer.js';
import type { Disposable } from '../../lifecycle.js';
import type { Store } from '../../store/store.js';
import type { ServiceDirectory, ServiceRecord } from './names.js';

const BY_SERVICE = 'service';
const BY_IP = 'ip';
const BY_NAMESPACE = 'namespace';

/** The DNS record of an endpoints entry: its VIP and its ready addresses, sorted. */
export function recordOf(e: ServiceEndpoints): ServiceRecord {
  return { ...(e.vip !== undefined ? { vip: e.vip } : {}), ready: e.endpoints.map((x) => x.ip).sort() };
}

/** See the file comment. */
export class InformerDirectory implements ServiceDirectory, Disposable {
  private readonly services: Informer<Service>;
  private readonly tasks: Informer<Task>;

  constructor(store: Pick<Store, 'list' | 'watch' | 'get'>, log?: (msg: string) => void, private readonly nowMs: () => number = Date.now) {
    this.services = new Informer<Service>({
      store: store as Store, kind: 'Service', log,
      indexers: { [BY_NAMESPACE]: (s) => [s.metadata.namespace] },
    });
    this.tasks = new Informer<Task>({
      store: store as Store, kind: 'Task', log,
      indexers: {
        [BY_SERVICE]: (t) => [`${t.metadata.namespace}/${t.spec.service}`],
        [BY_IP]: (t) => (t.status?.ip !== undefined && t.spec.desiredState === 'running' ? [t.status.ip] : []),
      },
    });
  }

  /** Resolves once both caches hold a first list. */
  async start(): Promise<void> {
    await Promise.all([this.services.start(), this.tasks.start()]);
  }

  /** The record of service `name` in `namespace`, or of the preview it names; undefined when neither exists. */
  service(namespace: string, name: string): ServiceRecord | undefined {
    const real = this.get(namespace, name);
    if (real !== undefined) return recordOf(this.entries(real).service);
    const base = previewedName(name);
    const previewed = base === undefined ? undefined : this.get(namespace, base);
    const preview = previewed === undefined ? undefined : this.entries(previewed).preview;
    return preview !== undefined ? recordOf(preview) : undefined;
  }

  /** True when the namespace has at least one service. */
  hasNamespace(namespace: string): boolean {
    return this.services.byIndex(BY_NAMESPACE, namespace).length > 0;
  }

  /** The namespace of the (wanted) task that has this address. */
  namespaceOf(address: string): string | undefined {
    return this.tasks.byIndex(BY_IP, address)[0]?.metadata.namespace;
  }

  /** Stops both caches. */
  async stop(): Promise<void> {
    await Promise.all([this.services.stop(), this.tasks.stop()]);
  }

  private get(namespace: string, name: string): Service | undefined {
    return this.services.get(keyString({ kind: 'Service', namespace, name }));
  }

  private entries(svc: Service): ReturnType<typeof serviceEntries> {
    return serviceEntries(svc, this.tasks.byIndex(BY_SERVICE, `${svc.metadata.namespace}/${svc.metadata.name}`), this.nowMs());
  }
}
