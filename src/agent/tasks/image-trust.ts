/**
 * Content trust on the node: before a task's image is pulled, it is verified again against the
 * TrustPolicies (an informer keeps them in memory), and the reference handed to the puller is
 * the digest that was verified, so that a tag re-pointed after admission is never run.
 *
 *   no TrustPolicy ─────────────> pull the image as written (no extra registry request)
 *   verify(image) ─trusted──────> pull host/path@digest
 *       ├─ refused, enforcing ──> ForbiddenError (not retryable: the task is rejected with the reason)
 *       ├─ refused, report only > pull host/path@digest, with a warning (an Event on the task)
 *       └─ registry unreachable > UnavailableError (retryable: the task waits, nothing runs)
 */
import { ForbiddenError } from '../../api/errors.js';
import type { TrustPolicy } from '../../api/kinds.js';
import { Informer } from '../../controllers/framework/informer.js';
import type { ImageTrustVerifier } from '../../image-trust/index.js';
import type { Disposable } from '../../lifecycle.js';
import type { Store } from '../../store/store.js';

/** What to pull for a task's image. */
export interface TrustedReference {
  reference: string;
  /** Set when the image would have been refused but no policy enforces. */
  warning?: string;
}

/** The agent's gate between a task's image and the puller; see the file comment. */
export class TaskImageTrust implements Disposable {
  private readonly policies: Informer<TrustPolicy>;

  constructor(store: Store, private readonly verifier: Pick<ImageTrustVerifier, 'verify'>, log?: (line: string) => void) {
    this.policies = new Informer<TrustPolicy>({ store, kind: 'TrustPolicy', log });
  }

  /** Resolves once the policies are listed. */
  start(): Promise<void> {
    return this.policies.start();
  }

  /** The reference to pull for `image`; throws ForbiddenError when it must not run. */
  async resolve(image: string): Promise<TrustedReference> {
    const verdict = await this.verifier.verify(image, this.policies.list());
    if (verdict === undefined) return { reference: image };
    if (!verdict.trusted && verdict.enforce) throw new ForbiddenError(verdict.reason);
    const reference = verdict.pinned ?? image;
    return verdict.trusted ? { reference } : { reference, warning: `${verdict.reason} (running it: no TrustPolicy enforces)` };
  }

  stop(): Promise<void> {
    return this.policies.stop();
  }
}
