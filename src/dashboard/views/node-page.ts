/** A node: its state, conditions, labels, capacity, usage (bars and charts over the hour) and its tasks. */
import { html } from 'htm/preact';
import { useMemo } from 'preact/hooks';
import type { VNode } from 'preact';
import type { UsagePoint } from '../../api/metrics.js';
import type { ClusterData } from '../cluster.js';
import { formatAge, formatBytes, formatCores } from '../format.js';
import { chartColumns, currentTasks, nodeRows } from '../summary.js';
import { Chart } from './chart.js';
import { Bar, ErrorNote, StateBadge, useCluster, usePoll } from './common.js';
import { TasksTable } from './tables.js';

/** See the file comment. */
export function NodePage(props: { cluster: ClusterData; name: string }): VNode {
  const c = props.cluster;
  useCluster(c);
  const points = usePoll((signal) => c.api.get<{ items: UsagePoint[] }>(`/api/v1/metrics/points?node=${encodeURIComponent(props.name)}&sinceSeconds=3600`, signal), 10_000, [c, props.name]);
  const cpu = useMemo(() => chartColumns(points.data?.items ?? [], 'cpuCores'), [points.data]);
  const memory = useMemo(() => chartColumns(points.data?.items ?? [], 'memoryBytes'), [points.data]);
  const node = c.nodes.items.get('', props.name);
  if (node === undefined) {
    return html`<main><h2>Node ${props.name}</h2><${ErrorNote} error=${c.nodes.error} what="nodes" />
      <p class="empty">${c.nodes.state === 'loading' ? 'Loading...' : 'No such node (or not visible to this token).'}</p></main>`;
  }
  const tasks = currentTasks(c.tasks.items.values().filter((t) => t.spec.node === props.name));
  const [row] = nodeRows([node], tasks, c.usage);
  const st = node.status;
  const now = Date.now();
  return html`<main class="node-page" data-node=${props.name}>
    <h2>Node ${props.name} <${StateBadge} state=${st?.state ?? 'unknown'} /></h2>
    <dl class="facts">
      <dt>Availability</dt><dd>${node.spec.availability}</dd>
      <dt>Role</dt><dd>${node.spec.role}</dd>
      <dt>Address</dt><dd class="mono">${st?.address ?? '-'}</dd>
      <dt>Heartbeat</dt><dd>${st?.heartbeat !== undefined ? `${formatAge(st.heartbeat, now)} ago` : '-'}</dd>
      <dt>Capacity</dt><dd>${st?.capacity.cpu ?? '?'} cores, ${st?.capacity.memory ?? '?'}</dd>
      <dt>Allocatable</dt><dd>${st?.allocatable.cpu ?? '?'} cores, ${st?.allocatable.memory ?? '?'}</dd>
      <dt>Labels</dt><dd>${Object.entries(node.metadata.labels).map(([k, v]) => html`<span class="label" key=${k}>${k}=${v}</span> `)}</dd>
      <dt>Agent</dt><dd>${st?.agentVersion ?? '-'}</dd>
    </dl>
    ${(st?.conditions ?? []).length > 0 ? html`<table class="conditions"><thead><tr><th>Condition</th><th>Status</th><th>Reason</th><th>Message</th></tr></thead>
      <tbody>${(st?.conditions ?? []).map((k) => html`<tr key=${k.type}><td>${k.type}</td><td>${String(k.status)}</td><td>${k.reason ?? ''}</td><td>${k.message ?? ''}</td></tr>`)}</tbody></table>` : null}
    <section class="usage"><h3>Usage</h3>
      <${ErrorNote} error=${c.usageError} what="usage" />
      <div class="bars">
        <div>CPU <${Bar} percent=${row?.cpuPercent} label=${row?.cpuCores !== undefined ? `${formatCores(row.cpuCores)} of ${row.cores ?? '?'} cores` : 'no figures yet'} /></div>
        <div>Memory <${Bar} percent=${row?.memoryPercent} label=${row?.memoryBytes !== undefined ? `${formatBytes(row.memoryBytes)} / ${formatBytes(row.memoryTotalBytes)}` : 'no figures yet'} /></div>
      </div>
      <${ErrorNote} error=${points.error} what="usage over the last hour" />
      <div class="charts">
        <${Chart} title="CPU (cores)" data=${cpu} format=${formatCores} color="#2b6cb0" />
        <${Chart} title="Memory" data=${memory} format=${formatBytes} color="#2f855a" />
      </div>
    </section>
    <section><h3>Tasks on this node (${tasks.length})</h3>
      <${TasksTable} tasks=${tasks} nowMs=${now} showNode=${false} />
    </section>
  </main>`;
}
