/**
 * The supervisor's view of images (TaskImages) over the ImagePuller: pull with progress, then
 * an overlay root filesystem per container under DATA_DIR/containers/<id>/, released by path so
 * that an agent restarted since can still clean up. With content trust (image-trust.ts) the
 * image is verified first and the verified digest is what gets pulled.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { ImagePuller, parseReference, releaseRootfsDir, type PulledImage } from '../image/index.js';
import type { TaskImageTrust } from './image-trust.js';
import type { Task } from '../../api/kinds.js';
import type { PullCredentials } from './pull-credentials.js';
import type { TaskImages } from './supervisor.js';
import type { ImageRunConfig } from './spec.js';

/** TaskImages backed by the real registry client and layer store. */
export class PullerTaskImages implements TaskImages {
  /**
   * Pull policy "if not present", as Kubernetes does by default: a reference by digest, or by a
   * tag other than `latest`, that this agent has pulled already with the same credentials (or
   * none) is not asked of the registry again. `latest` is always resolved afresh. Keyed by the
   * credentials too, so that a task without a login does not run a private image that another
   * task's login brought onto the node: it asks the registry (HEAD), which refuses it.
   */
  private readonly present = new Map<string, PulledImage>();

  constructor(
    private readonly puller: ImagePuller, private readonly containersDir: string, private readonly log: (m: string) => void = () => undefined,
    private readonly trust?: Pick<TaskImageTrust, 'resolve'>,
    /** Told when an image runs that an enforcing policy would refuse (enforce: false): an Event on the task. */
    private readonly onUntrusted: (containerId: string, warning: string) => void = () => undefined,
    /** Registry credentials of a task (src/agent/tasks/pull-credentials.ts); none: anonymous pulls. */
    private readonly credentials?: PullCredentials,
  ) {}

  /** Pulls `image` with the task's credentials, or the digest content trust verified for it (every time: a tag may move). */
  private async pull(containerId: string, image: string, onProgress: (message: string) => void, task?: Task): Promise<PulledImage> {
    const trusted = this.trust !== undefined ? await this.trust.resolve(image) : { reference: image };
    if (trusted.warning !== undefined) {
      this.log(`${containerId}: ${trusted.warning}`);
      onProgress(trusted.warning);
      this.onUntrusted(containerId, trusted.warning);
    }
    // Credentials first: a task must be able to pull the image itself, even when another task's login put it here.
    const auth = task !== undefined ? await this.credentials?.forTask(task) : undefined;
    const key = `${trusted.reference}\0${auth === undefined ? 'anonymous' : createHash('sha256').update(`${auth.username}\0${auth.password}`).digest('hex')}`;
    let pulled = this.present.get(key);
    if (pulled === undefined) {
      pulled = await this.puller.pull(trusted.reference, { onProgress: (p) => onProgress(p.message), ...(auth !== undefined ? { auth } : {}) });
      const ref = parseReference(trusted.reference);
      if (ref.digest !== undefined || (ref.tag !== undefined && ref.tag !== 'latest')) this.present.set(key, pulled);
    }
    return pulled;
  }

  async prepareRootfs(containerId: string, image: string, onProgress: (message: string) => void, task?: Task): Promise<{ rootfs: string; config: ImageRunConfig }> {
    const pulled = await this.pull(containerId, image, onProgress, task);
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
