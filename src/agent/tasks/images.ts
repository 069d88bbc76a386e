/**
 * The supervisor's view of images (TaskImages) over the ImagePuller: pull with progress, then
 * an overlay root filesystem per container under DATA_DIR/containers/<id>/, released by path so
 * that an agent restarted since can still clean up.
 */
import path from 'node:path';
import { ImagePuller, releaseRootfsDir } from '../image/index.js';
import type { TaskImages } from './supervisor.js';
import type { ImageRunConfig } from './spec.js';

/** TaskImages backed by the real registry client and layer store. */
export class PullerTaskImages implements TaskImages {
  constructor(private readonly puller: ImagePuller, private readonly containersDir: string, private readonly log: (m: string) => void = () => undefined) {}

  async prepareRootfs(containerId: string, image: string, onProgress: (message: string) => void): Promise<{ rootfs: string; config: ImageRunConfig }> {
    const pulled = await this.puller.pull(image, { onProgress: (p) => onProgress(p.message) });
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
