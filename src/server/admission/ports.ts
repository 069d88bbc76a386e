/**
 * Admission of published ports (routing mesh): a port published on every node belongs to one
 * service only. A Service asking for a publish port (and protocol) that another Service already
 * publishes is refused with a ValidationError naming the holder, so `flotilla apply` prints
 * `spec.ports[0].publish: expected a port no other service publishes, found 30080 (published
 * by default/web)`. The check reads the store at admission time; two creates racing for the same
 * port can both pass (the agents then serve the older service and log the clash).
 */
import { ValidationError, type ValidationIssue } from '../../api/errors.js';
import type { Service, ServicePort } from '../../api/kinds.js';
import type { Store } from '../../store/store.js';
import type { AdmissionHook, AdmissionRequest } from '../hooks.js';

/** Who publishes what: `tcp/30080` -> `namespace/name`. */
function publishedBy(services: readonly Service[], skip: { namespace: string; name: string }): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of services) {
    if (s.metadata.namespace === skip.namespace && s.metadata.name === skip.name) continue;
    for (const p of s.spec.ports ?? []) {
      if (p.publish !== undefined) out.set(`${p.protocol}/${p.publish}`, `${s.metadata.namespace}/${s.metadata.name}`);
    }
  }
  return out;
}

/** The issues of one service's ports against the others' (pure, for tests). */
export function publishConflicts(svc: Service, others: readonly Service[]): ValidationIssue[] {
  const taken = publishedBy(others, svc.metadata);
  const mine = new Map<string, number>();
  const issues: ValidationIssue[] = [];
  (svc.spec.ports ?? []).forEach((p: ServicePort, i) => {
    if (p.publish === undefined) return;
    const k = `${p.protocol}/${p.publish}`;
    const holder = taken.get(k);
    const path = `spec.ports[${i}].publish`;
    if (holder !== undefined) {
      issues.push({ path, expected: 'a port no other service publishes', found: `${p.publish}/${p.protocol} (published by service ${holder})` });
    } else if (mine.has(k)) {
      issues.push({ path, expected: `a port not published twice by this service (ports[${mine.get(k) as number}] publishes it)`, found: `${p.publish}/${p.protocol}` });
    }
    mine.set(k, i);
  });
  return issues;
}

/** Refuses a Service whose published port another Service holds; see the file comment. */
export class PublishPortAdmission implements AdmissionHook {
  readonly name = 'publish-ports';

  constructor(private readonly store: Pick<Store, 'list'>) {}

  async admit(req: AdmissionRequest): Promise<void> {
    if (req.object.kind !== 'Service' || (req.operation !== 'create' && req.operation !== 'update')) return;
    const svc = req.object as Service;
    if (!(svc.spec.ports ?? []).some((p) => p.publish !== undefined)) return;
    const { items } = await this.store.list('Service');
    const issues = publishConflicts(svc, items as Service[]);
    if (issues.length > 0) throw new ValidationError(issues);
  }
}
