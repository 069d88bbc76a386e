/**
 * The supervisor's view of images (TaskImages) over the ImagePuller: pull with progress, then
 * an overlay root filesystem per container under DATA_DIR/containers/<id>/, released by path so
 * that an agent restarted since can still clean up.
 */
import path from 'node:path';
import { ImagePuller, parseReference, releaseRootfsDir, type PulledImage } from '../image/index.js';
import type { TaskImages } from './supervisor.js';
import type { ImageRunConfig } from './spec.js';

/** TaskImages backed by the real registry client and layer store. */
export class PullerTaskImages implements TaskImages {
  /**
   * Pull policy "if not present", as Kubernetes does by default: a reference by digest, or by a
   * tag other than `latest`, that this agent has pulled already is not asked of the registry
   * again. `latest` is always resolved afresh.
   */
  private readonly present = new Map<string, PulledImage>();

  constructor(private readonly puller: ImagePuller, private readonly containersDir: string, private readonly log: (m: string) => void = () => undefined) {}

  async prepareRootfs(containerId: string, image: string, onProgress: (message: string) => void): Promise<{ rootfs: string; config: ImageRunConfig }> {
    let pulled = this.present.get(image);
    if (pulled === undefined) {
      pulled = await this.puller.pull(image, { onProgress: (p) => onProgress(p.message) });
      const ref = parseReference(image);
      if (ref.digest !== undefined || (ref.tag !== undefined && ref.tag !== 'latest')) this.present.set(image, pulled);
    }
    const dir = path.join(this.containersDir, containerId);
    await releaseRootfsDir(dir); // leftovers of an attempt interrupted by a restart
    const prepared = await this.puller.prepareRootfs(pulled, dir, { log: this.log });
    const c = pulled.config;
    return {
      rootfs: prepared.rootfs,
      config: { entrypoint: c.Entrypoint ?? undefined, cmd: c.Cmd ?? undefined, env: c.Env ?? undefined, workingDir: c.WorkingDir, user: c.User },
    };
  }

  releaseRootfs(containerId: string): Promise<void> {
    return releaseRootfsDir(path.join(this.containersDir, containerId));
  }
}
