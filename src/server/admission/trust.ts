/**
 * Admission of images under content trust (src/image-trust/):
 *
 *   create/update Service whose image is new ──> TrustPolicies? none ──> admitted (no registry request)
 *        └─> verify (tag -> digest, signatures) ──trusted──> admitted
 *                  ├─ untrusted, some policy enforces ──> 403 "image X has no signature by a trusted key (TrustPolicy P rules[0]: ...)"
 *                  ├─ registry unreachable, enforcing ──> 403 "cannot verify ... (fail closed)"
 *                  └─ untrusted, report only ──> admitted + Warning Event UntrustedImage on the Service
 *
 * An update that keeps the image is not verified again here (a scale must not depend on the
 * registry); the agent verifies every task before it pulls, and runs the digest it verified.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ForbiddenError, UnavailableError } from '../../api/errors.js';
import type { EventObject, Service, TrustPolicy } from '../../api/kinds.js';
import { UNTRUSTED_IMAGE_REASON, type ImageTrustVerifier, type TrustVerdict } from '../../image-trust/index.js';
import type { Store } from '../../store/store.js';
import type { AdmissionHook, AdmissionRequest } from '../hooks.js';

/** Refuses Services whose image is not signed by a trusted key; see the file comment. */
export class ImageTrustAdmission implements AdmissionHook {
  readonly name = 'image-trust';

  constructor(
    private readonly store: Pick<Store, 'list' | 'create'>,
    private readonly verifier: Pick<ImageTrustVerifier, 'verify'>,
    private readonly now: () => number = Date.now,
  ) {}

  async admit(req: AdmissionRequest): Promise<void> {
    if (req.object.kind !== 'Service' || (req.operation !== 'create' && req.operation !== 'update')) return;
    const svc = req.object as Service;
    if (req.operation === 'update' && (req.old as Service | undefined)?.spec.image === svc.spec.image) return;
    const { items } = await this.store.list('TrustPolicy');
    if (items.length === 0) return;
    const policies = items as TrustPolicy[];
    const enforce = policies.some((p) => p.spec.enforce);
    let verdict: TrustVerdict | undefined;
    try {
      verdict = await this.verifier.verify(svc.spec.image, policies);
    } catch (err) {
      if (!(err instanceof UnavailableError)) throw err;
      if (enforce) throw new ForbiddenError(`${err.message} (refused: a TrustPolicy enforces signatures and the registry could not be asked)`);
      await this.report(svc, `${err.message} (admitted: no TrustPolicy enforces)`);
      return;
    }
    if (verdict === undefined || verdict.trusted) return;
    if (verdict.enforce) throw new ForbiddenError(verdict.reason);
    await this.report(svc, `${verdict.reason}: it would have been refused (admitted: no TrustPolicy enforces)`);
  }

  /** A Warning Event on the Service; a failure to write it does not refuse the Service. */
  private async report(svc: Service, message: string): Promise<void> {
    const nowMs = this.now();
    const now = new Date(nowMs).toISOString();
    const { name, namespace } = svc.metadata;
    const event: EventObject = {
      kind: 'Event',
      metadata: { name: `${name}.untrustedimage.${nowMs.toString(16)}${randomBytes(2).toString('hex')}`, namespace, uid: randomUUID(), labels: {}, revision: 0, generation: 1, creationTimestamp: now },
      spec: { involved: `Service/${namespace}/${name}`, type: 'Warning', reason: UNTRUSTED_IMAGE_REASON, message, source: 'admission/image-trust', count: 1, firstTimestamp: now, lastTimestamp: now },
    };
    await this.store.create(event).catch(() => undefined);
  }
}
