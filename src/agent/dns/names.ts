/**
 * Which cluster name a DNS question asks for, decided purely (STYLE.md 5). The forms:
 *
 *   SERVICE | SERVICE.NAMESPACE | SERVICE.NAMESPACE.svc         -> the service's VIP
 *   tasks.SERVICE | tasks.SERVICE.NAMESPACE | tasks.SERVICE.NAMESPACE.svc -> its ready task addresses
 *
 * SERVICE may be `NAME-preview` (a blue-green service's preview: its previewVip, and the
 * preview revision's tasks): the directory knows it like any service (InformerDirectory
 * follows the endpoints view), so this table has no special case for it.
 *
 * A bare SERVICE is looked up in the namespace of the task that asks (found by its source
 * address), `default` otherwise. Names under `.svc` are ours: unknown ones are NXDOMAIN. Other
 * names are ours only when they name an existing service (`web`, `web.shop` when namespace
 * `shop` has services); everything else is forwarded to the node's own resolver.
 * Until a service has a VIP, its name answers with its ready task addresses instead.
 */

/** What the DNS server reads about services (a cache of the store). */
export interface ServiceDirectory {
  /** The service, or undefined when it does not exist. */
  service(namespace: string, name: string): ServiceRecord | undefined;
  /** True when the namespace has at least one service. */
  hasNamespace(namespace: string): boolean;
  /** The namespace of the task with this address, if one has it. */
  namespaceOf(address: string): string | undefined;
}

/** One service as DNS sees it. */
export interface ServiceRecord {
  vip?: string;
  /** Addresses of its ready, running tasks (sorted). */
  ready: string[];
}

/** The answer to an A question. */
export type NameAnswer =
  | { type: 'cluster'; rcode: 'NOERROR' | 'NXDOMAIN'; addresses: string[] }
  | { type: 'forward' };

/** The namespace bare names resolve in when the asking address is no task's. */
export const DEFAULT_NAMESPACE = 'default';

/** Lower-case labels of a name, without the root dot. */
export function labelsOf(qname: string): string[] {
  return qname.toLowerCase().replace(/\.$/, '').split('.').filter((l) => l !== '');
}

/** See the file comment. `client` is the source address of the question. */
export function resolveName(qname: string, client: string, dir: ServiceDirectory): NameAnswer {
  const labels = labelsOf(qname);
  const tasks = labels[0] === 'tasks' && labels.length > 1;
  const rest = tasks ? labels.slice(1) : labels;
  const ours = rest[rest.length - 1] === 'svc';
  let namespace: string | undefined;
  let name: string | undefined;
  if (rest.length === 1) {
    name = rest[0];
    namespace = dir.namespaceOf(client) ?? DEFAULT_NAMESPACE;
  } else if (rest.length === 2 && !ours) {
    name = rest[0];
    namespace = dir.hasNamespace(rest[1] as string) ? rest[1] : undefined;
  } else if (rest.length === 3 && ours) {
    name = rest[0];
    namespace = rest[1];
  }
  const svc = name !== undefined && namespace !== undefined ? dir.service(namespace, name) : undefined;
  if (svc === undefined) return ours ? { type: 'cluster', rcode: 'NXDOMAIN', addresses: [] } : { type: 'forward' };
  if (tasks) return { type: 'cluster', rcode: 'NOERROR', addresses: svc.ready };
  return { type: 'cluster', rcode: 'NOERROR', addresses: svc.vip !== undefined ? [svc.vip] : svc.ready };
}
