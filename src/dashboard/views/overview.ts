/**
 * The overview: counts, rollouts in progress, nodes with usage bars, services with
 * ready/desired, and the current tasks (the benchmark measures the time to this list).
 */
import { html } from 'htm/preact';
import type { VNode } from 'preact';
import type { ClusterData } from '../cluster.js';
import { currentTasks, nodeRows, rolloutsInProgress, serviceRows, stateCounts } from '../summary.js';
import { ErrorNote, serviceHref, StateBadge, useCluster } from './common.js';
import { NodesTable, ServicesTable, TasksTable } from './tables.js';

/** Rows of the overview's task table at most (a browser table of 10,000 rows is slow to draw). */
const MAX_TASK_ROWS = 2_000;

/** See the file comment. */
export function Overview(props: { cluster: ClusterData }): VNode {
  const c = props.cluster;
  useCluster(c);
  const tasks = c.tasks.items.values();
  const current = currentTasks(tasks);
  const services = serviceRows(c.services.items.values(), tasks);
  const nodes = nodeRows(c.nodes.items.values(), tasks, c.usage);
  const rollouts = rolloutsInProgress(services);
  const counts = stateCounts(current);
  const loaded = c.tasks.state !== 'loading' && c.services.state !== 'loading' && c.nodes.state !== 'loading';
  return html`<main class="overview" data-loaded=${loaded} data-tasks=${current.length}>
    <p class="counts">
      <span><strong>${nodes.filter((n) => n.state === 'ready').length}</strong> / ${nodes.length} nodes ready</span>
      <span><strong>${services.length}</strong> services</span>
      <span><strong>${counts.running ?? 0}</strong> / ${current.length} tasks running</span>
    </p>
    ${rollouts.length > 0 ? html`<section class="rollouts"><h2>Rollouts in progress</h2><ul>${rollouts.map((r) => html`<li key=${`${r.namespace}/${r.name}`}>
      <a href=${serviceHref(r.namespace, r.name)}>${r.name}</a> revision ${r.rollout?.revision}: <${StateBadge} state=${r.rollout?.state ?? ''} /> ${r.rollout?.message}</li>`)}</ul></section>` : null}
    <section><h2>Nodes</h2>
      <${ErrorNote} error=${c.nodes.error} what="nodes" />
      <${ErrorNote} error=${c.usageError} what="node usage" />
      <${NodesTable} rows=${nodes} />
    </section>
    <section><h2>Services</h2>
      <${ErrorNote} error=${c.services.error} what="services" />
      <${ServicesTable} rows=${services} />
    </section>
    <section><h2>Tasks</h2>
      <${ErrorNote} error=${c.tasks.error} what="tasks" />
      <${TasksTable} tasks=${current.length > MAX_TASK_ROWS ? current.slice(0, MAX_TASK_ROWS) : current} nowMs=${Date.now()} />
      ${current.length > MAX_TASK_ROWS ? html`<p class="muted">The first ${MAX_TASK_ROWS} of ${current.length} tasks; a service's page lists all of its own.</p>` : null}
    </section>
  </main>`;
}
