/**
 * Chaos fault 8 (issue 13, docs/reliability.md): agents whose clocks are off. Two real agents
 * run under faketime (libfaketime, LD_PRELOAD: Node's Date and timers see the shifted clock),
 * node1 10 minutes ahead and node2 10 minutes behind the server. The promise: both join (the
 * certificates they check are back-dated an hour), say at start that their clock is off, run
 * tasks whose status times are the server's, and stay ready over many heartbeats (the server
 * judges liveness and task times by its own receive time, never by the agent's timestamps). An agent 2 hours behind is refused with a reason
 * that names the clock.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Cluster, namespacesLeft } from '../helpers/cluster.js';
import { reportCounts, rounds } from '../helpers/chaos.js';

const MAIN = path.resolve(import.meta.dirname, '../../src/cli/main.ts');
const SKEW: Record<number, string> = { 1: '+10m', 2: '-10m' };

interface NodeJson {
  metadata: { name: string };
  status?: { state?: string; heartbeat?: string };
}

describe('chaos: agents with a clock 10 minutes off', { timeout: 300_000 }, () => {
  let c: Cluster;

  before(async () => {
    c = await Cluster.start({ nodes: 2, agentPrefix: (i) => ['faketime', '-f', SKEW[i] ?? '+0'] });
  });

  after(async () => {
    const names = c?.namespaceNames() ?? [];
    if (c !== undefined) {
      await c.removeLoadBalancers();
      await c.stop();
    }
    assert.deepEqual(namespacesLeft(names), []);
  });

  it('join, warn about their clock, run tasks and stay ready over many heartbeats', async () => {
    for (const [i, word] of [[1, 'ahead of'], [2, 'behind']] as const) {
      const log = readFileSync(path.join(c.dir, 'logs', `node${i}.log`), 'utf8');
      assert.match(log, new RegExp(`clock is (9m5\\ds|10m\\d+s) ${word} the clock of the server`), `node${i} warns: ${log.slice(0, 2000)}`);
    }
    const image = (await c.buildImage('chaos/clock', '1')).ref;
    await c.apply(`kind: Service
metadata: {name: skewed}
spec:
  image: ${image}
  replicas: 2
  command: ["sleep", "1000"]
  placement: {spread: ["node.labels.node"]}
`);
    const running = await c.runningTasks('skewed', 2);
    assert.deepEqual(running.map((t) => t.spec.node).sort(), ['node1', 'node2']);
    // Task status times are the server's receive times, not the skewed agents' clocks.
    for (const t of await c.list<{ spec: { node: string }; status?: { timestamp?: string } }>('tasks', ['-l', 'service=skewed'])) {
      const offMs = Math.abs(Date.parse(t.status?.timestamp ?? '') - Date.now());
      assert.ok(offMs < 120_000, `task status time of ${t.spec.node} is ${offMs} ms off the server's clock`);
    }

    // Heartbeats every 2 s: sample both nodes for rounds() seconds; not one sample may be not ready.
    const seconds = rounds(20, 120);
    const deadline = Date.now() + seconds * 1000;
    let samples = 0;
    let notReady = 0;
    const beats = new Map<string, Set<string>>();
    while (Date.now() < deadline) {
      for (const n of await c.list<NodeJson>('nodes')) {
        samples++;
        if (n.status?.state !== 'ready') notReady++;
        const set = beats.get(n.metadata.name) ?? new Set<string>();
        set.add(n.status?.heartbeat ?? '');
        beats.set(n.metadata.name, set);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.equal(notReady, 0, `${notReady} of ${samples} samples not ready`);
    for (const [name, set] of beats) assert.ok(set.size >= 2, `${name}: its status heartbeat moved (${[...set].join(', ')})`);
    const still = await c.runningTasks('skewed', 2);
    assert.deepEqual(still.map((t) => t.metadata.name).sort(), running.map((t) => t.metadata.name).sort(), 'no task was replaced');
    reportCounts('clock-skew', { 'skew-s': '+600/-600', 'seconds-watched': seconds, 'heartbeats-per-node': Math.floor(seconds / 2), samples, 'not-ready': notReady, 'tasks-replaced': 0 });
  });

  it('refuses an agent 2 hours behind with a reason that names the clock', async () => {
    const token = / --token (\S+)/.exec(c.joinCommand)?.[1] ?? '';
    assert.notEqual(token, '');
    const r = await c.exec('node2', ['faketime', '-f', '-2h', process.execPath, '--import', 'tsx', MAIN, 'agent', '--server', c.serverUrl, '--token', token,
      '--name', 'late', '--data-dir', path.join(c.dir, 'late'), '--address', c.node(2).address], 60_000);
    assert.notEqual(r.code, 0, `the agent must not start: ${r.stdout}`);
    assert.match(r.stderr, /clock is (119|120)m\d+s behind/);
    assert.match(r.stderr, /certificate is not yet valid by this machine's clock .*is the clock wrong/);
    reportCounts('clock-skew-refused', { 'skew-s': -7200, refused: 1 });
  });
});
