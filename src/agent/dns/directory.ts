/**
 * The ServiceDirectory the node's DNS server reads: caches of Services and Tasks fed by
 * list+watch from the API (the same Informer the controllers use), indexed so that a question
 * costs a map lookup. "Ready" is the endpoints view's rule (controllers/endpoints), the same
 * one the load balancer and the ingress use, so DNS never names a task they would skip.
 */
import type { Service, Task } from '../../api/kinds.js';
import { keyString } from '../../api/object.js';
import { inRotation } from '../../controllers/endpoints/endpoints.js';
import { Informer } from '../../controllers/framework/informer.js';
import type { Disposable } from '../../lifecycle.js';
import type { Store } from '../../store/store.js';
import type { ServiceDirectory, ServiceRecord } from './names.js';

const BY_SERVICE = 'service';
const BY_IP = 'ip';
const BY_NAMESPACE = 'namespace';

/** See the file comment. */
export class InformerDirectory implements ServiceDirectory, Disposable {
  private readonly services: Informer<Service>;
  private readonly tasks: Informer<Task>;

  constructor(store: Pick<Store, 'list' | 'watch' | 'get'>, log?: (msg: string) => void) {
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

  service(namespace: string, name: string): ServiceRecord | undefined {
    const svc = this.services.get(keyString({ kind: 'Service', namespace, name }));
    if (svc === undefined) return undefined;
    const ready = this.tasks.byIndex(BY_SERVICE, `${namespace}/${name}`)
      .filter((t) => inRotation(t, svc.metadata.uid))
      .map((t) => t.status?.ip as string)
      .sort();
    return { ...(svc.status?.vip !== undefined ? { vip: svc.status.vip } : {}), ready };
  }

  hasNamespace(namespace: string): boolean {
    return this.services.byIndex(BY_NAMESPACE, namespace).length > 0;
  }

  namespaceOf(address: string): string | undefined {
    return this.tasks.byIndex(BY_IP, address)[0]?.metadata.namespace;
  }

  async stop(): Promise<void> {
    await Promise.all([this.services.stop(), this.tasks.stop()]);
  }
}
