/**
 * Network policy benchmark, in network namespaces the bench makes and removes:
 *
 *   1. rule update: compute + `nft -f` of the node's policy table with 1,000 tasks and 50
 *      policies, one task address changed per update (a task replaced), N updates timed.
 *   2. VIP throughput with policies on vs off, in one run: wrk (new TCP connection per request,
 *      `Connection: close`, so every request passes the policy chain) from a "task" namespace
 *      through a "node" namespace (the load balancer's VIP DNAT + the policy table in forward)
 *      to a Node.js HTTP server in a second "task" namespace. Rounds interleave off/on; the
 *      median round of each is printed and their ratio. The served task is selected by the
 *      last of the 50 policies (the worst case: every policy's rule line is tried first).
 *
 *   client ns 10.77.1.2 ──veth──► node ns (ip_forward; nft: lb DNAT 10.96.0.10:80, netpol) ──veth──► server ns 10.77.2.2:8080
 *
 *   node --import tsx bench/netpol.ts [--updates 20] [--seconds 5] [--rounds 3] [--connections 16]
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { applyNftRuleset, commandRunner } from '../src/agent/lb/nft.js';
import { renderRuleset } from '../src/agent/lb/ruleset.js';
import { renderNetpolRemoval, renderNetpolRuleset, type NetpolInput } from '../src/agent/netpol/compute.js';
import type { PolicyTask } from '../src/agent/netpol/select.js';
import type { NetworkPolicy } from '../src/api/kinds.js';
import { NodeNamespace } from '../test/helpers/netns.js';

const { values } = parseArgs({ options: { updates: { type: 'string', default: '20' }, seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' }, connections: { type: 'string', default: '16' } } });
const VIP = '10.96.0.10';
const CLIENT = '10.77.1.2';
const SERVER = '10.77.2.2';
const SERVICES = 50;

function policy(name: string, spec: NetworkPolicy['spec']): NetworkPolicy {
  return { kind: 'NetworkPolicy', metadata: { name, namespace: 'default', uid: name, labels: {}, revision: 1, generation: 1, creationTimestamp: '' }, spec } as NetworkPolicy;
}

/** 1,000 tasks: 998 spread over 50 services (10.80.x.y), plus the bench's client and server. */
function input(generation: number): NetpolInput {
  const tasks: PolicyTask[] = [];
  for (let i = 0; i < 998; i++) {
    const moved = i === generation % 998 ? 100 : 0; // one task replaced per update
    tasks.push({ name: `t${i}`, namespace: 'default', service: `svc${i % SERVICES}`, node: `node${i % 10}`, ip: `10.80.${Math.floor(i / 250) + moved}.${(i % 250) + 2}`, labels: { tier: `t${i % 5}` } });
  }
  tasks.push({ name: 'client', namespace: 'default', service: 'client', node: 'node0', ip: CLIENT, labels: {} });
  tasks.push({ name: 'server', namespace: 'default', service: 'zz-bench', node: 'node0', ip: SERVER, labels: {} });
  const policies = Array.from({ length: SERVICES - 1 }, (_, i) => policy(`p${String(i).padStart(2, '0')}`, {
    selector: { services: [`svc${i}`] },
    ingress: [{ from: [{ service: `svc${(i + 1) % SERVICES}` }, { labels: { tier: `t${i % 5}` } }], ports: [8080] }],
    ...(i % 10 === 0 ? { egress: [{ to: [{ cidr: '10.80.0.0/16' }] }] } : {}),
  }));
  policies.push(policy('zz-bench', { selector: { services: ['zz-bench'] }, ingress: [{ from: [{ service: 'client' }], ports: [8080] }] }));
  return { policies, tasks, nodeAddresses: Array.from({ length: 10 }, (_, i) => `172.31.250.${11 + i}`) };
}

/** One `nft -f -` transaction on stdin in the namespace (the agent's own runner). */
async function nft(ns: NodeNamespace, text: string): Promise<void> {
  await applyNftRuleset(commandRunner(ns.prefix, 30_000), text);
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
}

async function link(node: NodeNamespace, task: NodeNamespace, dev: string, taskIp: string, gw: string): Promise<void> {
  for (const argv of [
    ['ip', 'link', 'add', dev, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', task.name],
    ['ip', 'addr', 'add', `${gw}/24`, 'dev', dev],
    ['ip', 'link', 'set', dev, 'up'],
  ]) if ((await node.run(argv)).code !== 0) throw new Error(argv.join(' '));
  for (const argv of [['ip', 'addr', 'add', `${taskIp}/24`, 'dev', 'eth0'], ['ip', 'link', 'set', 'eth0', 'up'], ['ip', 'route', 'add', 'default', 'via', gw]]) {
    if ((await task.run(argv)).code !== 0) throw new Error(argv.join(' '));
  }
}

async function wrk(client: NodeNamespace): Promise<number> {
  const r = await client.run(['wrk', '-t', '2', '-c', String(values.connections), '-d', `${values.seconds}s`, '--timeout', '5s', '-H', 'Connection: close', `http://${VIP}/`], (Number(values.seconds) + 30) * 1000);
  if (r.code !== 0) throw new Error(`wrk: ${r.stderr}`);
  const errs = /Socket errors: connect (\d+)/.exec(r.stdout);
  if (errs !== null && Number(errs[1]) > 0) console.log(`  (wrk connect errors: ${errs[1]})`);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1] ?? NaN);
}

async function main(): Promise<void> {
  if (spawnSync('wrk', ['--version']).error !== undefined) throw new Error('wrk is not installed: apt-get install -y --no-install-recommends wrk');
  const started = Date.now();
  const made: NodeNamespace[] = [];
  try {
    const node = await NodeNamespace.create('npbn');
    made.push(node);
    const client = await NodeNamespace.create('npbc');
    made.push(client);
    const server = await NodeNamespace.create('npbs');
    made.push(server);
    await link(node, client, 'vc0', CLIENT, '10.77.1.1');
    await link(node, server, 'vs0', SERVER, '10.77.2.1');
    await node.run(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    // A new connection per request: many ports, and TIME_WAIT ports reused (as wrk would need on any host).
    await client.run(['sysctl', '-q', '-w', 'net.ipv4.ip_local_port_range=1024 65000', 'net.ipv4.tcp_tw_reuse=1']);
    node.spawn([process.execPath, '-e', `require('http').createServer((q, s) => { s.setHeader('Connection', 'close'); s.end('ok\\n'); }).listen(8080, '${SERVER}')`], server.name);
    await nft(node, renderRuleset([{ ref: 'default/bench', vip: VIP, ports: [{ port: 80, targetPort: 8080, protocol: 'tcp' }], backends: [SERVER] }]).text);

    // 1. rule updates
    const times: number[] = [];
    const computeMs: number[] = [];
    const nftMs: number[] = [];
    let bytes = 0;
    for (let g = 0; g <= Number(values.updates); g++) {
      const t0 = process.hrtime.bigint();
      const text = renderNetpolRuleset(input(g));
      const t1 = process.hrtime.bigint();
      await nft(node, text);
      const t2 = process.hrtime.bigint();
      bytes = text.length;
      if (g === 0) continue; // the first one creates the table
      times.push(Number(t2 - t0) / 1e6);
      computeMs.push(Number(t1 - t0) / 1e6);
      nftMs.push(Number(t2 - t1) / 1e6);
    }
    console.log(`netpol rule update (1,000 tasks, 50 policies, ${(bytes / 1024).toFixed(0)} KiB of rules), ${times.length} updates: median ${pct(times, 0.5).toFixed(1)} ms, p90 ${pct(times, 0.9).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms (compute + nft -f, one transaction each; median compute ${pct(computeMs, 0.5).toFixed(1)} ms, nft -f ${pct(nftMs, 0.5).toFixed(1)} ms)`);

    // 2. VIP throughput, policies off vs on
    const probe = await client.run(['/bin/busybox', 'timeout', '5', '/bin/busybox', 'wget', '-q', '-O-', `http://${VIP}/`]);
    if (probe.stdout.trim() !== 'ok') throw new Error(`VIP not answering through the policies: ${probe.stderr}`);
    const off: number[] = [];
    const on: number[] = [];
    const policyText = renderNetpolRuleset(input(0));
    for (let round = 0; round < Number(values.rounds); round++) {
      await nft(node, renderNetpolRemoval());
      off.push(await wrk(client));
      await nft(node, policyText);
      on.push(await wrk(client));
    }
    const mOff = pct(off, 0.5);
    const mOn = pct(on, 0.5);
    console.log(`VIP req/s (new connection per request, wrk -t2 -c${values.connections} -d${values.seconds}s x ${values.rounds} interleaved rounds): policies off ${off.map((x) => x.toFixed(0)).join('/')}, on ${on.map((x) => x.toFixed(0)).join('/')}`);
    console.log(`median: off ${mOff.toFixed(0)}, on ${mOn.toFixed(0)} req/s: on/off ${(mOn / mOff).toFixed(2)}x`);
    console.log(`(whole run ${((Date.now() - started) / 1000).toFixed(0)} s, load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')})`);
  } finally {
    for (const ns of made.reverse()) await ns.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
