/**
 * Table tests of the minimal placement (pure): filters, room, spread, and the "why not" message.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeObject, Task } from '../../src/api/kinds.js';
import { placeTasks } from '../../src/controllers/placement/placement.js';
import { node, service, T0, task } from './fixtures.js';

const web = service('web', { replicas: 4, resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: {} } });
const pending = (n: number, svc = web): Task[] => Array.from({ length: n }, (_, i) => task(svc, i + 1, 'pending', { createdMs: T0 + i }));

function where(pendingTasks: Task[], nodes: NodeObject[], placed: Task[] = []): Array<string | undefined> {
  return placeTasks(pendingTasks, nodes, placed).map((r) => (r.node !== undefined ? r.node : `- ${r.message}`));
}

void describe('minimal placement', () => {
  void it('no nodes, or none ready: "no node is ready"', () => {
    assert.deepEqual(where(pending(1), []), ['- no node is ready']);
    assert.deepEqual(where(pending(1), [node('n1', { state: 'down' })]), ['- no node is ready']);
  });

  void it('spreads a service over nodes, fewest tasks of the service first', () => {
    assert.deepEqual(where(pending(4), [node('n1'), node('n2')]), ['n1', 'n2', 'n1', 'n2']);
    const onN1 = [task(web, 9, 'running', { node: 'n1' })];
    assert.deepEqual(where(pending(1), [node('n1'), node('n2')], onN1), ['n2']);
  });

  void it('counts requests of tasks desired running against allocatable', () => {
    // 1 cpu per node, 500m per task: two tasks per node.
    const nodes = [node('n1', { cpu: '1' }), node('n2', { cpu: '1' })];
    assert.deepEqual(where(pending(5), nodes), ['n1', 'n2', 'n1', 'n2', '- 0/2 nodes have room: 2 insufficient cpu']);
    // Ended tasks and tasks being shut down free their room.
    const gone = [task(web, 7, 'failed', { node: 'n1' }), task(web, 8, 'running', { node: 'n1', desired: 'shutdown' })];
    assert.deepEqual(where(pending(2), [node('n1', { cpu: '1' })], gone), ['n1', 'n1']);
  });

  void it('says how many nodes each filter rejected', () => {
    const svc = service('db', { placement: { constraints: ['node.labels.ssd == true'], spread: [], tolerations: [] }, resources: { requests: { memory: '2Gi' }, limits: {} } });
    const nodes = [
      node('n1', { state: 'down' }),
      node('n2', { availability: 'drain' }),
      node('n3', { labels: { ssd: 'false' } }),
      node('n4', { labels: { ssd: 'true' }, memory: '1Gi' }),
    ];
    assert.deepEqual(where(pending(1, svc), nodes), ['- 0/4 nodes have room: 1 did not match node.labels.ssd == true, 1 draining, 1 insufficient memory, 1 not ready']);
    nodes.push(node('n5', { labels: { ssd: 'true' } }));
    assert.deepEqual(where(pending(1, svc), nodes), ['n5']);
  });

  void it('is deterministic: oldest pending task first', () => {
    const tasks = pending(3).reverse();
    const a = placeTasks(tasks, [node('n1'), node('n2')], []).map((r) => `${r.task.spec.slot}@${r.node ?? '-'}`);
    assert.deepEqual(a, ['1@n1', '2@n2', '3@n1']);
  });
});
