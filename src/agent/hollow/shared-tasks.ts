/**
 * One informer (one list + one watch) of Tasks for every hollow node of the process: at 10,000
 * nodes, an informer per TaskSupervisor would be 10,000 watches, each receiving every task
 * event. This one indexes tasks by `spec.node` and routes each event to the one supervisor of
 * that node, so an event costs one map lookup whatever the node count.
 *
 *   server --watch Task--> Informer (index by node) --route by spec.node--> supervisor[node].enqueue
 */
import type { Task } from '../../api/kinds.js';
import { Informer } from '../../controllers/framework/informer.js';
import type { Disposable } from '../../lifecycle.js';
import type { Store } from '../../store/store.js';
import type { NodeTaskView } from '../tasks/supervisor.js';

const BY_NODE = 'node';

/** See the file comment. */
export class SharedTaskInformer implements NodeTaskView, Disposable {
  private readonly informer: Informer<Task>;
  private readonly subscribers = new Map<string, (t: Task) => void>();

  constructor(store: Store, log: (line: string) => void = () => undefined) {
    this.informer = new Informer<Task>({ store, kind: 'Task', log, indexers: { [BY_NODE]: (t) => (t.spec.node !== '' ? [t.spec.node] : []) } });
    this.informer.addHandler({
      onAdd: (t) => this.route(t.spec.node, t),
      onUpdate: (old, t) => {
        this.route(t.spec.node, t);
        if (old.spec.node !== t.spec.node) this.route(old.spec.node, t);
      },
      onDelete: (t) => this.route(t.spec.node, t),
    });
  }

  /** Lists and starts watching; resolves once the cache holds the first list. */
  start(): Promise<void> {
    return this.informer.start();
  }

  /** Stops the watch; idempotent. */
  stop(): Promise<void> {
    return this.informer.stop();
  }

  get(key: string): Task | undefined {
    return this.informer.get(key);
  }

  assignedTo(nodeName: string): Task[] {
    return this.informer.byIndex(BY_NODE, nodeName);
  }

  /** One subscriber per node (its supervisor); a second one for the same node replaces the first. */
  subscribe(nodeName: string, onChange: (t: Task) => void): () => void {
    this.subscribers.set(nodeName, onChange);
    return () => {
      if (this.subscribers.get(nodeName) === onChange) this.subscribers.delete(nodeName);
    };
  }

  /** Tasks in the cache (figures). */
  size(): number {
    return this.informer.list().length;
  }

  private route(node: string, t: Task): void {
    if (node === '') return;
    this.subscribers.get(node)?.(t);
  }
}
