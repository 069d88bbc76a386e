/**
 * The tables more than one page shows: tasks (overview, node and service pages), nodes with
 * usage bars, services with ready/desired. Rows carry data-* attributes (name, state) so the
 * e2e test and the benchmark can count them.
 */
import { html } from 'htm/preact';
import { Component, type VNode } from 'preact';
import type { Task } from '../../api/kinds.js';
import type { TaskUsage } from '../../api/metrics.js';
import { formatAge, formatBytes, formatCores, formatPercent } from '../format.js';
import type { NodeRow, ServiceRow } from '../summary.js';
import { Bar, nodeHref, serviceHref, StateBadge } from './common.js';

/** Tasks, with their usage when given. */
export function TasksTable(props: { tasks: Task[]; nowMs: number; usage?: Map<string, TaskUsage>; showService?: boolean; showNode?: boolean }): VNode {
  const { tasks, nowMs, usage } = props;
  if (tasks.length === 0) return html`<p class="empty">No tasks.</p>`;
  const showService = props.showService !== false;
  const showNode = props.showNode !== false;
  return html`<table class="tasks">
    <thead><tr>
      <th>Task</th>${showService ? html`<th>Service</th>` : null}${showNode ? html`<th>Node</th>` : null}
      <th>State</th><th>Ready</th><th>IP</th><th>Age</th>${usage !== undefined ? html`<th>CPU</th><th>Memory</th>` : null}<th>Message</th>
    </tr></thead>
    <tbody>${tasks.map((t) => html`<${TaskRow} key=${t.metadata.uid} task=${t} age=${formatAge(t.metadata.creationTimestamp, nowMs)}
      withUsage=${usage !== undefined} usage=${usage?.get(t.metadata.name)} showService=${showService} showNode=${showNode} />`)}</tbody>
  </table>`;
}

interface TaskRowProps {
  task: Task;
  age: string;
  withUsage: boolean;
  usage: TaskUsage | undefined;
  showService: boolean;
  showNode: boolean;
}

/**
 * One task row, rendered again only when its task object (a watch event replaces it), its age
 * text or its usage changed: at 1,000 tasks a Node heartbeat must not re-render every row.
 */
class TaskRow extends Component<TaskRowProps> {
  override shouldComponentUpdate(next: TaskRowProps): boolean {
    const p = this.props;
    return next.task !== p.task || next.age !== p.age || next.usage !== p.usage || next.withUsage !== p.withUsage || next.showService !== p.showService || next.showNode !== p.showNode;
  }

  override render(): VNode {
    const { task: t, age, usage: u } = this.props;
    const state = t.status?.state ?? 'new';
    return html`<tr data-task=${t.metadata.name} data-state=${state}>
      <td class="mono">${t.metadata.name}</td>
      ${this.props.showService ? html`<td><a href=${serviceHref(t.metadata.namespace, t.spec.service)}>${t.spec.service}</a></td>` : null}
      ${this.props.showNode ? html`<td>${t.spec.node !== '' ? html`<a href=${nodeHref(t.spec.node)}>${t.spec.node}</a>` : '-'}</td>` : null}
      <td><${StateBadge} state=${state} />${t.spec.desiredState === 'shutdown' && state === 'running' ? html` <span class="muted">stopping</span>` : null}</td>
      <td>${t.status?.ready === true ? 'yes' : 'no'}</td>
      <td class="mono">${t.status?.ip ?? '-'}</td>
      <td>${age}</td>
      ${this.props.withUsage ? html`<td>${u !== undefined ? formatCores(u.cpuCores) : '-'}</td><td>${u !== undefined ? formatBytes(u.memoryBytes) : '-'}</td>` : null}
      <td class="message">${t.status?.message ?? ''}</td>
    </tr>`;
  }
}

/** Nodes with state and CPU/memory usage bars. */
export function NodesTable(props: { rows: NodeRow[] }): VNode {
  if (props.rows.length === 0) return html`<p class="empty">No nodes.</p>`;
  return html`<table class="nodes">
    <thead><tr><th>Node</th><th>State</th><th>Availability</th><th>Tasks</th><th>CPU</th><th>Memory</th><th>Reserved CPU / memory</th></tr></thead>
    <tbody>${props.rows.map((n) => html`<tr key=${n.name} data-node=${n.name} data-state=${n.state}>
      <td><a href=${nodeHref(n.name)}>${n.name}</a></td>
      <td><${StateBadge} state=${n.state} /></td>
      <td>${n.availability}</td>
      <td>${n.tasks}</td>
      <td><${Bar} percent=${n.cpuPercent} label=${n.cpuPercent !== undefined ? `${formatPercent(n.cpuPercent)} of ${n.cores ?? '?'} cores` : 'no figures yet'} /></td>
      <td><${Bar} percent=${n.memoryPercent} label=${n.memoryPercent !== undefined ? `${formatBytes(n.memoryBytes)} / ${formatBytes(n.memoryTotalBytes)}` : 'no figures yet'} /></td>
      <td class="muted">${formatPercent(n.cpuReservedPercent)} / ${formatPercent(n.memoryReservedPercent)}</td>
    </tr>`)}</tbody>
  </table>`;
}

/** Services with ready/desired. */
export function ServicesTable(props: { rows: ServiceRow[] }): VNode {
  if (props.rows.length === 0) return html`<p class="empty">No services.</p>`;
  return html`<table class="services">
    <thead><tr><th>Service</th><th>Namespace</th><th>Ready / desired</th><th>Running</th><th>Image</th><th>Rollout</th></tr></thead>
    <tbody>${props.rows.map((s) => {
      const ok = s.ready === s.desired;
      return html`<tr key=${`${s.namespace}/${s.name}`} data-service=${s.name} data-ready=${s.ready} data-desired=${s.desired}>
        <td><a href=${serviceHref(s.namespace, s.name)}>${s.name}</a></td>
        <td>${s.namespace}</td>
        <td class=${ok ? 'ok' : 'warn'}>${s.ready} / ${s.desired}</td>
        <td>${s.running}</td>
        <td class="mono">${s.image}</td>
        <td>${s.rollout !== undefined ? html`<${StateBadge} state=${s.rollout.state} /> ${s.rollout.message}` : html`<span class="muted">-</span>`}</td>
      </tr>`;
    })}</tbody>
  </table>`;
}
