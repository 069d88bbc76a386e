/**
 * The image side of a hollow node: nothing is pulled and no root filesystem is made. The
 * TaskSupervisor still reports `preparing` and `starting` as it does on a real node, so the
 * server sees the same status writes per task; only the registry traffic is missing.
 */
import type { TaskImages } from '../tasks/supervisor.js';
import type { ImageRunConfig } from '../tasks/spec.js';

/** The root filesystem path every hollow container "has" (never created). */
export const HOLLOW_ROOTFS = '/nonexistent/flotilla-hollow-rootfs';

/** TaskImages without pulls: an empty image config (the task's own command, if any, is used). */
export class HollowTaskImages implements TaskImages {
  async prepareRootfs(_containerId: string, _image: string, _onProgress: (message: string) => void): Promise<{ rootfs: string; config: ImageRunConfig }> {
    return { rootfs: HOLLOW_ROOTFS, config: { cmd: ['hollow'] } };
  }

  async releaseRootfs(_containerId: string): Promise<void> {
    // nothing was made
  }
}
