/**
 * Weighted traffic through the real kernel: Services and Tasks -> the endpoints view ->
 * ServiceLoadBalancer -> `nft -f` inside a network namespace this test makes (never the
 * host's), with three tiny HTTP servers on addresses of that namespace's loopback, and 500
 * fresh connections to the VIP per case from inside it:
 *   canary at 20%            -> the canary backend answers 10-30%, both stable backends the rest
 *   canary group not ready   -> every call answered by stable
 *   blue-green               -> the previewVip answers only from the preview backend, the VIP only from the active ones
 * The namespace (with its rules and routes) and the server process go in `after`, also on failure.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RolloutStatus, Service, ServiceStatus, Task } from '../../../src/api/kinds.js';
import { ServiceLoadBalancer, type EndpointsSource } from '../../../src/agent/lb/balancer.js';
import { endpointsView, type ServiceEndpoints } from '../../../src/controllers/endpoints/endpoints.js';
import { NodeNamespace } from '../../helpers/netns.js';
import { service, task } from '../../controllers/fixtures.js';

const STABLE = ['10.77.0.2', '10.77.0.3'];
const CANARY = '10.77.0.4';
const VIP = '10.96.0.10';
const PREVIEW_VIP = '10.96.0.11';
const CALLS = 500;

/** Answers every request with the address it was reached on; one server per address given. */
const SERVER = `
const http = require('node:http');
for (const a of process.argv.slice(1)) http.createServer((q, r) => r.end(a)).listen(8080, a);
`;

/**
 * argv: target port calls. Waits (bounded) until every backend answers, then opens \`calls\`
 * fresh connections to the target one after another; prints {answer: count} as JSON.
 */
const CLIENT = `
const http = require('node:http');
const [target, port, calls, ...backends] = process.argv.slice(1);
const get = (host, p) => new Promise((resolve) => {
  const q = http.get({ host, port: p, path: '/', agent: false, timeout: 2000 }, (r) => {
    let b = ''; r.on('data', (d) => { b += d; }); r.on('end', () => resolve(b));
  });
  q.on('timeout', () => q.destroy(new Error('timeout')));
  q.on('error', (e) => resolve('error:' + e.message));
});
(async () => {
  const end = Date.now() + 10000;
  for (const b of backends) while ((await get(b, 8080)) !== b) {
    if (Date.now() > end) { console.log(JSON.stringify({ 'error:backend not up': b })); return; }
    await new Promise((r) => setTimeout(r, 50));
  }
  const counts = {};
  for (let i = 0; i < Number(calls); i++) { const a = await get(target, Number(port)); counts[a] = (counts[a] ?? 0) + 1; }
  console.log(JSON.stringify(counts));
})();
`;

/** The view of one service and its tasks, recomputed when the test changes them. */
class ViewSource implements EndpointsSource {
  private services: Service[] = [];
  private tasks: Task[] = [];
  private readonly listeners = new Set<() => void>();
  view(): Map<string, ServiceEndpoints> { return endpointsView(this.services, this.tasks); }
  onChange(fn: () => void): () => void { this.listeners.add(fn); return () => this.listeners.delete(fn); }
  set(services: Service[], tasks: Task[]): void {
    this.services = services;
    this.tasks = tasks;
    for (const l of this.listeners) l();
  }
}

function rollout(strategy: RolloutStatus['strategy'], state: RolloutStatus['state'], extra: Partial<RolloutStatus> = {}): RolloutStatus {
  const at = new Date().toISOString();
  return { strategy, state, revision: 2, from: 1, since: at, failuresSince: at, startedAt: at, message: '', ...extra };
}

function web(status: ServiceStatus): Service {
  const s = service('web', { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'tcp' }] });
  s.status = { vip: VIP, revision: 1, ...status };
  return s;
}

/** Two stable tasks and one of revision 2 on the namespace's addresses. */
function tasksOf(svc: Service, canaryReady = true): Task[] {
  return [...STABLE.map((ip, i) => [ip, 1, true, i + 1] as const), [CANARY, 2, canaryReady, 3] as const].map(([ip, revision, ready, slot]) => {
    const t = task(svc, slot, 'running', { ready, node: 'n1', name: `web-${slot}` });
    t.status = { ...t.status!, ip };
    t.spec.revision = revision;
    return t;
  });
}

describe('weighted service traffic in a real network namespace', { timeout: 120_000 }, () => {
  let ns: NodeNamespace | undefined;
  let balancer: ServiceLoadBalancer | undefined;
  const source = new ViewSource();

  after(async () => {
    await balancer?.stop();
    await ns?.stop();
  });

  /** CALLS connections to `target`:80 from inside the namespace: answers by backend. */
  async function calls(target: string): Promise<Record<string, number>> {
    const r = await (ns as NodeNamespace).run([process.execPath, '-e', CLIENT, target, '80', String(CALLS), ...STABLE, CANARY], 60_000);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, number>;
  }

  async function apply(services: Service[], tasks: Task[]): Promise<void> {
    const before = balancer?.lastApplied();
    source.set(services, tasks);
    await (balancer as ServiceLoadBalancer).settled();
    assert.notEqual(balancer?.lastApplied(), before, 'a new rule set was applied');
  }

  before(async () => {
    ns = await NodeNamespace.create('lbw');
    for (const ip of [...STABLE, CANARY]) {
      const r = await ns.run(['ip', 'addr', 'add', `${ip}/32`, 'dev', 'lo']);
      assert.equal(r.code, 0, r.stderr);
    }
    ns.spawn([process.execPath, '-e', SERVER, ...STABLE, CANARY]);
    assert.deepEqual(ns.prefix.slice(0, 3), ['ip', 'netns', 'exec'], 'nft and ip run inside the test namespace only');
    balancer = new ServiceLoadBalancer({ source, execPrefix: ns.prefix, serviceCidr: '10.96.0.0/16', debounceMs: 1 });
    await balancer.start();
  });

  it('canary at 20%: the canary answers 10-30% of new connections, stable round-robins the rest', async (t) => {
    const svc = web({ rollout: rollout('canary', 'paused', { weight: 20 }) });
    await apply([svc], tasksOf(svc));
    assert.match(balancer?.lastApplied() ?? '', /numgen random mod 100 vmap \{ 0-19 : goto svc-[0-9a-f]{12}-g1, 20-99 : goto svc-[0-9a-f]{12}-g0 \}/);
    const got = await calls(VIP);
    t.diagnostic(`answers: ${JSON.stringify(got)}`);
    const canary = got[CANARY] ?? 0;
    assert.equal(Object.values(got).reduce((a, b) => a + b, 0), CALLS, JSON.stringify(got));
    assert.ok(canary >= CALLS * 0.1 && canary <= CALLS * 0.3, `canary answered ${canary}/${CALLS}: ${JSON.stringify(got)}`);
    for (const ip of STABLE) assert.ok((got[ip] ?? 0) > CALLS * 0.25, `stable ${ip}: ${JSON.stringify(got)}`);
  });

  it('canary group without a ready task: every call goes to stable', async () => {
    const svc = web({ rollout: rollout('canary', 'paused', { weight: 20 }) });
    await apply([svc], tasksOf(svc, false));
    const got = await calls(VIP);
    assert.equal((got[STABLE[0] as string] ?? 0) + (got[STABLE[1] as string] ?? 0), CALLS, JSON.stringify(got));
  });

  it('blue-green: the previewVip answers only from the preview backend, the VIP only from the active ones', async () => {
    const svc = web({ previewVip: PREVIEW_VIP, rollout: rollout('blue-green', 'waiting-promotion') });
    await apply([svc], tasksOf(svc));
    assert.deepEqual(await calls(PREVIEW_VIP), { [CANARY]: CALLS });
    const active = await calls(VIP);
    assert.equal((active[STABLE[0] as string] ?? 0) + (active[STABLE[1] as string] ?? 0), CALLS, JSON.stringify(active));
  });
});
