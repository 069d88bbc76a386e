/**
 * What the network policies of a node are made from: the NetworkPolicy and Node caches of its
 * own, and the Services and Tasks caches the agent already keeps for its load balancer
 * (lb/directory.ts ServiceDirectory: no second watch of every task). `onChange` fires on any
 * change of the four.
 */
import type { NetworkPolicy, NodeObject, Service, Task } from '../../api/kinds.js';
import { Informer } from '../../controllers/framework/informer.js';
import type { Disposable } from '../../lifecycle.js';
import type { Store } from '../../store/store.js';
import type { NetpolInput } from './compute.js';
import { policyTasks } from './select.js';

/** The Services and Tasks caches (ServiceDirectory, or a fake). */
export interface ServicesAndTasks {
  serviceList(): Service[];
  taskList(): Task[];
  onChange(fn: () => void): () => void;
}

/** Anything the enforcer can read its input from (PolicySource, or a fake). */
export interface NetpolSource {
  input(): NetpolInput;
  onChange(fn: () => void): () => void;
}

/** See the file comment. */
export class PolicySource implements NetpolSource, Disposable {
  private readonly policies: Informer<NetworkPolicy>;
  private readonly nodes: Informer<NodeObject>;
  private readonly listeners = new Set<() => void>();
  private readonly unsubscribe: () => void;
  private stopping: Promise<void> | undefined;

  constructor(store: Store, private readonly cluster: ServicesAndTasks, log: (m: string) => void = () => undefined) {
    this.policies = new Informer<NetworkPolicy>({ store, kind: 'NetworkPolicy', log });
    this.nodes = new Informer<NodeObject>({ store, kind: 'Node', log });
    const changed = (): void => { for (const l of this.listeners) l(); };
    this.policies.addHandler({ onAdd: changed, onUpdate: changed, onDelete: changed });
    // A node's address matters; its heartbeats do not.
    this.nodes.addHandler({ onAdd: changed, onUpdate: (a, b) => { if (a.status?.address !== b.status?.address) changed(); }, onDelete: changed });
    this.unsubscribe = cluster.onChange(changed);
  }

  /** Fills both caches (the Services and Tasks caches are started by their owner). */
  async start(): Promise<void> {
    await Promise.all([this.policies.start(), this.nodes.start()]);
  }

  input(): NetpolInput {
    return {
      policies: this.policies.list(),
      tasks: policyTasks(this.cluster.taskList(), this.cluster.serviceList()),
      nodeAddresses: this.nodes.list().map((n) => n.status?.address).filter((a): a is string => a !== undefined && /^\d+\.\d+\.\d+\.\d+$/.test(a)),
    };
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.unsubscribe();
      this.listeners.clear();
      await Promise.all([this.policies.stop(), this.nodes.stop()]);
    })();
    return this.stopping;
  }
}
