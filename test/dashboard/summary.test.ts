/** What the pages derive from the live objects (src/dashboard/summary.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EventObject, NodeObject, Service, Task } from '../../src/api/kinds.js';
import { chartColumns, currentTasks, eventsFor, nodeRows, rolloutsInProgress, serviceRows, stateCounts } from '../../src/dashboard/summary.js';

const meta = (name: string, namespace = 'default') => ({ name, namespace, uid: `u-${name}`, labels: {}, revision: 1, generation: 1, creationTimestamp: '2026-12-04T00:00:00Z' });

function task(name: string, service: string, slot: number, state: string, opts: { node?: string; ready?: boolean; desired?: 'running' | 'shutdown'; cpu?: string; memory?: string } = {}): Task {
  return {
    kind: 'Task', metadata: meta(name),
    spec: { service, serviceGeneration: 1, slot, node: opts.node ?? 'n1', image: 'img', desiredState: opts.desired ?? 'running', template: { resources: { requests: { cpu: opts.cpu, memory: opts.memory }, limits: {} } } as Task['spec']['template'] },
    status: { state, desiredState: opts.desired ?? 'running', ready: opts.ready ?? false, timestamp: '2026-12-04T00:00:00Z' } as Task['status'],
  };
}

function service(name: string, replicas: number, rollout?: { state: string; message: string }): Service {
  return {
    kind: 'Service', metadata: meta(name),
    spec: { mode: 'replicated', replicas, image: `${name}:1` } as Service['spec'],
    status: rollout !== undefined ? { rollout: { ...rollout, revision: 2 } } as Service['status'] : {},
  };
}

describe('dashboard summary', () => {
  const tasks = [
    task('web-2-b', 'web', 2, 'running', { ready: true }),
    task('web-1-a', 'web', 1, 'running', { ready: true, cpu: '250m', memory: '64Mi' }),
    task('web-3-c', 'web', 3, 'starting'),
    task('web-1-old', 'web', 1, 'shutdown', { desired: 'shutdown' }),
    task('api-1-x', 'api', 1, 'running', { ready: false, node: 'n2' }),
  ];

  it('current tasks leave out ended history, ordered by service and slot', () => {
    assert.deepEqual(currentTasks(tasks).map((t) => t.metadata.name), ['api-1-x', 'web-1-a', 'web-2-b', 'web-3-c']);
    assert.deepEqual(stateCounts(currentTasks(tasks)), { running: 3, starting: 1 });
  });

  it('services: ready / desired from the tasks; rollouts in progress', () => {
    const rows = serviceRows([service('web', 3, { state: 'progressing', message: '1/3 new tasks ready' }), service('api', 2, { state: 'complete', message: 'done' })], tasks);
    assert.deepEqual(rows.map((r) => [r.name, r.ready, r.running, r.desired]), [['api', 0, 1, 2], ['web', 2, 2, 3]]);
    assert.deepEqual(rolloutsInProgress(rows).map((r) => [r.name, r.rollout?.state]), [['web', 'progressing']]);
  });

  it('nodes: tasks, usage and reservations', () => {
    const node = (name: string): NodeObject => ({ kind: 'Node', metadata: { ...meta(name, '') }, spec: { availability: 'active', role: 'worker', taints: [] }, status: { state: 'ready', capacity: { cpu: '2', memory: '1Gi' }, allocatable: { cpu: '2', memory: '1Gi' } } });
    const rows = nodeRows([node('n2'), node('n1')], tasks, [{ node: 'n1', time: '', cpuCores: 0.5, cores: 2, cpuPercent: 25, memoryBytes: 2 ** 29, memoryTotalBytes: 2 ** 30, memoryPercent: 50, diskUsedBytes: 0, diskTotalBytes: 0, netRxBytesPerSecond: 0, netTxBytesPerSecond: 0 }]);
    assert.equal(rows[0]?.name, 'n1');
    assert.equal(rows[0]?.tasks, 3);
    assert.equal(rows[0]?.cpuPercent, 25);
    assert.equal(rows[0]?.cpuReservedPercent, 12.5);
    assert.equal(rows[0]?.memoryReservedPercent, 6.25);
    assert.equal(rows[1]?.cpuPercent, undefined, 'no figures for n2 yet');
  });

  it('events of a service and its tasks, oldest first', () => {
    const ev = (involved: string, at: string): EventObject => ({ kind: 'Event', metadata: meta(`e-${involved}-${at}`), spec: { involved, type: 'Normal', reason: 'R', message: 'm', source: 's', count: 1, firstTimestamp: at, lastTimestamp: at } });
    const got = eventsFor([ev('Task/default/web-1-a', '2026-12-04T00:00:02Z'), ev('Service/default/web', '2026-12-04T00:00:01Z'), ev('Service/other/web', '2026-12-04T00:00:00Z'), ev('Task/default/api-1-x', '2026-12-04T00:00:00Z')], 'default', 'web', new Set(['web-1-a']));
    assert.deepEqual(got.map((e) => e.spec.involved), ['Service/default/web', 'Task/default/web-1-a']);
  });

  it('chart columns: seconds since the epoch, sorted, unparsable points dropped', () => {
    const cols = chartColumns([{ time: '2026-12-04T00:00:10Z', cpuCores: 0.2, memoryBytes: 20 }, { time: '2026-12-04T00:00:00Z', cpuCores: 0.1, memoryBytes: 10 }, { time: 'bad', cpuCores: 1, memoryBytes: 1 }], 'cpuCores');
    assert.deepEqual(cols, { times: [Date.parse('2026-12-04T00:00:00Z') / 1000, Date.parse('2026-12-04T00:00:10Z') / 1000], values: [0.1, 0.2] });
  });
});
