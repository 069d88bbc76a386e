/**
 * Network benchmark: requests/s and latency percentiles for the same small HTTP response,
 * measured in one run with wrk (Debian package `wrk`) from inside node 1's namespace:
 *
 *   direct   ─► task address 10.88.x.y:8080 (on node 2: a cross-node host-gw hop)
 *   VIP      ─► 10.96.a.b:80, DNATed by node 1's nftables rules to the same task
 *   ingress  ─► node 1's ingress proxy (Host: bench.test) ─► the same task over keep-alive
 *
 *   node --import tsx bench/network.ts [--seconds 5] [--rounds 3] [--connections 16] [--threads 2]
 *     [--server node|busybox]
 *
 * The three paths are measured in interleaved rounds (direct, VIP, ingress, direct, ...) and the
 * median round of each is printed, so a noisy neighbour slows all three alike.
 *
 * A 2-node cluster (test/helpers/cluster.ts: namespaces on an underlay bridge, real agents,
 * runc, registry), one `bench` task pinned to node 2: by default one Node.js http server with
 * keep-alive (bench/lib/node-image.ts: this machine's node binary in the image), so the figures
 * measure the path, not the server; `--server busybox` uses busybox httpd, which closes every
 * connection and forks per request (the earlier figures). All traffic stays in the namespaces
 * the harness made; everything is removed at the end, also on failure.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { Cluster, eventually } from '../test/helpers/cluster.js';
import { nodeServerImage } from './lib/node-image.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' }, connections: { type: 'string', default: '16' }, threads: { type: 'string', default: '2' }, server: { type: 'string', default: 'node' } } });
if (values.server !== 'node' && values.server !== 'busybox') throw new Error(`--server: expected node or busybox, got ${values.server}`);
const SECONDS = Number(values.seconds);
const INGRESS_PORT = 43_000 + Math.floor(Math.random() * 1_000);

interface Figures { rps: number; p50Ms: number; p99Ms: number; errors: number }

function toMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v.trim());
  if (m === null) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

/** Parses wrk's `--latency` output. */
function parseWrk(out: string): Figures {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const p50 = toMs(/\s50%\s+(\S+)/.exec(out)?.[1] ?? '');
  const p99 = toMs(/\s99%\s+(\S+)/.exec(out)?.[1] ?? '');
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const errors = (errs === null ? 0 : errs.slice(1).reduce((a, b) => a + Number(b), 0)) + non2xx;
  return { rps, p50Ms: p50, p99Ms: p99, errors };
}

async function wrk(c: Cluster, url: string, headers: string[] = []): Promise<Figures> {
  const argv = ['wrk', '-t', String(values.threads), '-c', String(values.connections), '-d', `${SECONDS}s`, '--timeout', '5s', '--latency', ...headers.flatMap((h) => ['-H', h]), url];
  const r = await c.exec('node1', argv, (SECONDS + 30) * 1000);
  if (r.code !== 0) throw new Error(`wrk ${url}: ${r.stderr}`);
  return parseWrk(r.stdout);
}

async function main(): Promise<void> {
  if (spawnSync('wrk', ['--version']).error !== undefined) throw new Error('wrk is not installed: apt-get install -y --no-install-recommends wrk');
  const started = Date.now();
  const c = await Cluster.start({ nodes: 2, agentArgs: () => ['--ingress-http', String(INGRESS_PORT)] });
  try {
    const node = values.server === 'node' ? nodeServerImage() : undefined;
    const image = node === undefined
      ? (await c.buildImage('bench/web', '1', { files: { 'www/index.html': 'hello, bench\n' } })).ref
      : (await c.buildImage('bench/node-web', '1', node)).ref;
    const command = JSON.stringify(node?.command ?? ['httpd', '-f', '-p', '8080', '-h', '/www']);
    await c.apply(`kind: Service
metadata: {name: bench}
spec:
  image: ${image}
  replicas: 1
  command: ${command}
  ports: [{port: 80, targetPort: 8080}]
  placement: {constraints: ["node.labels.node == node2"]}
---
kind: Ingress
metadata: {name: bench}
spec:
  rules: [{host: bench.test, paths: [{path: /, backend: {service: bench, port: 80}}]}]
`);
    const [task] = await c.runningTasks('bench', 1);
    const ip = task?.status?.ip ?? '';
    const vip = await eventually('VIP', 30_000, async () => (JSON.parse((await c.cli(['get', 'service', 'bench', '-o', 'json'])).stdout) as { status?: { vip?: string } }).status?.vip);
    await eventually('VIP answering on node1', 30_000, async () => ((await c.exec('node1', ['/bin/busybox', 'timeout', '3', '/bin/busybox', 'wget', '-q', '-O-', `http://${vip}/`])).code === 0 ? true : undefined));
    const paths: Array<[string, string, string[]]> = [
      ['direct', `http://${ip}:8080/`, []],
      ['VIP', `http://${vip}:80/`, []],
      ['ingress', `http://${c.node('node1').address}:${INGRESS_PORT}/`, ['Host: bench.test']],
    ];
    const runs = new Map<string, Figures[]>(paths.map(([n]) => [n, []]));
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const [name, url, headers] of paths) runs.get(name)?.push(await wrk(c, url, headers));
    }
    const median = (fs: Figures[]): Figures => [...fs].sort((a, b) => a.rps - b.rps)[Math.floor(fs.length / 2)] as Figures;
    const rows: Array<[string, Figures]> = paths.map(([n]) => [n, median(runs.get(n) ?? [])]);
    const direct = rows[0]?.[1] as Figures;
    console.log(`network bench: wrk -t${values.threads} -c${values.connections} -d${SECONDS}s x ${values.rounds} interleaved rounds (median round shown) from node1 to one ${values.server === 'node' ? 'Node.js http (keep-alive)' : 'busybox httpd'} task on node2 (task ${ip}, VIP ${vip})`);
    console.log(`all rounds req/s: ${[...runs].map(([n, fs]) => `${n} ${fs.map((f) => f.rps.toFixed(0)).join('/')}`).join(', ')}`);
    console.log('path      req/s    p50 ms   p99 ms   errors   vs direct (req/s)');
    for (const [name, f] of rows) {
      console.log(`${name.padEnd(8)} ${f.rps.toFixed(0).padStart(7)} ${f.p50Ms.toFixed(2).padStart(8)} ${f.p99Ms.toFixed(2).padStart(8)} ${String(f.errors).padStart(8)}   ${(f.rps / direct.rps).toFixed(2)}x`);
    }
    console.log(`(whole run ${((Date.now() - started) / 1000).toFixed(0)} s)`);
  } finally {
    for (const n of c.nodes) await c.exec(n.name, ['nft', 'delete', 'table', 'ip', 'flotilla']);
    await c.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
