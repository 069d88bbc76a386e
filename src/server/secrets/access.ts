/**
 * Need-to-know for nodes: a node may GET one Secret or Config only while a Task assigned to it
 * (spec.node, or a node of its hollow credential), desired running, names that source in its
 * template; or (Secrets only) while an Ingress names it for TLS: every node serves the ingress,
 * so every node needs its certificates. Registry credentials (docs/first-contact.md): a
 * task's `imagePullSecret`, or, for any task of the namespace, the namespace default
 * `registry-credentials` (the agent pulls with it when the task names none). Checked on every read against the store (Tasks and
 * Ingresses of the namespace), so a value stops being served as soon as nothing needs it.
 */
import type { Task } from '../../api/kinds.js';
import { DEFAULT_REGISTRY_SECRET } from '../../api/registry-credentials.js';
import type { IngressSpec } from '../../api/validate/ingress.js';
import type { Store } from '../../store/store.js';

/** Answers whether a node runs a task that uses a source; the BuiltinAuthorizer asks it. */
export interface SourceAccess {
  nodeUses(node: string, kind: 'Secret' | 'Config', namespace: string, name: string): Promise<boolean>;
}

/** True when the task is meant to run on `node` and lists the source (or pulls its image with it). */
export function taskUses(t: Task, nodeMatches: (taskNode: string) => boolean, kind: 'Secret' | 'Config', name: string): boolean {
  if (t.spec.desiredState !== 'running' || !nodeMatches(t.spec.node)) return false;
  if (kind === 'Secret' && (t.spec.template.imagePullSecret ?? DEFAULT_REGISTRY_SECRET) === name) return true;
  const refs = kind === 'Secret' ? t.spec.template.secrets ?? [] : t.spec.template.configs ?? [];
  return refs.some((r) => r.source === name);
}

/** SourceAccess reading Tasks from the store on every call. */
export class StoreSourceAccess implements SourceAccess {
  constructor(private readonly store: Pick<Store, 'list'>, private readonly sameNode: (identity: string, taskNode: string) => boolean) {}

  async nodeUses(node: string, kind: 'Secret' | 'Config', namespace: string, name: string): Promise<boolean> {
    const tasks = (await this.store.list('Task', { namespace })).items as Task[];
    if (tasks.some((t) => taskUses(t, (n) => n !== '' && this.sameNode(node, n), kind, name))) return true;
    if (kind !== 'Secret') return false;
    const ingresses = (await this.store.list('Ingress', { namespace })).items;
    return ingresses.some((i) => ingressUses(i.spec as IngressSpec, name));
  }
}

/** True when the Ingress takes the certificate of one of its TLS entries from Secret `name`. */
export function ingressUses(spec: IngressSpec, name: string): boolean {
  return (spec.tls ?? []).some((t) => t.secret === name);
}
