/**
 * A service: ready/desired, its rollout, its tasks (with their usage), CPU and memory over the
 * last hour (its tasks' points summed, from the server's metrics ring), its events (a watch of
 * the namespace's Events, kept while the page is open) and its logs, following.
 */
import { html } from 'htm/preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { VNode } from 'preact';
import type { EventObject } from '../../api/kinds.js';
import type { TaskUsage, UsagePoint } from '../../api/metrics.js';
import type { ApiError } from '../api.js';
import type { ClusterData } from '../cluster.js';
import { formatBytes, formatClock, formatCores } from '../format.js';
import { LiveCollection } from '../live.js';
import { chartColumns, currentTasks, eventsFor, serviceRows } from '../summary.js';
import { Chart } from './chart.js';
import { ErrorNote, StateBadge, useCluster, usePoll } from './common.js';
import { Logs } from './logs.js';
import { TasksTable } from './tables.js';

/** See the file comment. */
export function ServicePage(props: { cluster: ClusterData; namespace: string; name: string }): VNode {
  const c = props.cluster;
  const { namespace, name } = props;
  useCluster(c);
  const q = `namespace=${encodeURIComponent(namespace)}&service=${encodeURIComponent(name)}`;
  const points = usePoll((signal) => c.api.get<{ items: UsagePoint[] }>(`/api/v1/metrics/points?${q}&sinceSeconds=3600`, signal), 10_000, [c, q]);
  const usage = usePoll((signal) => c.api.get<{ items: TaskUsage[] }>(`/api/v1/metrics/tasks?${q}`, signal), 10_000, [c, q]);
  const cpu = useMemo(() => chartColumns(points.data?.items ?? [], 'cpuCores'), [points.data]);
  const memory = useMemo(() => chartColumns(points.data?.items ?? [], 'memoryBytes'), [points.data]);
  const usageByTask = useMemo(() => new Map((usage.data?.items ?? []).map((u) => [u.task, u])), [usage.data]);
  const events = useEvents(c, namespace);

  const svc = c.services.items.get(namespace, name);
  if (svc === undefined) {
    return html`<main><h2>Service ${name}</h2><${ErrorNote} error=${c.services.error} what="services" />
      <p class="empty">${c.services.state === 'loading' ? 'Loading...' : `No service ${name} in namespace ${namespace} (or not visible to this token).`}</p></main>`;
  }
  const all = c.tasks.items.values().filter((t) => t.metadata.namespace === namespace && t.spec.service === name);
  const tasks = currentTasks(all);
  const [row] = serviceRows([svc], all);
  const rollout = svc.status?.rollout;
  const mine = eventsFor(events.items, namespace, name, new Set(all.map((t) => t.metadata.name))).slice(-50);
  return html`<main class="service-page" data-service=${name} data-ready=${row?.ready} data-desired=${row?.desired}>
    <h2>Service ${name} <span class="muted">${namespace}</span></h2>
    <dl class="facts">
      <dt>Ready / desired</dt><dd class=${row !== undefined && row.ready === row.desired ? 'ok' : 'warn'}>${row?.ready} / ${row?.desired} <span class="muted">(${row?.running} running)</span></dd>
      <dt>Mode</dt><dd>${svc.spec.mode}</dd>
      <dt>Image</dt><dd class="mono">${svc.spec.image}</dd>
      <dt>Ports</dt><dd>${svc.spec.ports.map((p) => `${p.port} -> ${p.targetPort ?? p.port}`).join(', ') || '-'}</dd>
      <dt>VIP</dt><dd class="mono">${svc.status?.vip ?? '-'}</dd>
      <dt>Revision</dt><dd>${svc.status?.revision ?? '-'}</dd>
      ${rollout !== undefined ? html`<dt>Rollout</dt><dd><${StateBadge} state=${rollout.state} /> revision ${rollout.revision}: ${rollout.message}</dd>` : null}
      ${svc.status?.autoscale !== undefined ? html`<dt>Autoscale</dt><dd>${svc.status.autoscale.desired}: ${svc.status.autoscale.reason}</dd>` : null}
    </dl>
    <section><h3>Tasks (${tasks.length})</h3>
      <${ErrorNote} error=${usage.error} what="task usage" />
      <${TasksTable} tasks=${tasks} nowMs=${Date.now()} usage=${usageByTask} showService=${false} />
    </section>
    <section class="usage"><h3>Usage over the last hour</h3>
      <${ErrorNote} error=${points.error} what="usage" />
      <div class="charts">
        <${Chart} title="CPU (cores)" data=${cpu} format=${formatCores} color="#2b6cb0" />
        <${Chart} title="Memory" data=${memory} format=${formatBytes} color="#2f855a" />
      </div>
    </section>
    <section class="events"><h3>Events</h3>
      <${ErrorNote} error=${events.error} what="events" />
      ${mine.length === 0 ? html`<p class="empty">No events.</p>` : html`<table><thead><tr><th>Last</th><th>Type</th><th>Reason</th><th>Object</th><th>Count</th><th>Message</th></tr></thead>
        <tbody>${mine.map((e) => html`<tr key=${e.metadata.uid} class=${e.spec.type === 'Warning' ? 'warn' : ''}>
          <td>${formatClock(e.spec.lastTimestamp)}</td><td>${e.spec.type}</td><td>${e.spec.reason}</td><td class="mono">${e.spec.involved.split('/').slice(-1)[0]}</td><td>${e.spec.count}</td><td>${e.spec.message}</td></tr>`)}</tbody></table>`}
    </section>
    <${Logs} api=${c.api} namespace=${namespace} service=${name} />
  </main>`;
}

/** The namespace's Events, live while the page is open. */
function useEvents(c: ClusterData, namespace: string): { items: EventObject[]; error?: ApiError } {
  const [live, setLive] = useState<LiveCollection<EventObject> | undefined>(undefined);
  useEffect(() => {
    const l = new LiveCollection<EventObject>(c.api, { kind: 'Event', plural: 'events', namespace, onChange: () => c.changed(), onUnauthorized: () => undefined }).start();
    setLive(l);
    return () => void l.stop();
  }, [c, namespace]);
  return { items: live?.items.values() ?? [], ...(live?.error !== undefined ? { error: live.error } : {}) };
}
