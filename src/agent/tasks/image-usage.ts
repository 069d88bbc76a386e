/**
 * What the image collector (src/agent/image/collector.ts) must keep on this node: the images
 * of every Task assigned to it that still exists (whatever its state: only a removed task gives
 * its image up), and the container ids that may still own a rootfs (those tasks', and every
 * container the runtime still knows).
 */
import type { Task } from '../../api/kinds.js';
import type { ListResult } from '../../store/store.js';
import type { NodeUsage } from '../image/collector.js';
import type { ContainerRuntime } from '../runtime/runtime.js';
import { containerIdOf } from './spec.js';

/** The API the usage is read from (the agent's ApiClient). */
export interface TaskLister {
  list(kind: 'Task'): Promise<ListResult>;
}

/** Reads this node's tasks and the runtime's containers. */
export async function nodeImageUsage(client: TaskLister, runtime: Pick<ContainerRuntime, 'list'>, nodeName: string): Promise<NodeUsage> {
  const tasks = ((await client.list('Task')).items as Task[]).filter((t) => t.spec.node === nodeName);
  const containers = new Set([...tasks.map(containerIdOf), ...(await runtime.list()).map((c) => c.id)]);
  return { images: [...new Set(tasks.map((t) => t.spec.image))], containers };
}
