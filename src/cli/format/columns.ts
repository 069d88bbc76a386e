/**
 * The columns `flotilla get` shows per kind (table and wide). Objects come from the server and
 * may lack fields (status not written yet), so every accessor tolerates absence. Secret values
 * never appear: only how many keys a secret holds.
 */
import type { ApiObject, Kind } from '../../api/object.js';
import type { EventSpec, NodeSpec, NodeStatus, ServicePort, ServiceSpec, ServiceStatus, TaskSpec, TaskStatus, TrustPolicySpec, VolumeSpec, VolumeStatus } from '../../api/kinds.js';
import { conditionOf, RUNTIME_READY, runtimeNotReadyReason } from '../../api/node-conditions.js';
import { formatAge, formatLabels, orDash } from './table.js';
import { grantColumns, roleColumns, userColumns } from './access-columns.js';

/** One column: its header and how to render a cell. */
export interface Column {
  header: string;
  cell(o: ApiObject, now: Date): string;
}

type Loose<T> = { [K in keyof T]?: T[K] };

function specOf<S>(o: ApiObject): Loose<S> {
  return (o.spec ?? {}) as Loose<S>;
}
function statusOf<S>(o: ApiObject): Loose<S> {
  return (o.status ?? {}) as Loose<S>;
}

const name: Column = { header: 'NAME', cell: (o) => o.metadata.name };
const age: Column = { header: 'AGE', cell: (o, now) => formatAge(o.metadata.creationTimestamp, now) };

/** `80->8080/tcp`, with `:30080` when published on every node. */
export function formatPorts(ports: Loose<ServicePort>[] | undefined): string {
  if (ports === undefined || ports.length === 0) return '-';
  return ports
    .map((p) => {
      const target = p.targetPort ?? p.port;
      const publish = p.publish !== undefined ? `:${p.publish}` : '';
      return `${p.port}${publish}->${target}/${p.protocol ?? 'tcp'}`;
    })
    .join(',');
}

/** `ready/desired`: desired is spec.replicas, or for global services the tasks meant to run. */
export function formatReplicas(o: ApiObject): string {
  const spec = specOf<ServiceSpec>(o);
  const st = statusOf<ServiceStatus>(o);
  const desired = spec.mode === 'global' ? st.replicas ?? 0 : spec.replicas ?? 0;
  return `${st.readyReplicas ?? 0}/${desired}`;
}

const serviceColumns: Column[] = [
  name,
  { header: 'MODE', cell: (o) => orDash(specOf<ServiceSpec>(o).mode) },
  { header: 'REPLICAS', cell: formatReplicas },
  { header: 'IMAGE', cell: (o) => orDash(specOf<ServiceSpec>(o).image) },
  { header: 'PORTS', cell: (o) => formatPorts(specOf<ServiceSpec>(o).ports) },
  age,
];

const taskColumns: Column[] = [
  name,
  { header: 'SERVICE', cell: (o) => orDash(specOf<TaskSpec>(o).service) },
  { header: 'NODE', cell: (o) => orDash(specOf<TaskSpec>(o).node) },
  { header: 'STATE', cell: (o) => orDash(statusOf<TaskStatus>(o).state) },
  { header: 'DESIRED', cell: (o) => orDash(statusOf<TaskStatus>(o).desiredState ?? specOf<TaskSpec>(o).desiredState) },
  { header: 'READY', cell: (o) => (statusOf<TaskStatus>(o).ready === true ? 'yes' : 'no') },
  age,
];

const taskWide: Column[] = [
  { header: 'IP', cell: (o) => orDash(statusOf<TaskStatus>(o).ip) },
  { header: 'PID', cell: (o) => orDash(statusOf<TaskStatus>(o).pid) },
  { header: 'MESSAGE', cell: (o) => orDash(statusOf<TaskStatus>(o).message) },
];

const nodeColumns: Column[] = [
  name,
  { header: 'STATE', cell: (o) => orDash(statusOf<NodeStatus>(o).state) },
  { header: 'RUNTIME', cell: (o) => formatRuntimeReady(o) },
  { header: 'AVAILABILITY', cell: (o) => orDash(specOf<NodeSpec>(o).availability) },
  { header: 'ROLE', cell: (o) => orDash(specOf<NodeSpec>(o).role) },
  { header: 'CPU', cell: (o) => orDash(statusOf<NodeStatus>(o).allocatable?.cpu) },
  { header: 'MEMORY', cell: (o) => orDash(statusOf<NodeStatus>(o).allocatable?.memory) },
  { header: 'LABELS', cell: (o) => formatLabels(o.metadata.labels) },
  age,
];

/** `ready`, `NotReady(NoCgroupHierarchy)`, or `-` when the node reports no RuntimeReady condition. */
export function formatRuntimeReady(o: ApiObject): string {
  const c = conditionOf({ status: o.status as NodeStatus | undefined }, RUNTIME_READY);
  if (c === undefined) return '-';
  return c.status ? 'ready' : `NotReady(${runtimeNotReadyReason({ status: o.status as NodeStatus | undefined }) ?? ''})`;
}

const nodeWide: Column[] = [{ header: 'ADDRESS', cell: (o) => orDash(statusOf<NodeStatus>(o).address) }, { header: 'RECYCLE', cell: (o) => orDash(statusOf<NodeStatus>(o).recycle?.phase) }];

/** `task/web-1-abc` from `Task/default/web-1-abc`. */
export function formatInvolved(involved: string | undefined): string {
  if (involved === undefined || involved === '') return '-';
  const parts = involved.split('/');
  const kind = (parts[0] ?? '').toLowerCase();
  return `${kind}/${parts[parts.length - 1] ?? ''}`;
}

const eventColumns: Column[] = [
  { header: 'LAST', cell: (o, now) => formatAge(specOf<EventSpec>(o).lastTimestamp ?? o.metadata.creationTimestamp, now) },
  { header: 'TYPE', cell: (o) => orDash(specOf<EventSpec>(o).type) },
  { header: 'REASON', cell: (o) => orDash(specOf<EventSpec>(o).reason) },
  { header: 'OBJECT', cell: (o) => formatInvolved(specOf<EventSpec>(o).involved) },
  { header: 'MESSAGE', cell: (o) => eventMessage(o) },
];

function eventMessage(o: ApiObject): string {
  const s = specOf<EventSpec>(o);
  const count = s.count !== undefined && s.count > 1 ? ` (x${s.count})` : '';
  return `${orDash(s.message)}${count}`;
}

/** A Secret as the API answers it: key names and sizes (src/server/secrets/redact.ts), never values. */
const secretColumns: Column[] = [
  name,
  { header: 'KEYS', cell: (o) => orDash(secretKeys(o).map((k) => k.name).join(',')) },
  { header: 'SIZE', cell: (o) => `${secretKeys(o).reduce((n, k) => n + k.bytes, 0)}B` },
  age,
];

/** The key names and sizes of a (redacted) Secret. */
export function secretKeys(o: ApiObject): Array<{ name: string; bytes: number }> {
  const spec = specOf<{ keys: Array<{ name: string; bytes: number }>; data: Record<string, string> }>(o);
  if (spec.keys !== undefined) return spec.keys;
  return Object.entries(spec.data ?? {}).map(([k, v]) => ({ name: k, bytes: Buffer.from(v, 'base64').length }));
}

/** Keys only: a config's values never go to a table. */
const dataColumns: Column[] = [
  name,
  { header: 'DATA', cell: (o) => String(Object.keys(specOf<{ data: Record<string, string> }>(o).data ?? {}).length) },
  age,
];

/** A Volume's state: as written, else `bound` with a node and `unbound` without. */
export function volumeState(o: ApiObject): string {
  const st = statusOf<VolumeStatus>(o);
  return st.state ?? (st.node !== undefined && st.node !== '' ? 'bound' : 'unbound');
}

const volumeColumns: Column[] = [
  name,
  { header: 'DRIVER', cell: (o) => orDash(specOf<VolumeSpec>(o).driver) },
  { header: 'NODE', cell: (o) => orDash(statusOf<VolumeStatus>(o).node) },
  { header: 'STATE', cell: volumeState },
  age,
];

/** A TrustPolicy: enforced or reported, the registry allow-list, how many rules (keys are long PEM). */
const trustColumns: Column[] = [
  name,
  { header: 'ENFORCE', cell: (o) => String(specOf<TrustPolicySpec>(o).enforce ?? false) },
  { header: 'REGISTRIES', cell: (o) => orDash((specOf<TrustPolicySpec>(o).registries ?? []).join(',')) },
  { header: 'RULES', cell: (o) => String((specOf<TrustPolicySpec>(o).rules ?? []).length) },
  age,
];

const byKind: Partial<Record<Kind, { table: Column[]; wide: Column[] }>> = {
  Service: { table: serviceColumns, wide: [] },
  Task: { table: taskColumns, wide: taskWide },
  Node: { table: nodeColumns, wide: nodeWide },
  Event: { table: eventColumns, wide: [{ header: 'SOURCE', cell: (o) => orDash(specOf<EventSpec>(o).source) }] },
  Secret: { table: secretColumns, wide: [] },
  Config: { table: dataColumns, wide: [] },
  Volume: { table: volumeColumns, wide: [{ header: 'PATH', cell: (o) => orDash(statusOf<VolumeStatus>(o).path) }] },
  Grant: { table: grantColumns, wide: [] },
  User: { table: userColumns, wide: [] },
  Role: { table: roleColumns, wide: [] },
  TrustPolicy: { table: trustColumns, wide: [{ header: 'IMAGES', cell: (o) => orDash((specOf<TrustPolicySpec>(o).rules ?? []).map((r) => r.images).join(',')) }] },
};

/** Columns for a kind; `wide` adds the extra ones; `allNamespaces` puts NAMESPACE first. */
export function columnsFor(kind: Kind, opts: { wide: boolean; allNamespaces: boolean }): Column[] {
  const set = byKind[kind] ?? { table: [name, age], wide: [{ header: 'LABELS', cell: (o) => formatLabels(o.metadata.labels) }] };
  const cols = opts.wide ? [...set.table, ...set.wide] : [...set.table];
  if (opts.allNamespaces) cols.unshift({ header: 'NAMESPACE', cell: (o) => orDash(o.metadata.namespace) });
  return cols;
}

/** Sort order of a listing: events by time, everything else by namespace then name. */
export function sortForTable(kind: Kind, items: ApiObject[]): ApiObject[] {
  const copy = [...items];
  if (kind === 'Event') {
    const at = (o: ApiObject): string => specOf<EventSpec>(o).lastTimestamp ?? o.metadata.creationTimestamp ?? '';
    return copy.sort((a, b) => at(a).localeCompare(at(b)));
  }
  return copy.sort((a, b) => a.metadata.namespace.localeCompare(b.metadata.namespace) || a.metadata.name.localeCompare(b.metadata.name));
}
